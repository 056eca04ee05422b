"""Resampling against PyTorch (the oracle): interpolate in every mode, the Upsample modules, pixel (un)shuffle,
affine_grid and grid_sample (values, input and grid gradients, padding modes), signatures, repr and errors."""
import warnings

import numpy as np
import pytest

import tapegrad
import tapegrad.nn.functional as TF

from ._parity import np_, pair, same_signature, step

torch = pytest.importorskip("torch")


def _both(x, requires_grad=True):
    return tapegrad.tensor(x, requires_grad=requires_grad), torch.tensor(x, requires_grad=requires_grad)


def _check(fn_ours, fn_torch, inputs, tol=1e-12, seed=0):
    """Values and the gradient of every input against torch, float64."""
    ours, theirs = zip(*(_both(x) for x in inputs))
    yo, yt = fn_ours(*ours), fn_torch(*theirs)
    np.testing.assert_allclose(np_(yo), yt.detach().numpy(), rtol=tol, atol=tol, err_msg="output")
    g = np.random.default_rng(seed).standard_normal(tuple(yt.shape))
    yo.backward(tapegrad.tensor(g))
    yt.backward(torch.tensor(g))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(np_(a.grad), b.grad.numpy(), rtol=1e-10, atol=1e-10, err_msg=f"grad {i}")


@pytest.mark.parametrize("name", ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle",
                                  "PixelUnshuffle"])
def test_signature_matches_torch(name):
    same_signature(torch, name)


SIZES = [{"size": 7}, {"size": 1}, {"scale_factor": 2}, {"scale_factor": 1.7}, {"scale_factor": 0.6},
         {"scale_factor": 1.7, "recompute_scale_factor": True}, {"scale_factor": 3.0}]
MODES = [("nearest", (2, 3, 5)), ("nearest", (1, 2, 5, 6)), ("nearest", (1, 2, 3, 4, 5)),
         ("nearest-exact", (1, 2, 5, 6)), ("nearest-exact", (2, 3, 5)), ("area", (1, 2, 7, 9)),
         ("linear", (2, 3, 5)), ("bilinear", (1, 2, 5, 6)), ("trilinear", (1, 2, 3, 4, 5)), ("bicubic", (1, 2, 5, 6))]


# align_corners applies to the interpolating modes only (the error is tested below)
@pytest.mark.parametrize("mode,shape,align_corners",
                         [(m, s, a) for m, s in MODES
                          for a in ([None] if m in ("nearest", "nearest-exact", "area") else [None, False, True])])
@pytest.mark.parametrize("sizes", SIZES)
def test_interpolate_matches_torch(mode, shape, sizes, align_corners):
    x = np.random.default_rng(1).standard_normal(shape)
    kw = dict(sizes, mode=mode, align_corners=align_corners)
    _check(lambda t: TF.interpolate(t, **kw), lambda t: torch.nn.functional.interpolate(t, **kw), [x])


def test_interpolate_per_dim_scales_and_float32_indices_match_torch():
    x = np.random.default_rng(2).standard_normal((1, 2, 9, 10)).astype(np.float32)
    for kw in ({"scale_factor": (2.5, 0.5), "mode": "nearest"}, {"scale_factor": (1.1, 2.9), "mode": "nearest-exact"},
               {"size": (13, 3), "mode": "bilinear"}, {"scale_factor": (1.3, 0.7), "mode": "bicubic"}):
        yo = TF.interpolate(tapegrad.tensor(x), **kw)
        yt = torch.nn.functional.interpolate(torch.tensor(x), **kw)
        np.testing.assert_allclose(np_(yo), yt.numpy(), rtol=1e-5, atol=1e-5)


def test_interpolate_nearest_on_integers_matches_torch():
    x = np.arange(42, dtype=np.uint8).reshape(1, 1, 6, 7)
    yo = TF.interpolate(tapegrad.tensor(x), scale_factor=1.5)
    assert yo.dtype == tapegrad.uint8
    np.testing.assert_array_equal(np_(yo), torch.nn.functional.interpolate(torch.tensor(x), scale_factor=1.5).numpy())


@pytest.mark.parametrize("kwargs,shape,exc,match", [
    ({"size": 3, "scale_factor": 2}, (1, 1, 4), ValueError, "only one of size or scale_factor"),
    ({}, (1, 1, 4), ValueError, "either size or scale_factor"),
    ({"size": 3, "align_corners": True}, (1, 1, 4), ValueError, "align_corners option can only be set"),
    ({"size": 3, "mode": "bilinear"}, (1, 1, 4), NotImplementedError, "bilinear mode needs 4D input"),
    ({"size": (3, 3)}, (1, 1, 4), ValueError, "same number of spatial dimensions"),
    ({"size": 3, "scale_factor": None, "recompute_scale_factor": True}, (1, 1, 4), ValueError,
     "recompute_scale_factor is not meaningful"),
])
def test_interpolate_errors_like_torch(kwargs, shape, exc, match):
    with pytest.raises(exc, match=match):
        TF.interpolate(tapegrad.ones(*shape), **kwargs)
    with pytest.raises(exc, match=match):
        torch.nn.functional.interpolate(torch.ones(*shape), **kwargs)


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("Upsample", (), {"scale_factor": 2}, (2, 3, 4)),
    ("Upsample", (), {"size": (5, 3), "mode": "bilinear"}, (1, 2, 3, 4)),
    ("Upsample", (), {"scale_factor": (1.5, 2.0), "mode": "bicubic", "align_corners": True}, (1, 2, 3, 4)),
    ("Upsample", (), {"scale_factor": 1.5, "mode": "trilinear", "recompute_scale_factor": True}, (1, 1, 2, 3, 4)),
    ("UpsamplingNearest2d", (), {"scale_factor": 3}, (1, 2, 3, 2)),
    ("UpsamplingBilinear2d", (), {"size": 5}, (1, 2, 3, 2)),
    ("PixelShuffle", (2,), {}, (2, 8, 3, 4)),
    ("PixelShuffle", (3,), {}, (9, 2, 2)),
    ("PixelUnshuffle", (2,), {}, (2, 2, 4, 6)),
])
def test_module_matches_torch(name, args, kwargs, shape):
    ours, theirs = pair(torch, name, *args, **kwargs)
    step(torch, ours, theirs, np.random.default_rng(3).standard_normal(shape), tol=1e-12)


def test_pixel_shuffle_errors_like_torch():
    for fn, shape, r in (("pixel_shuffle", (1, 5, 2, 2), 2), ("pixel_unshuffle", (1, 1, 3, 4), 2)):
        with pytest.raises(RuntimeError, match="divisible"):
            getattr(TF, fn)(tapegrad.ones(*shape), r)
        with pytest.raises(RuntimeError, match="divisible"):
            getattr(torch.nn.functional, fn)(torch.ones(*shape), r)


@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 1, 1, 3), (2, 2, 3, 1, 4)])
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_matches_torch(size, align_corners):
    theta = np.random.default_rng(4).standard_normal((size[0],) + ((2, 3) if len(size) == 4 else (3, 4)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # torch warns about unit-size grids with align_corners=True
        _check(lambda t: TF.affine_grid(t, size, align_corners=align_corners),
               lambda t: torch.nn.functional.affine_grid(t, size, align_corners=align_corners), [theta])


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("nd", [2, 3])
def test_grid_sample_matches_torch_with_input_and_grid_gradients(mode, padding_mode, align_corners, nd):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4, 5) if nd == 2 else (2, 3, 3, 4, 5))
    grid = rng.uniform(-1.6, 1.6, (2, 3, 6, 2) if nd == 2 else (2, 2, 3, 4, 3))
    grid[0, 0, 0], grid[0, 0, 1], grid[1, 1, 2] = -1, 1, 0.5                   # corners and a pixel centre
    kw = {"mode": mode, "padding_mode": padding_mode, "align_corners": align_corners}
    # nearest: the grid's gradient is zeros (not None), as PyTorch's
    _check(lambda t, g: TF.grid_sample(t, g, **kw), lambda t, g: torch.nn.functional.grid_sample(t, g, **kw),
           [x, grid])


def test_grid_sample_of_an_identity_affine_grid_is_the_input():
    x = tapegrad.arange(12.).reshape(1, 1, 3, 4)
    grid = TF.affine_grid(tapegrad.tensor([[[1., 0., 0.], [0., 1., 0.]]]), (1, 1, 3, 4), align_corners=False)
    np.testing.assert_allclose(np_(TF.grid_sample(x, grid, align_corners=False)), np_(x), atol=1e-6)
