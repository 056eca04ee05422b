"""``F.interpolate(..., antialias=True)`` against PyTorch: bilinear and bicubic, downsampling and upsampling, both
``align_corners``, sizes and scale factors; values and input gradients (first and second order), float32, the
``Upsample``-free functional path only (PyTorch's modules have no antialias option), and the errors."""
import numpy as np
import pytest

import tapegrad
from tapegrad.nn import functional as TF

torch = pytest.importorskip("torch")

SIZES = [{"size": (3, 4)}, {"size": (7, 13)}, {"size": (1, 1)}, {"scale_factor": 0.3}, {"scale_factor": (0.5, 1.7)},
         {"scale_factor": 0.37, "recompute_scale_factor": True}, {"size": (9, 11)}]


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("sizes", SIZES, ids=[str(s) for s in SIZES])
def test_antialias_matches_torch(mode, align_corners, sizes):
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 11))
    kw = dict(sizes, mode=mode, align_corners=align_corners, antialias=True)
    xo, xt = tapegrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = TF.interpolate(xo, **kw), torch.nn.functional.interpolate(xt, **kw)
    assert tuple(yo.shape) == tuple(yt.shape)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-13)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    yo.backward(tapegrad.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_antialias_changes_downsampling_as_torch_does():
    # a checkerboard averages to grey with antialiasing; plain bilinear samples it (aliasing)
    x = np.indices((16, 16)).sum(0) % 2 * 1.0
    kw = {"size": (5, 5), "mode": "bilinear"}
    aa = TF.interpolate(tapegrad.tensor(x[None, None]), antialias=True, **kw).numpy()
    plain = TF.interpolate(tapegrad.tensor(x[None, None]), **kw).numpy()
    np.testing.assert_allclose(aa, torch.nn.functional.interpolate(torch.tensor(x[None, None]), antialias=True,
                                                                    **kw).numpy(), atol=1e-13)
    assert np.abs(aa - 0.5).max() < 0.1 < np.abs(plain - aa).max()


def test_antialias_float32_and_second_order_match_torch():
    x = np.random.default_rng(2).standard_normal((1, 2, 8, 6)).astype(np.float32)
    kw = {"size": (3, 5), "mode": "bicubic", "antialias": True}
    got = TF.interpolate(tapegrad.tensor(x), **kw)
    assert got.dtype == tapegrad.float32
    np.testing.assert_allclose(got.numpy(), torch.nn.functional.interpolate(torch.tensor(x), **kw).numpy(),
                               rtol=1e-5, atol=1e-6)
    xo, xt = tapegrad.tensor(x.astype(np.float64), requires_grad=True), torch.tensor(x.astype(np.float64),
                                                                                     requires_grad=True)
    go, = tapegrad.autograd.grad((TF.interpolate(xo, **kw) ** 3).sum(), xo, create_graph=True)
    gt, = torch.autograd.grad((torch.nn.functional.interpolate(xt, **kw) ** 3).sum(), xt, create_graph=True)
    (go ** 2).sum().backward()
    (gt ** 2).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode,shape", [("nearest", (1, 1, 4, 4)), ("linear", (1, 1, 4)), ("area", (1, 1, 4, 4)),
                                        ("trilinear", (1, 1, 2, 2, 2))])
def test_antialias_is_refused_where_torch_refuses_it(mode, shape):
    with pytest.raises(ValueError, match="Anti-alias option is restricted to bilinear"):
        TF.interpolate(tapegrad.ones(*shape), size=(2,) * (len(shape) - 2), mode=mode, antialias=True)
    with pytest.raises(ValueError, match="Anti-alias option is restricted to bilinear"):
        torch.nn.functional.interpolate(torch.ones(*shape), size=(2,) * (len(shape) - 2), mode=mode, antialias=True)


def test_an_output_width_of_one_resamples_the_height_as_torch_does_transposed():
    # torch 2.13's antialiased kernel returns the first row everywhere when the output width is 1 and the height
    # changes ([0.5, 0.5, 0.5] below); the same resampling with the dims swapped gives [0.5, 1.5, 2.5] there,
    # which is what tapegrad gives both ways (the op database skips these draws when comparing with torch)
    x = np.arange(4.0).reshape(1, 1, 2, 2)
    ours = TF.interpolate(tapegrad.tensor(x), size=(3, 1), mode="bilinear", antialias=True).numpy().ravel()
    swapped = torch.nn.functional.interpolate(torch.tensor(x).transpose(2, 3), size=(1, 3), mode="bilinear",
                                              antialias=True).numpy().ravel()
    np.testing.assert_allclose(ours, swapped, atol=1e-15)
    np.testing.assert_allclose(ours, [0.5, 1.5, 2.5])
    theirs = torch.nn.functional.interpolate(torch.tensor(x), size=(3, 1), mode="bilinear", antialias=True)
    assert theirs.numpy().ravel().tolist() == [0.5, 0.5, 0.5]
