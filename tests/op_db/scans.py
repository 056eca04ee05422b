"""OpSpecs for tapegrad/ops/scans.py: cumsum, cumprod, cummax/cummin, logcumsumexp, diff, nansum, nanmean,
var_mean/std_mean, aminmax, count_nonzero."""
import numpy as np
from hypothesis import strategies as st

import tapegrad

from . import Example, OpSpec, add
from .elementwise import named, same
from .reduction import _keep, axis, nonzero, reduce_kwargs, shape, ties

NAN = float("nan")
_TIES = np.array([[3.0, 1.0, 3.0], [0.0, 0.0, 0.0], [2.0, -1.0, 2.0]])


def one_dim(shapes):
    """``{"dim": d}`` with ``d`` any valid (maybe negative) dim of the first input."""
    n = max(len(shapes[0]), 1)
    return st.fixed_dictionaries({"dim": st.integers(-n, n - 1)})


def _along(f):
    """A NumPy scan ``f(x, axis)`` as a reference taking PyTorch's ``dim`` (0-d inputs stay 0-d)."""
    def ref(x, dim):
        return f(x.reshape(1), 0).reshape(()) if x.ndim == 0 else f(x, dim)
    return _keep(ref)


add(OpSpec("cumsum", lambda x, **kw: tapegrad.cumsum(x, **kw), _along(np.cumsum), shape(max_side=4), one_dim,
           covers=("cumsum", "flip"), torch_fn=named("cumsum")))
add(OpSpec("cumsum_method", lambda x, **kw: x.cumsum(**kw), _along(np.cumsum), shape(min_dims=1, max_side=3), one_dim,
           covers=("cumsum",), torch_fn=same(lambda x, **kw: x.cumsum(**kw))))
# Away from 0 for random draws (the quotient form's second derivative cancels near 0, as in PyTorch);
# exact zeros (one, two, a line of them) take Note [cumprod with zeros]'s path.
_ZEROS = ([[0.0, 2.0, 3.0], [0.5, 0.0, 0.0]], [[0.0, 0.0, 0.0], [1.0, 2.0, 0.5]], [[1.5, 0.0, 2.0], [2.0, -1.0, 0.0]])
add(OpSpec("cumprod", lambda x, **kw: tapegrad.cumprod(x, **kw), _along(np.cumprod), shape(max_side=4), one_dim,
           domain=nonzero(0.5, 1.5), covers=("cumprod", "cumsum", "flip", "where"),
           examples=tuple(Example([x], {"dim": d}) for d in (0, 1) for x in _ZEROS), torch_fn=named("cumprod")))
add(OpSpec("logcumsumexp", lambda x, **kw: tapegrad.logcumsumexp(x, **kw), _along(np.logaddexp.accumulate),
           shape(max_side=4), one_dim, domain=(-5.0, 5.0), covers=("logcumsumexp",),
           examples=(Example([[[-30.0, 0.0, 40.0], [500.0, -500.0, 1.0]]], {"dim": 1}),
                     Example([[[1.0, 1.0, 1.0]]], {"dim": -1})),
           torch_fn=named("logcumsumexp")))

for _name, _acc in (("cummax", np.maximum.accumulate), ("cummin", np.minimum.accumulate)):
    add(OpSpec(f"{_name}_values", lambda x, _n=_name, **kw: getattr(tapegrad, _n)(x, **kw).values, _along(_acc),
               shape(max_side=4), one_dim, avoid=ties, covers=("cum_extreme_index", "getitem"),
               examples=tuple(Example([_TIES], {"dim": d}, kink=True) for d in (0, 1)),
               torch_fn=lambda torch, x, _n=_name, **kw: getattr(torch, _n)(x, **kw).values))
    add(OpSpec(f"{_name}_method_values", lambda x, _n=_name, **kw: getattr(x, _n)(**kw)[0], _along(_acc),
               shape(min_dims=1, max_side=3), one_dim, avoid=ties, covers=("cum_extreme_index",),
               torch_fn=lambda torch, x, _n=_name, **kw: getattr(x, _n)(**kw)[0]))


def _diff_kwargs(shapes):
    n = max(len(shapes[0]), 1)
    return st.fixed_dictionaries({"n": st.integers(0, 2), "dim": st.integers(-n, n - 1)})


add(OpSpec("diff", lambda x, **kw: tapegrad.diff(x, **kw), _keep(lambda x, n, dim: np.diff(x, n, dim)),
           shape(min_dims=1, max_side=4), _diff_kwargs, covers=("narrow", "subtract"), torch_fn=named("diff")))
add(OpSpec("diff_prepend_append", lambda x, p, a: x.diff(1, 0, p, a),
           lambda x, p, a: np.diff(np.concatenate([p, x, a]), 1, 0),
           st.tuples(st.just((3, 2)), st.just((1, 2)), st.just((2, 2))), covers=("cat", "narrow", "subtract"),
           torch_fn=same(lambda x, p, a: x.diff(1, 0, p, a))))

# ----------------------------------------------------------------- nan-aware reductions
_NANS = np.array([[1.0, NAN, 2.0], [NAN, NAN, NAN], [0.5, -1.0, NAN]])
add(OpSpec("nansum", lambda x, **kw: tapegrad.nansum(x, **kw),
           _keep(lambda x, dim, keepdim: np.nansum(x, axis(x, dim), keepdims=keepdim and x.ndim > 0)),
           shape(), reduce_kwargs(), covers=("where", "sum"),
           examples=tuple(Example([_NANS], {"dim": d, "keepdim": False}, kink=True) for d in (None, 0, 1)),
           torch_fn=named("nansum")))
add(OpSpec("nanmean", lambda x, **kw: x.nanmean(**kw),
           _keep(lambda x, dim, keepdim: np.nanmean(x, axis(x, dim), keepdims=keepdim and x.ndim > 0)),
           shape(min_side=1), reduce_kwargs(), covers=("where", "sum", "divide"),
           examples=tuple(Example([_NANS[[0, 2]]], {"dim": d, "keepdim": True}, kink=True) for d in (None, 1)),
           torch_fn=same(lambda x, **kw: x.nanmean(**kw))))


def _var_mean_ref(x, dim, keepdim, correction, sqrt=False):
    ax = axis(x, dim)
    kd = keepdim and x.ndim > 0
    v = np.var(x, ax, ddof=correction, keepdims=kd)
    return (np.sqrt(v) if sqrt else v) + 2 * np.mean(x, ax, keepdims=kd)


def _few(x, dim=None, correction=1, **kw):
    n = x.size if axis(x, dim) is None else int(np.prod([x.shape[a] for a in np.atleast_1d(axis(x, dim))]))
    return n - correction <= 0 or n < 2


for _name, _sqrt in (("var_mean", False), ("std_mean", True)):
    add(OpSpec(_name, lambda x, _n=_name, **kw: (lambda r: r[0] + 2 * r[1])(getattr(tapegrad, _n)(x, **kw)),
               _keep(lambda x, _s=_sqrt, **kw: _var_mean_ref(x, sqrt=_s, **kw)), shape(),
               # dim=() is left out: PyTorch 2.13's var_mean/std_mean backward mistreats it (inf gradients)
               lambda shapes: reduce_kwargs(correction=st.sampled_from([0, 1]))(shapes).filter(
                   lambda kw: kw["dim"] != ()),
               avoid=lambda x, **kw: _few(x, **kw) or ties(x), covers=("sum", "multiply", "std_sqrt"),
               torch_fn=lambda torch, x, _n=_name, **kw: (lambda r: r[0] + 2 * r[1])(getattr(torch, _n)(x, **kw))))


# ----------------------------------------------------------------- aminmax, count_nonzero
def _aminmax_kwargs(shapes):
    n = max(len(shapes[0]), 1)
    return st.fixed_dictionaries({"dim": st.none() | st.integers(-n, n - 1), "keepdim": st.booleans()})


for _i, _f in ((0, np.min), (1, np.max)):
    add(OpSpec(f"aminmax_{'min' if _i == 0 else 'max'}", lambda x, _i=_i, **kw: tapegrad.aminmax(x, **kw)[_i],
               _keep(lambda x, dim, keepdim, _f=_f: _f(x, axis(x, dim), keepdims=keepdim)
                     if x.ndim or not keepdim else _f(x)),
               shape(min_side=1), _aminmax_kwargs, avoid=ties, covers=("max", "min"),
               examples=tuple(Example([_TIES], {"dim": d, "keepdim": False}, kink=True) for d in (None, 0, 1)),
               torch_fn=lambda torch, x, _i=_i, **kw: torch.aminmax(x, **kw)[_i]))

add(OpSpec("count_nonzero", lambda x, **kw: tapegrad.count_nonzero(x.round(), **kw),
           lambda x, dim, keepdim=False: np.count_nonzero(np.round(x), axis(x, dim)),
           shape(), lambda shapes: st.fixed_dictionaries(
               {"dim": st.none() | st.integers(-max(len(shapes[0]), 1), max(len(shapes[0]), 1) - 1)}),
           grad=False, gradgrad=False, covers=("not_equal", "round"),
           torch_fn=lambda torch, x, **kw: torch.count_nonzero(x.round(), **kw)))
