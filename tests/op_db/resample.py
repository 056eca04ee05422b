"""OpSpecs for resampling through nn.functional: interpolate (every mode), pixel_shuffle/unshuffle, affine_grid,
grid_sample (bilinear, every padding mode).

The NumPy references loop over output positions with PyTorch's formulas,
written independently of tapegrad's (one gather per dim). grid_sample's
random draws keep the sampled coordinates away from integer pixel positions
and from the padding modes' borders (kinks of the piecewise bilinear map);
kink examples at pixel centres and corners compare with PyTorch.
"""
import itertools
import math

import numpy as np
from hypothesis import strategies as st

from tapegrad.nn import functional as TF

from . import Example, OpSpec, add
from .reduction import GAP


# ----------------------------------------------------------------- interpolate
def _scale(n, o, s, align, linear):
    if linear and align:
        return (n - 1) / (o - 1) if o > 1 else 0.0
    return 1.0 / s if s else n / o


def _taps(n, o, s, mode, align):
    """Per output position: [(source index, weight)] along one dim."""
    out = []
    for i in range(o):
        if mode in ("nearest", "nearest-exact"):
            sc = np.float32(1.0 / s) if s else np.float32(n) / np.float32(o)
            off = np.float32(0.5) if mode == "nearest-exact" else np.float32(0)
            out.append([(min(int(np.floor((np.float32(i) + off) * sc)), n - 1), 1.0)])
            continue
        sc = _scale(n, o, s, align, True)
        src = sc * i if align else sc * (i + 0.5) - 0.5
        if mode == "bicubic":
            b = math.floor(src)
            t, a = src - b, -0.75
            near = lambda v: ((a + 2) * v - (a + 3)) * v * v + 1                     # noqa: E731
            far = lambda v: ((a * v - 5 * a) * v + 8 * a) * v - 4 * a                 # noqa: E731
            w = (far(t + 1), near(t), near(1 - t), far(2 - t))
            out.append([(min(max(b - 1 + k, 0), n - 1), w[k]) for k in range(4)])
        else:
            src = max(src, 0.0)
            i0 = min(int(src), n - 1)
            lam = min(max(src - i0, 0.0), 1.0)
            out.append([(i0, 1 - lam), (min(i0 + 1, n - 1), lam)])
    return out


def _ref_interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None,
                     recompute_scale_factor=None):
    nd = x.ndim - 2
    if size is not None:
        out, scales = (tuple(size) if isinstance(size, (tuple, list)) else (size,) * nd), (None,) * nd
    else:
        scales = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nd
        out = tuple(int(math.floor(n * s)) for n, s in zip(x.shape[2:], scales))
        if recompute_scale_factor:
            scales = (None,) * nd
    y = x.astype(np.float64)
    for d in reversed(range(nd)):
        taps = _taps(x.shape[2 + d], out[d], scales[d], mode, bool(align_corners))
        moved = np.moveaxis(y, 2 + d, -1)
        res = np.stack([sum(moved[..., j] * w for j, w in t) for t in taps], -1)
        y = np.moveaxis(res, -1, 2 + d)
    return y.astype(x.dtype)


@st.composite
def _interp_case(draw, mode):
    nd = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode, draw(st.integers(1, 2)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + tuple(draw(st.integers(1, 4)) for _ in range(nd))
    return (shape,)


def _interp_kwargs(mode):
    def kwargs(shapes):
        nd = len(shapes[0]) - 2
        align = st.just(None) if mode.startswith("nearest") else st.sampled_from([None, False, True])
        size = st.fixed_dictionaries({"size": st.tuples(*[st.integers(1, 5)] * nd)})
        scale = st.fixed_dictionaries({"scale_factor": st.sampled_from([2.0, 1.5, 3.0, 1.7])},
                                      optional={"recompute_scale_factor": st.booleans()})
        return st.tuples(st.one_of(size, scale), align).map(lambda t: {**t[0], "mode": mode, "align_corners": t[1]})
    return kwargs


for _mode in ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"):
    add(OpSpec(f"interpolate_{_mode}", lambda x, **kw: TF.interpolate(x, **kw), _ref_interpolate, _interp_case(_mode),
               _interp_kwargs(_mode), covers=("getitem", "index_put_add", "multiply", "add"),
               torch_fn=lambda torch, x, **kw: torch.nn.functional.interpolate(x, **kw), fwd_atol=1e-5))


# ----------------------------------------------------------------- pixel shuffle
def _ref_shuffle(x, upscale_factor):
    r = upscale_factor
    *lead, c, h, w = x.shape
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    k = len(lead)
    return y.transpose(*range(k), k, k + 3, k + 1, k + 4, k + 2).reshape(*lead, c // (r * r), h * r, w * r)


def _ref_unshuffle(x, downscale_factor):
    r = downscale_factor
    *lead, c, h, w = x.shape
    k = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r).transpose(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


@st.composite
def _shuffle_case(draw, unshuffle):
    r = draw(st.integers(1, 2))
    lead = draw(st.sampled_from([(), (1,), (2,)]))
    c = draw(st.integers(1, 2)) * (1 if unshuffle else r * r)
    sp = tuple(draw(st.integers(1, 2)) * (r if unshuffle else 1) for _ in range(2))
    return ((lead + (c,) + sp),), r


add(OpSpec("pixel_shuffle", lambda x, **kw: TF.pixel_shuffle(x, **kw), _ref_shuffle,
           _shuffle_case(False).map(lambda t: t[0]),
           lambda shapes: st.sampled_from([r for r in (1, 2) if shapes[0][-3] % (r * r) == 0]).map(
               lambda r: {"upscale_factor": r}),
           covers=("reshape", "transpose"),
           torch_fn=lambda torch, x, **kw: torch.nn.functional.pixel_shuffle(x, **kw)))
add(OpSpec("pixel_unshuffle", lambda x, **kw: TF.pixel_unshuffle(x, **kw), _ref_unshuffle,
           _shuffle_case(True).map(lambda t: t[0]),
           lambda shapes: st.sampled_from([r for r in (1, 2) if shapes[0][-1] % r == 0 and shapes[0][-2] % r == 0]
                                          ).map(lambda r: {"downscale_factor": r}),
           covers=("reshape", "transpose"),
           torch_fn=lambda torch, x, **kw: torch.nn.functional.pixel_unshuffle(x, **kw)))


# ----------------------------------------------------------------- affine_grid
def _lin(n, align):
    if n <= 1:
        return np.zeros(1)
    r = np.linspace(-1, 1, n)
    return r if align else r * (n - 1) / n


def _ref_affine_grid(theta, size, align_corners=False):
    sp = size[2:]
    axes = np.meshgrid(*[_lin(s, align_corners) for s in sp], indexing="ij")
    base = np.stack(list(axes)[::-1] + [np.ones(sp)], -1).reshape(-1, len(sp) + 1)
    return np.einsum("pk,njk->npj", base, theta).reshape((theta.shape[0],) + tuple(sp) + (len(sp),)).astype(
        theta.dtype)


@st.composite
def _theta_case(draw):
    nd = draw(st.integers(2, 3))
    n = draw(st.integers(1, 2))
    return ((n, nd, nd + 1),)


def _affine_kwargs(shapes):
    n, nd = shapes[0][:2]
    return st.fixed_dictionaries({"size": st.tuples(st.just(n), st.integers(1, 2),
                                                    *[st.integers(2, 3)] * nd).map(list),
                                  "align_corners": st.booleans()})


add(OpSpec("affine_grid", lambda t, **kw: TF.affine_grid(t, **kw), _ref_affine_grid, _theta_case(), _affine_kwargs,
           covers=("matmul",), torch_fn=lambda torch, t, **kw: torch.nn.functional.affine_grid(t, **kw)))


# ----------------------------------------------------------------- grid_sample
def _unnorm(c, n, align):
    return (c + 1) / 2 * (n - 1) if align else ((c + 1) * n - 1) / 2


def _reflect(c, lo2, hi2):
    if lo2 == hi2:
        return 0.0
    lo, span = lo2 / 2, (hi2 - lo2) / 2
    c = abs(c - lo)
    extra, flips = math.fmod(c, span), math.floor(c / span)
    return extra + lo if flips % 2 == 0 else span - extra + lo


def _coord(c, n, pad, align):
    c = _unnorm(c, n, align)
    if pad == "reflection":
        c = _reflect(c, 0, 2 * (n - 1)) if align else _reflect(c, -1, 2 * n - 1)
    if pad in ("border", "reflection"):
        c = min(max(c, 0), n - 1)
    return c


def _ref_grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
    n, c = x.shape[:2]
    sizes = x.shape[2:]
    nd = len(sizes)
    out = np.zeros((n, c) + grid.shape[1:-1])
    for b in range(n):
        for pos in itertools.product(*(range(o) for o in grid.shape[1:-1])):
            g = grid[(b,) + pos]
            src = [_coord(float(g[nd - 1 - i]), sizes[i], padding_mode, align_corners) for i in range(nd)]
            for corner in itertools.product(*((math.floor(s), math.floor(s) + 1) for s in src)):
                if all(0 <= k < m for k, m in zip(corner, sizes)):
                    wgt = np.prod([1 - abs(s - k) for s, k in zip(src, corner)])
                    out[(b, slice(None)) + pos] += x[(b, slice(None)) + corner] * wgt
    return out.astype(x.dtype)


@st.composite
def _grid_case(draw):
    nd = draw(st.integers(2, 3))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    sizes = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    out = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    return ((n, c) + sizes, (n,) + out + (nd,))


def _grid_kwargs(shapes):
    return st.fixed_dictionaries({"padding_mode": st.sampled_from(["zeros", "border", "reflection"]),
                                  "align_corners": st.booleans()})


def _grid_kinks(x, grid, padding_mode="zeros", align_corners=False, **kw):
    """True when a sampled coordinate (before and after padding) is within GAP of an integer or a border."""
    nd = x.ndim - 2
    for g in grid.reshape(-1, nd):
        for v, n in zip(g, x.shape[2:][::-1]):
            raw = _unnorm(float(v), n, align_corners)
            pts = [raw, _coord(float(v), n, padding_mode, align_corners)]
            if padding_mode == "reflection":
                span = (n - 1) if align_corners else n
                pts.append((raw + (0 if align_corners else 0.5)) / max(span, 1e-9))
            if any(abs(p - round(p)) < GAP for p in pts):
                return True
    return False


add(OpSpec("grid_sample", lambda x, g, **kw: TF.grid_sample(x, g, **kw), _ref_grid_sample, _grid_case(),
           _grid_kwargs, domain=[(-2.0, 2.0), (-1.4, 1.4)], avoid=_grid_kinks,
           covers=("where", "floor", "getitem", "index_put_add"), fwd_atol=1e-5,
           torch_fn=lambda torch, x, g, **kw: torch.nn.functional.grid_sample(x, g, **kw),
           examples=tuple(Example([np.arange(12.).reshape(1, 1, 3, 4) / 7, np.array([[[[0., 0.], [-1., -1.], [1., 1.],
                                                                                        [1.2, -0.5]]]])],
                                  {"padding_mode": p, "align_corners": a}, kink=True)
                          for p in ("zeros", "border", "reflection") for a in (False, True))))
