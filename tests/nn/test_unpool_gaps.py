"""``nn.MaxUnpool3d`` / ``F.max_unpool3d`` against PyTorch: values, input gradients, ``output_size``, unbatched
inputs, ``repr`` and errors."""
import inspect

import numpy as np
import pytest

import tapegrad
from tapegrad import nn
from tapegrad.nn import functional as TF

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().cpu().numpy()


@pytest.mark.parametrize("kernel,kw,shape,out_size", [
    (2, {}, (2, 3, 4, 4, 4), None),
    (3, {"stride": 2, "padding": 1}, (1, 2, 5, 5, 5), None),
    ((2, 1, 2), {"stride": (2, 1, 1)}, (2, 4, 3, 4), None),          # unbatched, anisotropic window
    (2, {}, (1, 1, 4, 4, 4), (5, 5, 5)),                             # output_size within a stride of the default
    (2, {"stride": 1}, (1, 1, 3, 3, 3), None),                       # overlapping windows: repeated indices
])
def test_max_unpool3d_matches_torch(kernel, kw, shape, out_size):
    x = np.random.default_rng(1).permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)
    vt, it = torch.nn.functional.max_pool3d(torch.tensor(x), kernel, return_indices=True, **kw)
    vt = vt.clone().requires_grad_()
    vo = tapegrad.tensor(vt.detach().numpy(), requires_grad=True)
    io = tapegrad.tensor(it.numpy())
    ours, theirs = nn.MaxUnpool3d(kernel, **kw), torch.nn.MaxUnpool3d(kernel, **kw)
    assert repr(ours) == repr(theirs)
    yo, yt = ours(vo, io, output_size=out_size), theirs(vt, it, output_size=out_size)
    assert tuple(yo.shape) == tuple(yt.shape)
    np.testing.assert_array_equal(_np(yo), yt.detach().numpy())
    g = np.random.default_rng(0).standard_normal(tuple(yt.shape))
    yo.backward(tapegrad.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(_np(vo.grad), vt.grad.numpy(), atol=1e-12)


def test_max_unpool3d_round_trips_our_own_max_pool3d():
    x = tapegrad.tensor(np.random.default_rng(2).standard_normal((1, 2, 4, 6, 4)))
    v, i = TF.max_pool3d(x, 2, return_indices=True)
    y = TF.max_unpool3d(v, i, 2)
    np.testing.assert_array_equal(_np(TF.max_pool3d(y, 2)), _np(v))
    assert int((y != 0).sum()) == v.numel()


def test_signatures_are_torchs():
    for ours, theirs in ((nn.MaxUnpool3d, torch.nn.MaxUnpool3d),
                         (TF.max_unpool3d, torch.nn.functional.max_unpool3d)):
        got = [(p.name, p.default) for p in inspect.signature(ours).parameters.values()]
        want = [(p.name, p.default) for p in inspect.signature(theirs).parameters.values()]
        assert got == want
    assert nn.modules.pooling.MaxUnpool3d is nn.MaxUnpool3d


def test_max_unpool3d_errors_like_torch():
    v, i = tapegrad.ones(1, 1, 2, 2, 2), tapegrad.tensor(np.full((1, 1, 2, 2, 2), 64))
    with pytest.raises(RuntimeError, match="Found an invalid max index: 64"):
        TF.max_unpool3d(v, i, 2)
    with pytest.raises(ValueError, match="invalid output_size"):
        TF.max_unpool3d(v, tapegrad.zeros(1, 1, 2, 2, 2, dtype=tapegrad.int64), 2, output_size=(9, 9, 9))
    with pytest.raises(RuntimeError, match="max_unpool3d"):
        TF.max_unpool3d(tapegrad.ones(2, 2), tapegrad.zeros(2, 2, dtype=tapegrad.int64), 2)
