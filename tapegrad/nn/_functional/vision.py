"""Spatial transformers: ``affine_grid`` and ``grid_sample`` (4-D and 5-D; bilinear and nearest; bicubic in 4-D),
as PyTorch.

# Note [grid_sample composed]
``grid_sample`` is composed of recorded ops, so gradients reach both the input
and the grid: each of the 4 (or 8) corner values is a gather (``getitem``) of
the input laid out as ``(N * H * W, C)``, and its weight is a product of distances
to the floored coordinates (``floor`` has no gradient, so the derivative in
the grid is PyTorch's). Padding modes act on the unnormalized coordinate:
``border`` clamps it and ``reflection`` folds it back, both through ``where``
with masks computed from the values, so, as in PyTorch, a coordinate exactly
on a border gets no gradient; with ``zeros`` a corner outside the input
contributes nothing (its gathered index is clamped and its weight masked).
"""
import itertools

from ... import _creation as C
from ...ops.elementwise import where
from ...ops.joining import stack
from ...ops.indexing import getitem_op
from ...ops.registry import apply

__all__ = ["affine_grid", "grid_sample"]


def _base(n, align_corners, like):
    """PyTorch's ``linspace_from_neg_one``: pixel centres in [-1, 1] (corner pixels' centres when aligned)."""
    if n <= 1:
        return C.zeros(1, dtype=like.dtype, device=like.device)
    r = C.linspace(-1, 1, n, dtype=like.dtype, device=like.device)
    return r if align_corners else r * ((n - 1) / n)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of a batch of affine maps, as ``torch.nn.functional.affine_grid``.

    Args:
        theta: ``(N, 2, 3)`` for a 2-D ``size`` ``(N, C, H, W)``, or ``(N, 3, 4)`` for ``(N, C, D, H, W)``.
        size: the output image's size.
        align_corners: -1 and 1 are the corner pixels' centres (else their outer edges); default False.

    Returns:
        ``(N, H, W, 2)`` (or ``(N, D, H, W, 3)``) coordinates ``(x, y[, z])`` in [-1, 1] for ``grid_sample``.

    Example:
        >>> import tapegrad
        >>> theta = tapegrad.tensor([[[1., 0., 0.], [0., 1., 0.]]])
        >>> tapegrad.nn.functional.affine_grid(theta, (1, 1, 1, 2), align_corners=True)
        tensor([[[[-1.,  0.],
                  [ 1.,  0.]]]])
    """
    align_corners = bool(align_corners)
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got "
                             f"{list(theta.shape)}.")
        spatial = size[2:]
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got "
                             f"{list(theta.shape)}.")
        spatial = size[2:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise ValueError(f"affine_grid: theta's batch of {theta.shape[0]} does not match size[0]={size[0]}")
    nd = len(spatial)
    axes = [_base(s, align_corners, theta) for s in spatial]          # (D,) H, W
    cols = []
    for i in range(nd):                                                # x varies along the last dim, then y, z
        ax = nd - 1 - i
        shape = [1] * nd
        shape[ax] = spatial[ax]
        cols.append(axes[ax].reshape(shape).expand(*spatial))
    cols.append(C.ones(*spatial, dtype=theta.dtype, device=theta.device))
    base = stack(cols, -1).reshape(-1, nd + 1)
    grid = base @ theta.transpose(1, 2)                                # (N, prod(spatial), nd)
    return grid.reshape(size[0], *spatial, nd)


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _clip(coord, size):
    """Clamp to ``[0, size - 1]``; the bounds themselves get no gradient (PyTorch's ``clip_coordinates_set_grad``)."""
    c = coord.detach()
    return where(c <= 0, 0.0, where(c >= size - 1, float(size - 1), coord))


def _reflect(coord, twice_low, twice_high):
    """PyTorch's ``reflect_coordinates``: fold ``coord`` into ``[twice_low / 2, twice_high / 2]``."""
    if twice_low == twice_high:
        return coord * 0
    lo, span = twice_low / 2, (twice_high - twice_low) / 2
    t = coord - lo
    t = where(t.detach() < 0, -t, t)
    flips = (t.detach() / span).floor()
    extra = t - flips * span
    return where(flips.remainder(2) == 0, extra + lo, (span - extra) + lo)


def _source(coord, size, padding_mode, align_corners):
    return _pad(_unnormalize(coord, size, align_corners), size, padding_mode, align_corners)


def _pad(coord, size, padding_mode, align_corners):
    """PyTorch's ``compute_coordinates``: an unnormalized coordinate moved inside by the padding mode."""
    if padding_mode == "border":
        coord = _clip(coord, size)
    elif padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners else _reflect(coord, -1, 2 * size - 1)
        coord = _clip(coord, size)
    return coord


_A = -0.75     # PyTorch's cubic convolution coefficient (Keys' kernel)


def _cubic_weights(t):
    """The weights of the taps at offsets -1, 0, 1, 2 from the floor, for the fraction ``t`` past it."""
    def near(x):            # |x| <= 1
        return ((_A + 2) * x - (_A + 3)) * x * x + 1

    def far(x):             # 1 < |x| < 2
        return ((_A * x - 5 * _A) * x + 8 * _A) * x - 4 * _A
    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _bicubic(flat, grid, sizes, n_off, padding_mode, align_corners, dtype):
    """Note [grid_sample bicubic]: 16 taps around the floored coordinate, each a gather weighted by the cubic
    kernel of the fraction. The padding mode moves each tap's integer position (PyTorch's
    ``get_value_bounded``), so the grid's gradient comes from the weights alone, as in PyTorch."""
    coords = [_unnormalize(grid[..., 1 - i], sizes[i], align_corners) for i in range(2)]       # y, x
    lows = [p.detach().floor() for p in coords]
    weights = [_cubic_weights(p - lo) for p, lo in zip(coords, lows)]
    out = None
    for a, b in itertools.product(range(4), repeat=2):
        pos = [_pad(lo + (d - 1), n, padding_mode, align_corners).detach()
               for lo, d, n in zip(lows, (a, b), sizes)]
        val, inside = _corner(flat, pos, sizes, n_off)
        term = val * (weights[0][a] * weights[1][b] * inside.to(dtype)).unsqueeze(-1)
        out = term if out is None else out + term
    return out


def _corner(flat, pos, sizes, n_off):
    """``(value, inside)``: the rows of ``flat`` (N * prod(sizes), C) at integer positions ``pos`` (one per
    spatial dim, outermost first, each (N, *out)), clamped into the input, and a mask of those inside it."""
    inside, idx = None, n_off
    for p, n in zip(pos, sizes):
        ok = (p >= 0) & (p <= n - 1)
        inside = ok if inside is None else inside & ok
        idx = idx * n + p.clamp(0, n - 1).long()
    return apply(getitem_op, flat, key=(idx._data,)), inside


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` at the ``grid``'s normalized locations, as ``torch.nn.functional.grid_sample``.

    Args:
        input: ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        grid: ``(N, H_out, W_out, 2)`` with ``(x, y)`` (or ``(N, D_out, H_out, W_out, 3)`` with ``(x, y, z)``)
            in [-1, 1]: -1 is the left/top/front, 1 the right/bottom/back.
        mode: ``"bilinear"`` (trilinear for 5-D), ``"nearest"`` (half to even, as PyTorch's ``nearbyint``) or
            ``"bicubic"`` (4-D only, PyTorch's cubic kernel with A = -0.75; Note [grid_sample bicubic]).
        padding_mode: ``"zeros"``, ``"border"`` or ``"reflection"`` for locations outside the input.
        align_corners: as ``affine_grid``; default False.

    Returns:
        ``(N, C, *out)``; gradients reach the input and (bilinear) the grid (Note [grid_sample composed]).

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[[[1., 2.], [3., 4.]]]])
        >>> grid = tapegrad.tensor([[[[0., 0.], [-1., -1.]]]])
        >>> tapegrad.nn.functional.grid_sample(x, grid, align_corners=True)
        tensor([[[[2.5000, 1.0000]]]])
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if input.ndim not in (4, 5):
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    nd = input.ndim - 2
    if grid.ndim != input.ndim or grid.shape[-1] != nd or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid of shape (N, *out, {nd}) with N={input.shape[0]}, but "
                           f"got grid with sizes {list(grid.shape)}")
    if input.dtype != grid.dtype or not input.dtype.is_floating_point:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same floating-point dtype, but "
                           f"input has {input.dtype} and grid has {grid.dtype}")
    if mode == "bicubic" and input.ndim != 4:
        raise RuntimeError(f"grid_sampler(): bicubic interpolation only supports 4D input, got input of sizes "
                           f"{list(input.shape)}")
    align_corners = bool(align_corners)
    n, c = input.shape[:2]
    sizes = tuple(input.shape[2:])                                       # (D,) H, W
    flat = input.permute(0, *range(2, 2 + nd), 1).reshape(-1, c)
    n_off = C.arange(n, device=input.device).reshape((n,) + (1,) * nd)
    if mode == "bicubic":
        return _bicubic(flat, grid, sizes, n_off, padding_mode, align_corners, input.dtype).permute(0, 3, 1, 2)
    # grid's last dim is (x, y[, z]): x indexes the last spatial dim
    coords = [_source(grid[..., nd - 1 - i], sizes[i], padding_mode, align_corners) for i in range(nd)]
    if mode == "nearest":
        val, inside = _corner(flat, [p.detach().round() for p in coords], sizes, n_off)
        out = val * inside.to(input.dtype).unsqueeze(-1)
        if grid.requires_grad:     # PyTorch's grid gradient is zeros here, not None: join the grid with a 0 term
            out = out + where(inside & ~inside, sum(coords), 0.0).unsqueeze(-1)
    else:
        lows = [p.detach().floor() for p in coords]
        out = None
        for corner in itertools.product((0, 1), repeat=nd):             # PyTorch's order: tnw, tne, ... bse
            weight = None
            for p, lo, d in zip(coords, lows, corner):
                f = (p - lo) if d else (lo + 1 - p)
                weight = f if weight is None else weight * f
            val, inside = _corner(flat, [lo + d for lo, d in zip(lows, corner)], sizes, n_off)
            term = val * (weight * inside.to(input.dtype)).unsqueeze(-1)
            out = term if out is None else out + term
    return out.permute(0, nd + 1, *range(1, nd + 1))
