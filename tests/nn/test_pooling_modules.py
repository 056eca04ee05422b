"""Pooling modules and functions against PyTorch (the oracle): signatures, repr, outputs, input gradients
(ties go to the first maximum), indices, unbatched inputs, ceil_mode, max unpooling and errors."""
import numpy as np
import pytest

import tapegrad
from tapegrad import nn
import tapegrad.nn.functional as TF

from ._parity import np_, pair, same_signature, step

torch = pytest.importorskip("torch")

NAMES = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "LPPool1d", "LPPool2d",
         "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
         "MaxUnpool1d", "MaxUnpool2d"]


def _x(*shape, seed=1, ties=True):
    x = np.random.default_rng(seed).standard_normal(shape)
    return x.round(0) if ties else x          # rounding makes many windows tie


@pytest.mark.parametrize("name", NAMES)
def test_signature_matches_torch(name):
    same_signature(torch, name)


CASES = [
    ("MaxPool1d", (3,), {}, (2, 3, 10)),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True}, (3, 9)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 7)),
    ("MaxPool2d", ((3, 2),), {"stride": (2, 1), "padding": (1, 0), "ceil_mode": True}, (2, 2, 7, 6)),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "dilation": 2}, (3, 8, 8)),
    ("MaxPool3d", (2,), {"stride": 1, "padding": 1}, (1, 2, 3, 4, 3)),
    ("MaxPool3d", ((2, 1, 3),), {"ceil_mode": True}, (2, 3, 5, 5)),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}, (2, 3, 8)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1}, (2, 3, 7, 6)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}, (3, 8, 8)),
    ("AvgPool2d", ((2, 3),), {"divisor_override": 5}, (1, 2, 5, 7)),
    ("AvgPool3d", (2,), {"stride": 1, "padding": 1, "count_include_pad": False}, (1, 2, 3, 4, 3)),
    ("LPPool1d", (2, 3), {"stride": 2}, (2, 3, 9)),
    ("LPPool2d", (1.5, 2), {"ceil_mode": True}, (2, 3, 5, 5)),
    ("AdaptiveAvgPool1d", (3,), {}, (2, 3, 7)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d", (1,), {}, (3, 4, 4)),
    ("AdaptiveAvgPool3d", ((2, 3, 1),), {}, (1, 2, 5, 7, 3)),
    ("AdaptiveMaxPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveMaxPool2d", ((2, 3),), {}, (2, 3, 7, 5)),
    ("AdaptiveMaxPool2d", (5,), {}, (2, 3, 3)),                 # windows overlap when upsampling
]


@pytest.mark.parametrize("name,args,kwargs,shape", CASES)
def test_module_matches_torch(name, args, kwargs, shape):
    ours, theirs = pair(torch, name, *args, **kwargs)
    x = np.abs(_x(*shape)) + 0.5 if name.startswith("LP") else _x(*shape)
    step(torch, ours, theirs, x, tol=1e-12)


@pytest.mark.parametrize("name,args,kwargs,shape", [c for c in CASES if "Max" in c[0]])
def test_return_indices_match_torch(name, args, kwargs, shape):
    ours = getattr(nn, name)(*args, return_indices=True, **kwargs)
    theirs = getattr(torch.nn, name)(*args, return_indices=True, **kwargs)
    x = _x(*shape, seed=3)
    (vo, io), (vt, it) = ours(tapegrad.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_array_equal(np_(vo), vt.numpy())
    np.testing.assert_array_equal(np_(io), it.numpy())
    assert io.dtype == tapegrad.int64


def test_max_pool_nan_and_minus_inf_follow_torch():
    x = np.array([[[1., np.nan, 3., np.nan, 0., 2., -np.inf, -np.inf, 5.]]])
    for kw in ({"kernel_size": 3}, {"kernel_size": 2, "padding": 1},
               {"kernel_size": 3, "stride": 2, "ceil_mode": True}):
        vo, io = TF.max_pool1d(tapegrad.tensor(x), return_indices=True, **kw)
        vt, it = torch.nn.functional.max_pool1d(torch.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(np_(vo), vt.numpy())
        np.testing.assert_array_equal(np_(io), it.numpy())


def test_max_pool_gradient_goes_to_the_first_maximum():
    x = tapegrad.ones(1, 1, 4, 4, requires_grad=True)
    TF.max_pool2d(x, 3, stride=1, padding=1).sum().backward()
    xt = torch.ones(1, 1, 4, 4, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, 3, stride=1, padding=1).sum().backward()
    np.testing.assert_array_equal(np_(x.grad), xt.grad.numpy())


@pytest.mark.parametrize("nd,kernel,kw,shape", [(1, 3, {"stride": 2, "padding": 1}, (2, 2, 9)),
                                                (2, 2, {}, (2, 3, 6, 6)),
                                                (2, 3, {"stride": 1}, (1, 4, 4)),                # duplicate indices
                                                (2, 2, {"output_size": (7, 7)}, (1, 2, 6, 6))])
def test_max_unpool_matches_torch(nd, kernel, kw, shape):
    out_size = kw.pop("output_size", None)
    x = _x(*shape, seed=4, ties=False)
    vt, it = getattr(torch.nn.functional, f"max_pool{nd}d")(torch.tensor(x), kernel, return_indices=True, **kw)
    vt = vt.clone().requires_grad_()
    vo = tapegrad.tensor(vt.detach().numpy(), requires_grad=True)
    io = tapegrad.tensor(it.numpy())
    ours = getattr(nn, f"MaxUnpool{nd}d")(kernel, **kw)
    theirs = getattr(torch.nn, f"MaxUnpool{nd}d")(kernel, **kw)
    assert repr(ours) == repr(theirs)
    yo, yt = ours(vo, io, output_size=out_size), theirs(vt, it, output_size=out_size)
    np.testing.assert_array_equal(np_(yo), yt.detach().numpy())
    g = np.random.default_rng(0).standard_normal(tuple(yt.shape))
    yo.backward(tapegrad.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(np_(vo.grad), vt.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("fn,args,kwargs,exc,match", [
    ("max_pool2d", ((1, 1, 4, 4), 2), {"padding": 2}, RuntimeError, "pad should be at most half"),
    ("max_pool2d", ((1, 1, 1, 1), 2), {}, RuntimeError, "Output size is too small"),
    ("max_pool2d", ((1, 4, 4), 2), {"stride": 0}, RuntimeError, "stride should not be zero"),
    ("max_pool2d", ((4, 4), 2), {}, RuntimeError, "3D"),
    ("avg_pool2d", ((1, 1, 4, 4), 2), {"padding": 2}, RuntimeError, "pad should be at most half"),
    ("adaptive_avg_pool2d", ((4, 4), 2), {}, RuntimeError, "3D or 4D"),
    ("adaptive_max_pool2d", ((4, 4), 2), {}, RuntimeError, "3D or 4D"),
])
def test_errors_like_torch(fn, args, kwargs, exc, match):
    shape, rest = args[0], args[1:]
    with pytest.raises(exc, match=match):
        getattr(TF, fn)(tapegrad.ones(*shape), *rest, **kwargs)
    with pytest.raises(exc, match=match):
        getattr(torch.nn.functional, fn)(torch.ones(*shape), *rest, **kwargs)


def test_max_unpool_rejects_an_index_out_of_range_like_torch():
    v, i = tapegrad.ones(1, 1, 2, 2), tapegrad.tensor([[[[0, 1], [2, 99]]]])
    with pytest.raises(RuntimeError, match="Found an invalid max index: 99"):
        TF.max_unpool2d(v, i, 2)
    with pytest.raises(ValueError, match="invalid output_size"):
        TF.max_unpool2d(v, tapegrad.zeros(1, 1, 2, 2, dtype=tapegrad.int64), 2, output_size=(9, 9))


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
@pytest.mark.parametrize("nd,kw", [(2, {"kernel_size": 2}), (2, {"kernel_size": 3, "padding": 1, "stride": 2,
                                                                   "ceil_mode": True}),
                                   (3, {"kernel_size": 2, "padding": 1})])
def test_integer_max_pooling_matches_torch(dtype, nd, kw):
    x = np.random.default_rng(6).integers(0, 100, (2, 3) + (5,) * nd).astype(dtype)
    (vo, io), (vt, it) = (getattr(m.nn.functional, f"max_pool{nd}d")(m.tensor(x), return_indices=True, **kw)
                          for m in (tapegrad, torch))
    assert vo.dtype == getattr(tapegrad, dtype)
    np.testing.assert_array_equal(np_(vo), vt.numpy())
    np.testing.assert_array_equal(np_(io), it.numpy())


@pytest.mark.parametrize("fn,kw,shape", [
    ("max_pool2d", {"kernel_size": 5, "stride": 2, "padding": 2, "ceil_mode": True}, (2, 3, 9, 8)),
    ("max_pool2d", {"kernel_size": (3, 6), "dilation": (2, 1), "padding": (1, 3)}, (1, 2, 7, 9)),
    ("max_pool1d", {"kernel_size": 17, "padding": 8, "stride": 3}, (2, 30)),
    ("max_pool3d", {"kernel_size": 3, "padding": 1, "stride": 2}, (1, 2, 5, 4, 5)),
    ("adaptive_max_pool2d", {"output_size": 1}, (2, 3, 7, 8)),
    ("adaptive_max_pool2d", {"output_size": (2, 3)}, (2, 3, 9, 11)),
    ("adaptive_max_pool1d", {"output_size": 2}, (2, 3, 40)),
])
@pytest.mark.parametrize("special", [None, "nan", "-inf", "all -inf"])
def test_windows_of_many_taps_match_torch(fn, kw, shape, special):
    """More than 16 taps per window take the argmax path: ties, NaN (the last one wins) and -inf as torch."""
    x = _x(*shape, seed=7)                         # rounded: many ties
    if special == "all -inf":                      # every window keeps its first element inside the input
        x[:] = -np.inf
    elif special:
        flat = x.reshape(-1)
        flat[np.random.default_rng(8).choice(flat.size, flat.size // 3, replace=False)] = float(special)
    (vo, io), (vt, it) = (getattr(m.nn.functional, fn)(m.tensor(x), return_indices=True, **kw)
                          for m in (tapegrad, torch))
    np.testing.assert_array_equal(np_(vo), vt.numpy())
    np.testing.assert_array_equal(np_(io), it.numpy())
    if special is None:
        xo, xt = tapegrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        getattr(TF, fn)(xo, **kw).sum().backward()
        getattr(torch.nn.functional, fn)(xt, **kw).sum().backward()
        np.testing.assert_array_equal(np_(xo.grad), xt.grad.numpy())
