"""``F.grid_sample(mode="bicubic")`` against PyTorch: values, input and grid gradients for every padding mode and
both ``align_corners``, second derivatives, and the errors (5-D input, unknown modes)."""
import numpy as np
import pytest

import tapegrad
from tapegrad.nn import functional as TF

torch = pytest.importorskip("torch")


def _case(seed, shape=(2, 3, 5, 6), out=(4, 7), lo=-1.4, hi=1.4):
    rng = np.random.default_rng(seed)
    grid = rng.uniform(lo, hi, (shape[0],) + out + (2,))
    grid[0, 0, 0], grid[0, 0, 1], grid[-1, -1, -1] = -1, 1, 0.2       # the corners, and a point near a centre
    return rng.standard_normal(shape), grid


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_bicubic_matches_torch_with_input_and_grid_gradients(padding_mode, align_corners):
    x, grid = _case(1)
    kw = {"mode": "bicubic", "padding_mode": padding_mode, "align_corners": align_corners}
    xo, go = tapegrad.tensor(x, requires_grad=True), tapegrad.tensor(grid, requires_grad=True)
    xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(grid, requires_grad=True)
    yo, yt = TF.grid_sample(xo, go, **kw), torch.nn.functional.grid_sample(xt, gt, **kw)
    assert tuple(yo.shape) == tuple(yt.shape)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = np.random.default_rng(2).standard_normal(tuple(yt.shape))
    yo.backward(tapegrad.tensor(w))
    yt.backward(torch.tensor(w))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(go.grad.numpy(), gt.grad.numpy(), rtol=1e-10, atol=1e-11)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflection"])
def test_bicubic_far_outside_and_tiny_inputs_match_torch(padding_mode):
    for shape, lo, hi in (((1, 1, 1, 1), -1.5, 1.5), ((1, 2, 2, 3), -4.0, 4.0)):
        x, grid = _case(3, shape, (3, 3), lo, hi)
        kw = {"mode": "bicubic", "padding_mode": padding_mode, "align_corners": False}
        np.testing.assert_allclose(TF.grid_sample(tapegrad.tensor(x), tapegrad.tensor(grid), **kw).numpy(),
                                   torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(grid), **kw).numpy(),
                                   rtol=1e-12, atol=1e-12)


def test_bicubic_second_derivatives_match_torch():
    x, grid = _case(4, (1, 2, 4, 4), (2, 3))
    kw = {"mode": "bicubic", "padding_mode": "border", "align_corners": True}
    xo, go = tapegrad.tensor(x, requires_grad=True), tapegrad.tensor(grid, requires_grad=True)
    xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(grid, requires_grad=True)
    gxo, ggo = tapegrad.autograd.grad((TF.grid_sample(xo, go, **kw) ** 2).sum(), (xo, go), create_graph=True)
    gxt, ggt = torch.autograd.grad((torch.nn.functional.grid_sample(xt, gt, **kw) ** 2).sum(), (xt, gt),
                                   create_graph=True)
    ((gxo ** 2).sum() + (ggo ** 2).sum()).backward()
    ((gxt ** 2).sum() + (ggt ** 2).sum()).backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(go.grad.numpy(), gt.grad.numpy(), rtol=1e-9, atol=1e-10)


def test_bicubic_errors_like_torch():
    x5, g5 = tapegrad.ones(1, 1, 2, 2, 2), tapegrad.zeros(1, 1, 1, 1, 3)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        TF.grid_sample(x5, g5, mode="bicubic", align_corners=False)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        torch.nn.functional.grid_sample(torch.ones(1, 1, 2, 2, 2), torch.zeros(1, 1, 1, 1, 3), mode="bicubic",
                                        align_corners=False)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or 'bicubic'"):
        TF.grid_sample(tapegrad.ones(1, 1, 2, 2), tapegrad.zeros(1, 1, 1, 2), mode="area")
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or 'bicubic'"):
        torch.nn.functional.grid_sample(torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 1, 2), mode="area")
