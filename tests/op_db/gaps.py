"""OpSpecs for what was added to close the gaps of issues 10/11: ``max_unpool3d`` and the special functions of
ops/special_fns.py (``special_*`` are ``tapegrad.special``'s; their forward is checked against torch), and
``grid_sample`` bicubic, ``interpolate(antialias=True)``, ``adaptive_max_pool3d``, ``lp_pool3d`` and
``channel_shuffle``.

Shapes are tiny (full Jacobians; the CUDA simulator runs the same specs).
"""
import numpy as np
from hypothesis import strategies as st

import tapegrad
from tapegrad.nn import functional as TF

from . import Example, OpSpec, add
from .elementwise import binary, named, near, unary
from .pooling import _adaptive_ties, _pool_shapes, _ref_adaptive, _ref_lp, _ref_unpool, _torch, _unpool_index
from .resample import _grid_kinks, _grid_kwargs

add(OpSpec("max_unpool3d", lambda x, i, **kw: TF.max_unpool3d(x, i, **kw), _ref_unpool(3),
           _pool_shapes(3, lo=1), lambda shapes: st.just({"kernel_size": 2}),
           int_args=(1,), index_args=_unpool_index(3), covers=("setitem",), torch_fn=_torch("max_unpool3d")))


# the special functions of ops/special_fns.py: xlog1py (a primitive) and composed ones (CUDA coverage)
def _xlog1py(x, y):
    with np.errstate(all="ignore"):
        return np.where((x == 0) & ~np.isnan(y), 0.0, x * np.log1p(y)).astype(x.dtype)


def _special(name):
    return lambda torch, *a: getattr(torch.special, name)(*a)


add(OpSpec("special_xlog1py", tapegrad.special.xlog1py, _xlog1py, binary(), domain=[(-2.0, 2.0), (-0.9, 3.0)],
           covers=("xlog1py",), examples=(Example([[0.0, 0.0, 2.0, 0.0], [-1.0, 2.0, 0.0, -2.0]], kink=True),),
           torch_fn=_special("xlog1py")))
add(OpSpec("sinc", tapegrad.sinc, lambda x: np.sinc(x).astype(x.dtype), unary(), domain=(-2.5, 2.5),
           avoid=lambda x: near(x, 0.0), examples=(Example([[0.0, 1.0, -0.5]], kink=True),), covers=("sin", "where"),
           torch_fn=named("sinc")))
add(OpSpec("i0", tapegrad.i0, lambda x: np.i0(x).astype(x.dtype), unary(), domain=(-4.0, 4.0),
           covers=("multiply",), torch_fn=named("i0")))
add(OpSpec("special_i1e", tapegrad.special.i1e, None, unary(), domain=(-4.0, 4.0), torch_fn=_special("i1e"),
           covers=("exp",),
           avoid=lambda x: near(x, 0.0)))     # exp(-|x|): the second derivative jumps at 0
add(OpSpec("special_erfcx", tapegrad.special.erfcx, None, unary(), domain=(-3.0, 3.0),
           covers=("erfc",), torch_fn=_special("erfcx")))
add(OpSpec("special_log_ndtr", tapegrad.special.log_ndtr, None, unary(), domain=(-4.0, 4.0),
           covers=("erfc", "log1p"), torch_fn=_special("log_ndtr")))
add(OpSpec("mvlgamma", lambda x, **kw: tapegrad.mvlgamma(x, **kw), None, unary(), domain=(1.6, 4.0),
           kwargs=lambda shapes: st.fixed_dictionaries({"p": st.sampled_from([1, 3])}),
           covers=("lgamma",), torch_fn=lambda torch, x, p: torch.mvlgamma(x, p)))


# grid_sample bicubic (4-D only): the forward is checked against torch; kinks (the cubic kernel is C1 at the
# integer coordinates, and the padding folds at the borders) are avoided as for bilinear
@st.composite
def _bicubic_case(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    sizes = tuple(draw(st.integers(1, 4)) for _ in range(2))
    out = tuple(draw(st.integers(1, 2)) for _ in range(2))
    return ((n, c) + sizes, (n,) + out + (2,))


add(OpSpec("grid_sample_bicubic", lambda x, g, **kw: TF.grid_sample(x, g, mode="bicubic", **kw), None,
           _bicubic_case(), _grid_kwargs, domain=[(-2.0, 2.0), (-1.4, 1.4)], avoid=_grid_kinks,
           covers=("where", "floor", "getitem", "index_put_add"), fwd_atol=1e-5,
           torch_fn=lambda torch, x, g, **kw: torch.nn.functional.grid_sample(x, g, mode="bicubic", **kw)))


# interpolate(antialias=True): bilinear and bicubic, down- and upsampling (forward checked against torch)
@st.composite
def _aa_case(draw):       # spatial sizes from 2, so that every scale factor drawn keeps an output pixel
    return ((draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(2, 6)), draw(st.integers(2, 6))),)


def _aa_kwargs(mode):
    def kwargs(shapes):
        size = st.fixed_dictionaries({"size": st.tuples(*[st.integers(1, 5)] * 2)})
        scale = st.fixed_dictionaries({"scale_factor": st.sampled_from([0.5, 0.7, 1.5])},
                                      optional={"recompute_scale_factor": st.booleans()})
        return st.tuples(st.one_of(size, scale), st.booleans()).map(
            lambda t: {**t[0], "mode": mode, "align_corners": t[1], "antialias": True})
    return kwargs


def _torch_aa_width_one(x, size=None, scale_factor=None, recompute_scale_factor=None, **kw):
    """torch 2.13's antialiased kernel returns the first row everywhere when the output width is 1 and the
    height changes (tests/nn/test_interpolate_gaps.py shows it): such draws are not compared."""
    h, w = x.shape[-2:]
    oh, ow = size if size is not None else (int(h * scale_factor), int(w * scale_factor))
    return ow == 1 and oh != h


for _mode in ("bilinear", "bicubic"):
    add(OpSpec(f"interpolate_antialias_{_mode}", lambda x, **kw: TF.interpolate(x, **kw), None, _aa_case(),
               _aa_kwargs(_mode), avoid=_torch_aa_width_one, covers=("matmul",), fwd_atol=1e-5,
               torch_fn=lambda torch, x, **kw: torch.nn.functional.interpolate(x, **kw)))


# the 3-D pooling forms of nn/_functional/pooling_extra.py, and channel_shuffle
add(OpSpec("adaptive_max_pool3d", lambda x, **kw: TF.adaptive_max_pool3d(x, **kw), _ref_adaptive(3, np.max),
           _pool_shapes(3, lo=1),
           lambda shapes: st.fixed_dictionaries({"output_size": st.tuples(*[st.integers(1, 3)] * 3)}),
           avoid=_adaptive_ties(3), covers=("adaptive_max_pool_indices", "getitem", "index_put_add"),
           torch_fn=_torch("adaptive_max_pool3d")))
add(OpSpec("lp_pool3d", lambda x, **kw: TF.lp_pool3d(x, **kw), _ref_lp(3), _pool_shapes(3),
           lambda shapes: st.fixed_dictionaries({"norm_type": st.sampled_from([1.0, 2.0, 3.0]),
                                                 "kernel_size": st.integers(1, 3),
                                                 "stride": st.one_of(st.none(), st.integers(1, 2)),
                                                 "ceil_mode": st.booleans()}),
           domain=(0.5, 2.0), covers=("power", "conv"), torch_fn=_torch("lp_pool3d"), atol=1e-5, fwd_atol=1e-5))


@st.composite
def _shuffle_shapes(draw):
    return ((draw(st.integers(1, 2)), 6) + tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(1, 2)))),)


def _ref_shuffle(x, groups):
    n, c = x.shape[:2]
    return x.reshape((n, groups, c // groups) + x.shape[2:]).swapaxes(1, 2).reshape(x.shape)


add(OpSpec("channel_shuffle", lambda x, **kw: TF.channel_shuffle(x, **kw), _ref_shuffle, _shuffle_shapes(),
           lambda shapes: st.fixed_dictionaries({"groups": st.sampled_from([1, 2, 3, 6])}),
           covers=("reshape", "transpose"), torch_fn=_torch("channel_shuffle")))
