"""Resampling: ``interpolate`` (``upsample``, ``upsample_nearest``, ``upsample_bilinear``), ``pixel_shuffle`` and
``pixel_unshuffle``, with PyTorch's rules.

# Note [interpolation one dim at a time]
Every mode is separable, so ``interpolate`` resamples one spatial dim at a
time, last first (PyTorch's bilinear formula ``h0 (w0 x00 + w1 x01) + h1 (...)``
is that order): nearest modes are one gather along the dim, linear modes two
gathers and a weighted sum, bicubic four. Gathers are recorded ``getitem`` ops
(whose VJP is ``scatter_add``), so gradients of every order come free. Source
indices and weights are computed on the input's device in its dtype
(float32 for nearest), with PyTorch's formulas (``area_pixel_compute_source_index``,
``nearest_idx``), so indices agree exactly.
"""
import math

from ... import _creation as C
from ... import _dtype as D
from ...ops.indexing import getitem_op
from ...ops.registry import apply

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle"]

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic", "area")
_LINEAR_RANK = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}


def _take(x, axis, idx):
    """``x`` gathered at int64 positions ``idx`` along ``axis``: one recorded getitem along the leading dim.

    Gathering rows of the leading dim keeps the VJP (``scatter_add``) on the backend's fast row kernel;
    an index after slices would take NumPy's slow ``add.at``.
    """
    if axis == 0:
        return apply(getitem_op, x, key=(idx._data,))
    return apply(getitem_op, x.movedim(axis, 0), key=(idx._data,)).movedim(0, axis)


def _sizes(input, size, scale_factor, recompute_scale_factor, mode):
    """``(output sizes, scale factors or None)`` per spatial dim, as ``torch.nn.functional.interpolate``."""
    nd = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        out = tuple(size) if isinstance(size, (list, tuple)) else (size,) * nd
        if len(out) != nd:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input with "
                             f"spatial dimensions of {list(input.shape[2:])} and output size of {size}.")
        if not all(isinstance(o, int) and not isinstance(o, bool) for o in out):
            raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, int], "
                            f"but got size with types {[type(o) for o in out]}")
        scales = None
    elif scale_factor is not None:
        scales = tuple(scale_factor) if isinstance(scale_factor, (list, tuple)) else (scale_factor,) * nd
        if len(scales) != nd:
            raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got input "
                             f"with spatial dimensions of {list(input.shape[2:])} and scale_factor of shape "
                             f"{scale_factor}.")
        out = tuple(int(math.floor(float(n) * float(s))) for n, s in zip(input.shape[2:], scales))
        if recompute_scale_factor or mode == "area":
            scales = None
    else:
        raise ValueError("either size or scale_factor should be defined")
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"(sizes {list(input.shape[2:])}) and output (sizes {list(out)})")
    return out, scales


def _nearest(x, axis, n, o, scale, exact):
    if o == n and not exact:
        return x
    f32 = D.float32
    s = C.tensor(1.0 / scale if scale else float(n), dtype=f32, device=x.device)
    if not scale:
        s = s / o
    pos = C.arange(o, dtype=f32, device=x.device)
    if exact:
        pos = pos + 0.5
    idx = (pos * s).floor().long().clamp(max=n - 1)
    return _take(x, axis, idx)


def _source(x, n, o, scale, align_corners, cubic):
    """PyTorch's ``area_pixel_compute_source_index`` for every output position, in ``x``'s dtype."""
    dt = x.dtype
    pos = C.arange(o, dtype=dt, device=x.device)
    if align_corners:
        s = C.tensor(float(n - 1), dtype=dt, device=x.device) / (o - 1) if o > 1 else 0.0
        return pos * s
    s = C.tensor(1.0 / scale if scale else float(n), dtype=dt, device=x.device)
    if not scale:
        s = s / o
    src = s * (pos + 0.5) - 0.5
    return src if cubic else src.clamp(min=0)


def _linear(x, axis, n, o, scale, align_corners):
    src = _source(x, n, o, scale, align_corners, cubic=False)
    i0 = src.floor().clamp(max=n - 1)
    l1 = (src - i0).clamp(0, 1)
    i0 = i0.long()
    i1 = (i0 + 1).clamp(max=n - 1)
    shape = (-1,) + (1,) * (x.ndim - 1 - axis)
    return _take(x, axis, i0) * (1 - l1).reshape(shape) + _take(x, axis, i1) * l1.reshape(shape)


def _cubic_weights(t, a=-0.75):
    def near(v):
        return ((a + 2) * v - (a + 3)) * v * v + 1

    def far(v):
        return ((a * v - 5 * a) * v + 8 * a) * v - 4 * a
    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _cubic(x, axis, n, o, scale, align_corners):
    src = _source(x, n, o, scale, align_corners, cubic=True)
    base = src.floor()
    weights = _cubic_weights(src - base)
    base = base.long()
    shape = (-1,) + (1,) * (x.ndim - 1 - axis)
    out = None
    for k, w in enumerate(weights):
        term = _take(x, axis, (base + (k - 1)).clamp(0, n - 1)) * w.reshape(shape)
        out = term if out is None else out + term
    return out


def _aa_filter(mode):
    if mode == "bilinear":
        return lambda x: max(0.0, 1.0 - abs(x))
    a = -0.5                 # PyTorch's antialiased bicubic uses PIL's kernel (a = -0.5), not -0.75

    def cubic(x):
        x = abs(x)
        if x < 1:
            return ((a + 2) * x - (a + 3)) * x * x + 1
        return (((x - 5) * x + 8) * x - 4) * a if x < 2 else 0.0
    return cubic


def _antialias(x, axis, n, o, scale, align_corners, mode):
    """Note [antialiased interpolation]: PyTorch's separable antialiasing (``_upsample_*_aa``), one dim at a time.

    Output ``i`` averages the inputs within ``support`` of ``center = scale * (i + 0.5)`` with the filter
    stretched by ``scale`` when downsampling, weights normalized to sum to 1; as a dense ``(o, n)`` weight
    matrix (computed in float64) applied with one matmul, so gradients of every order come free.
    """
    if align_corners:
        scale = (n - 1) / (o - 1) if o > 1 else 0.0
    else:
        scale = 1.0 / scale if scale else n / o
    interp = 2 if mode == "bilinear" else 4
    support = interp * 0.5 * scale if scale >= 1.0 else interp * 0.5
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    width = math.ceil(support) * 2 + 1
    f = _aa_filter(mode)
    rows = []
    for i in range(o):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        size = min(max(min(int(center + support + 0.5), n) - lo, 0), width)
        w = [f((j + lo - center + 0.5) * invscale) for j in range(size)]
        total = sum(w)
        row = [0.0] * n
        for j, v in enumerate(w):
            row[lo + j] = v / total if total != 0 else v
        rows.append(row)
    weight = C.tensor(rows, dtype=D.float64, device=x.device).to(x.dtype)
    return (x.movedim(axis, -1) @ weight.transpose(0, 1)).movedim(-1, axis)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resample ``(N, C, *S)`` to ``size`` or ``S * scale_factor``, as ``torch.nn.functional.interpolate``.

    Args:
        input: ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        size: the output's spatial size (an int or one per dim); or
        scale_factor: a multiplier (or one per dim); the output size is ``floor(S * scale_factor)``.
        mode: ``"nearest"``, ``"nearest-exact"``, ``"linear"`` (3-D), ``"bilinear"``/``"bicubic"`` (4-D),
            ``"trilinear"`` (5-D) or ``"area"`` (adaptive average pooling).
        align_corners: for the interpolating modes, map the corner pixels' centres onto each other.
        recompute_scale_factor: with ``scale_factor``, use ``S / output size`` as the scale instead.
        antialias: for ``"bilinear"``/``"bicubic"``, average over the footprint of each output pixel when
            downsampling, as PyTorch (Note [antialiased interpolation]).

    Returns:
        The resampled tensor (Note [interpolation one dim at a time]).

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[[1., 2.]]])
        >>> tapegrad.nn.functional.interpolate(x, scale_factor=2)
        tensor([[[1., 1., 2., 2.]]])
        >>> tapegrad.nn.functional.interpolate(x, size=3, mode="linear", align_corners=True)
        tensor([[[1.0000, 1.5000, 2.0000]]])
    """
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported; tapegrad supports "
                                  f"{' | '.join(_MODES)}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
                                  f"the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
                                  f"nearest-exact (got {mode})")
    if mode in _LINEAR_RANK and input.ndim != _LINEAR_RANK[mode]:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_LINEAR_RANK[mode]}D input")
    if antialias and not (mode in ("bilinear", "bicubic") and input.ndim == 4):
        raise ValueError(f"Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor "
                         f"as input (got mode {mode!r} and a {input.ndim}-D input)")
    if not input.dtype.is_floating_point and mode != "nearest":
        raise RuntimeError(f"interpolate: mode {mode!r} needs a floating-point input, got {input.dtype}")
    out, scales = _sizes(input, size, scale_factor, recompute_scale_factor, mode)
    if mode == "area":
        from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[input.ndim - 3](input, out)
    y = input
    for d in reversed(range(input.ndim - 2)):
        n, o, s = input.shape[2 + d], out[d], None if scales is None else scales[d]
        if antialias:
            y = _antialias(y, 2 + d, n, o, s, align_corners, mode)
        elif mode in ("nearest", "nearest-exact"):
            y = _nearest(y, 2 + d, n, o, s, mode == "nearest-exact")
        elif mode == "bicubic":
            y = _cubic(y, 2 + d, n, o, s, align_corners)
        else:
            y = _linear(y, 2 + d, n, o, s, align_corners)
    return y


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate`` (as in PyTorch).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.upsample(tapegrad.ones(1, 1, 2), scale_factor=2).shape
        tapegrad.Size([1, 1, 4])
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode="nearest")``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.upsample_nearest(tapegrad.ones(1, 1, 2, 2), size=3).shape
        tapegrad.Size([1, 1, 3, 3])
    """
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode="bilinear", align_corners=True)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.upsample_bilinear(tapegrad.ones(1, 1, 2, 2), scale_factor=2).shape
        tapegrad.Size([1, 1, 4, 4])
    """
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _check_shuffle(name, input, factor, what):
    if not isinstance(factor, int) or isinstance(factor, bool) or factor <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {factor!r}")
    if input.ndim < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input with {input.ndim} "
                           f"dimension(s)")


def pixel_shuffle(input, upscale_factor):
    """``(*, C r^2, H, W)`` to ``(*, C, H r, W r)``: channel blocks become ``r x r`` pixel blocks.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.pixel_shuffle(tapegrad.arange(4.).reshape(4, 1, 1), 2)
        tensor([[[0., 1.],
                 [2., 3.]]])
    """
    r = upscale_factor
    _check_shuffle("pixel_shuffle", input, r, "upscale_factor")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    k = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """``(*, C, H r, W r)`` to ``(*, C r^2, H, W)``: the inverse of ``pixel_shuffle``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.pixel_unshuffle(tapegrad.arange(4.).reshape(1, 2, 2), 2).flatten()
        tensor([0., 1., 2., 3.])
    """
    r = downscale_factor
    _check_shuffle("pixel_unshuffle", input, r, "downscale_factor")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        what, size = ("height", h) if h % r else ("width", w)
        raise RuntimeError(f"pixel_unshuffle expects {what} to be divisible by downscale_factor, but input.size("
                           f"{-2 if h % r else -1})={size} is not divisible by {r}")
    k = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)
