"""OpSpecs for tapegrad/ops/reduction.py and ops/statistics.py: sum, mean, prod, max/min, var/std, logsumexp, norm."""
import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad

from . import Example, OpSpec, add
from .elementwise import named, same

_TIES = np.array([[3.0, 1.0, 3.0], [0.0, 0.0, 0.0], [2.0, -1.0, 2.0]])
_SIZE01 = (Example([np.zeros((0, 3))], {"dim": 0, "keepdim": False}),
           Example([np.zeros((2, 0))], {"dim": None, "keepdim": False}),
           Example([np.arange(3.0).reshape(1, 3, 1)], {"dim": (0, 2), "keepdim": True}),
           Example([np.arange(3.0).reshape(1, 3, 1)], {"dim": 2, "keepdim": False}))

GAP = 1e-3          # finite differences (step 1e-6) must not cross a tie or a kink


def shape(min_dims=0, max_dims=3, min_side=0, max_side=4):
    return st.tuples(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side))


def dims(ndim, allow_none=True, allow_tuple=True):
    """PyTorch ``dim`` values for a tensor of ``ndim`` dims: None, an int (maybe negative), or a tuple."""
    n = max(ndim, 1)
    one = st.integers(-n, n - 1)
    options = [one]
    if allow_none:
        options.append(st.none())
    if allow_tuple and ndim:
        options.append(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(
            lambda ds: tuple(d - ndim if i % 2 else d for i, d in enumerate(ds))))
    return st.one_of(options)


def reduce_kwargs(allow_none=True, allow_tuple=True, **extra):
    def kw(shapes):
        return st.fixed_dictionaries({"dim": dims(len(shapes[0]), allow_none, allow_tuple),
                                      "keepdim": st.booleans(), **extra})
    return kw


def axis(x, dim):
    """NumPy's ``axis`` for PyTorch's ``dim`` (0-d tensors accept dim 0 and -1; () means all)."""
    if x.ndim == 0 or dim is None or dim == ():
        return None
    return dim


def nonzero(lo=0.25, hi=2.0):
    """Floats in ``[-hi, -lo] U [lo, hi]``: away from the zero norm and from abs's kink."""
    return st.floats(lo, hi, width=32) | st.floats(-hi, -lo, width=32)


def _keep(f):
    """A reference computed in float64, returned in its first input's dtype."""
    def ref(x, **kwargs):
        with np.errstate(all="ignore"):
            return np.asarray(f(np.asarray(x, np.float64), **kwargs)).astype(x.dtype)
    return ref


def reduced_numel(x, dim):
    ax = axis(x, dim)
    if ax is None:
        return x.size
    ax = (ax,) if isinstance(ax, int) else ax
    return int(np.prod([x.shape[a] for a in ax]))


def _torch_prod(torch, x, dim=None, keepdim=False):
    """torch.prod takes one int dim: dim=None is the product of everything (kept as size-1 dims on request)."""
    if dim is not None:
        return torch.prod(x, dim, keepdim=keepdim)
    out = torch.prod(x)
    return out.reshape((1,) * x.ndim) if keepdim else out


def _torch_logsumexp(torch, x, dim=None, keepdim=False):
    """torch.logsumexp wants the dims spelled out: None and () mean all of them (dim 0 of a 0-d tensor)."""
    if dim is None or dim == ():
        dim = tuple(range(x.ndim)) if x.ndim else 0
    return torch.logsumexp(x, dim, keepdim=keepdim)


def _torch_norm(torch, x, p="fro", dim=None, keepdim=False):
    """torch.norm refuses p="fro" over more than two dims (a matrix norm); over any dims it is the 2-norm."""
    if p == "fro" and isinstance(dim, tuple) and len(dim) > 2:
        p = 2
    return torch.norm(x, p, dim, keepdim)


def ties(x, dim=None, **kw):
    """True when two elements of x are closer than GAP (a tie that finite differences would cross)."""
    v = np.sort(np.asarray(x, np.float64).ravel())
    return bool(np.any(np.diff(v) < GAP))


# ----------------------------------------------------------------- sum / mean / prod
add(OpSpec("sum", lambda x, **kw: tapegrad.sum(x, **kw),
           _keep(lambda x, dim, keepdim: np.sum(x, axis(x, dim), keepdims=keepdim and x.ndim > 0)),
           shape(), reduce_kwargs(), covers=("sum",), examples=_SIZE01, torch_fn=named("sum")))
add(OpSpec("sum_method", lambda x, **kw: x.sum(**kw),
           _keep(lambda x, dim, keepdim: np.sum(x, axis(x, dim), keepdims=keepdim and x.ndim > 0)),
           shape(), reduce_kwargs(), covers=("sum",), torch_fn=same(lambda x, **kw: x.sum(**kw))))
add(OpSpec("mean", lambda x, **kw: tapegrad.mean(x, **kw),
           _keep(lambda x, dim, keepdim: np.mean(x, axis(x, dim), keepdims=keepdim and x.ndim > 0)),
           shape(), reduce_kwargs(), covers=("sum", "divide"), examples=_SIZE01[2:], torch_fn=named("mean")))
# Away from 0: near a zero, ``out / x`` makes the second derivative cancel catastrophically
# (as in PyTorch); exact zeros take another path, tested in tests/ops/test_reduction_semantics.py.
add(OpSpec("prod", lambda x, **kw: tapegrad.prod(x, **kw),
           _keep(lambda x, dim, keepdim: np.prod(x, axis(x, dim), keepdims=keepdim and x.ndim > 0)),
           shape(max_side=3), reduce_kwargs(allow_tuple=False), covers=("prod",), domain=nonzero(0.5, 1.5),
           examples=tuple(Example([x], {"dim": d, "keepdim": False}) for d in (None, 1)
                          for x in ([[0.0, 2.0, 3.0], [0.5, 0.0, 0.0]], [[0.0, 0.0, 0.0], [1.0, 2.0, 0.5]],
                                    [[0.0, 1.5, 0.0], [0.0, 0.0, 2.0]])), torch_fn=_torch_prod))

# ----------------------------------------------------------------- max / min
for name, fn, npf in [("max", tapegrad.max, np.max), ("min", tapegrad.min, np.min)]:
    add(OpSpec(f"{name}_all", fn, _keep(lambda x, npf=npf: npf(x)), shape(min_side=1),
               avoid=ties, covers=(name,), examples=(Example([_TIES], kink=True),),
               torch_fn=lambda torch, x, name=name: getattr(torch, name)(x)))
    add(OpSpec(f"{name}_dim_values", lambda x, fn=fn, **kw: fn(x, **kw).values,
               _keep(lambda x, dim, keepdim, npf=npf: npf(x, axis(x, dim), keepdims=keepdim and x.ndim > 0)),
               shape(min_side=1), reduce_kwargs(allow_none=False, allow_tuple=False), avoid=ties,
               covers=(f"{name}_dim", "one_hot_along"),
               examples=tuple(Example([_TIES], {"dim": d, "keepdim": k}, kink=True) for d in (0, 1) for k in (False, True)),
               torch_fn=lambda torch, x, name=name, **kw: getattr(torch, name)(x, **kw).values))
    add(OpSpec(f"{name}_dim_indices", lambda x, fn=fn, **kw: fn(x, **kw).indices,
               lambda x, dim, keepdim, npf=npf: getattr(np, "arg" + npf.__name__)(
                   x, axis(x, dim), keepdims=keepdim and x.ndim > 0),
               shape(min_side=1), reduce_kwargs(allow_none=False, allow_tuple=False), grad=False,
               gradgrad=False, covers=("argmax" if name == "max" else "argmin",),
               torch_fn=lambda torch, x, name=name, **kw: getattr(torch, name)(x, **kw).indices))
for name, fn, npf, op in [("amax", tapegrad.amax, np.max, "max"), ("amin", tapegrad.amin, np.min, "min")]:
    add(OpSpec(name, lambda x, fn=fn, **kw: fn(x, **kw),
               _keep(lambda x, dim, keepdim, npf=npf: npf(x, axis(x, dim), keepdims=keepdim and x.ndim > 0)),
               shape(min_side=1), reduce_kwargs(), avoid=ties, covers=(op,),
               examples=tuple(Example([_TIES], {"dim": d, "keepdim": False}, kink=True) for d in (0, 1, (0, 1))),
               torch_fn=lambda torch, x, name=name, **kw: getattr(torch, name)(x, **kw)))
for name, fn, npf in [("argmax", tapegrad.argmax, np.argmax), ("argmin", tapegrad.argmin, np.argmin)]:
    add(OpSpec(name, lambda x, fn=fn, **kw: fn(x, **kw),
               lambda x, dim, keepdim, npf=npf: npf(x, axis(x, dim), keepdims=keepdim and (x.ndim > 0 or dim is None)),
               shape(min_side=1), reduce_kwargs(allow_tuple=False), grad=False, gradgrad=False, covers=(name,),
               torch_fn=named(name)))
for name, fn, npf in [("any", tapegrad.any, np.any), ("all", tapegrad.all, np.all)]:
    add(OpSpec(name, lambda x, fn=fn, **kw: fn(x > 0, **kw),
               # as PyTorch: any/all over dim=() reduce nothing (sum's dim=() reduces everything)
               lambda x, dim, keepdim, npf=npf: (x > 0) if dim == () else
               npf(x > 0, axis(x, dim), keepdims=keepdim and x.ndim > 0),
               shape(), reduce_kwargs(), grad=False, gradgrad=False, covers=(name,),
               torch_fn=lambda torch, x, name=name, **kw: getattr(torch, name)(x > 0, **kw)))

# ----------------------------------------------------------------- var / std
def _var_ref(x, dim, keepdim, correction):
    n = reduced_numel(x, dim)
    return np.var(x, axis(x, dim), ddof=0, keepdims=keepdim and x.ndim > 0) * n / max(n - correction, 0)


def _few(x, dim=None, correction=1, **kw):
    return reduced_numel(x, dim) - correction <= 0


add(OpSpec("var", lambda x, **kw: tapegrad.var(x, **kw), _keep(_var_ref), shape(),
           reduce_kwargs(correction=st.sampled_from([0, 1, 2])), avoid=_few, covers=("sum", "subtract", "multiply"),
           torch_fn=named("var")))
add(OpSpec("std", lambda x, **kw: x.std(**kw), _keep(lambda x, **kw: np.sqrt(_var_ref(x, **kw))), shape(),
           reduce_kwargs(correction=st.sampled_from([0, 1])), avoid=lambda x, **kw: _few(x, **kw) or reduced_numel(x, kw.get("dim")) < 2 or ties(x),
           covers=("std_sqrt",),
           examples=(Example([_TIES], {"dim": 1, "keepdim": False, "correction": 1}, kink=True),
                     Example([[2.5]], {"dim": None, "keepdim": False, "correction": 0}, kink=True)),
           torch_fn=lambda torch, x, **kw: x.std(**kw)))
add(OpSpec("var_unbiased_false", lambda x: tapegrad.var(x, False), _keep(lambda x: np.var(x)), shape(min_side=1),
           covers=("sum",), torch_fn=lambda torch, x: torch.var(x, False)))

# ----------------------------------------------------------------- logsumexp
def _lse(x, dim, keepdim):
    ax = axis(x, dim)
    return np.log(np.sum(np.exp(x), ax, keepdims=keepdim and x.ndim > 0))


add(OpSpec("logsumexp", lambda x, **kw: tapegrad.logsumexp(x, **kw), _keep(_lse), shape(), reduce_kwargs(),
           domain=(-5.0, 5.0), covers=("logsumexp",), torch_fn=_torch_logsumexp))


# ----------------------------------------------------------------- norm
def _norm_ref(x, p, dim, keepdim):
    ax = axis(x, dim)
    kd = keepdim and x.ndim > 0
    a = np.abs(x)
    if p in ("fro", 2):
        return np.sqrt(np.sum(a * a, ax, keepdims=kd))
    if p == math.inf:
        return np.max(a, ax, keepdims=kd)
    if p == -math.inf:
        return np.min(a, ax, keepdims=kd)
    if p == 0:
        return np.sum(a != 0, ax, keepdims=kd).astype(np.float64)
    return np.sum(a ** p, ax, keepdims=kd) ** (1 / p)


def _norm_kwargs(ps):
    return reduce_kwargs(p=st.sampled_from(ps))


add(OpSpec("norm", lambda x, **kw: tapegrad.norm(x, **kw), _keep(_norm_ref), shape(),
           _norm_kwargs(["fro", 2, 3, 2.5]), domain=nonzero(), covers=("vector_norm",), torch_fn=_torch_norm))
# Orders with ties (inf, -inf) or a pole of the second derivative at 0 (p < 1).
add(OpSpec("norm_kinked", lambda x, **kw: x.norm(**kw), _keep(_norm_ref), shape(min_side=1),
           _norm_kwargs([1, math.inf, -math.inf, 0.5]), domain=nonzero(), avoid=lambda x, **kw: ties(np.abs(x)),
           covers=("vector_norm", "abs", "max", "min"), torch_fn=same(lambda x, **kw: x.norm(**kw))))
add(OpSpec("norm_zero", lambda x, **kw: tapegrad.norm(x, **kw), _keep(_norm_ref), shape(min_side=1),
           _norm_kwargs([0]), grad=False, gradgrad=False, covers=("not_equal", "sum"), torch_fn=named("norm")))
