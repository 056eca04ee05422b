"""OpSpecs for tapegrad/ops/sorting.py: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode, quantile,
nanquantile (values are gathered, so their gradients are the gather's; ties are kinks)."""
import numpy as np
from hypothesis import strategies as st

import tapegrad

from . import Example, OpSpec, add
from .elementwise import named, same
from .reduction import _keep, shape, ties

NAN = float("nan")
_TIES = np.array([[3.0, 1.0, 3.0], [0.0, 0.0, 0.0], [2.0, -1.0, 2.0]])
_NANS = np.array([[1.0, NAN, 2.0, 0.5], [NAN, NAN, NAN, NAN], [0.5, -1.0, NAN, 3.0]])


def _dim(shapes, **extra):
    n = max(len(shapes[0]), 1)
    return st.fixed_dictionaries({"dim": st.integers(-n, n - 1), **extra})


def _ax(x, dim):
    return 0 if x.ndim == 0 else dim


def _sorted_ref(x, dim, descending=False):
    x1 = x.reshape(1) if x.ndim == 0 else x
    s = np.sort(x1, _ax(x, dim))
    s = np.flip(s, _ax(x, dim)) if descending else s
    return s.reshape(x.shape)


def _argsort_ref(x, dim, descending=False):
    x1 = x.reshape(1) if x.ndim == 0 else x
    i = np.argsort(-x1 if descending else x1, _ax(x, dim), kind="stable")
    return i.reshape(x.shape)


add(OpSpec("sort_values", lambda x, **kw: tapegrad.sort(x, **kw).values, _sorted_ref, shape(max_side=4),
           lambda s: _dim(s, descending=st.booleans()), avoid=ties, covers=("argsort", "getitem"),
           examples=tuple(Example([_TIES], {"dim": d, "descending": b}, kink=True) for d in (0, 1)
                          for b in (False, True)),
           torch_fn=lambda torch, x, **kw: torch.sort(x, **kw).values))
add(OpSpec("sort_method_indices", lambda x, **kw: x.sort(**kw)[1], _argsort_ref, shape(max_side=4),
           lambda s: _dim(s, descending=st.booleans()), avoid=ties, grad=False, gradgrad=False, covers=("argsort",),
           torch_fn=same(lambda x, **kw: x.sort(**kw)[1])))
add(OpSpec("argsort", lambda x, **kw: tapegrad.argsort(x, **kw), _argsort_ref, shape(max_side=4),
           lambda s: _dim(s, descending=st.booleans()), avoid=ties, grad=False, gradgrad=False, covers=("argsort",),
           torch_fn=named("argsort")))
add(OpSpec("msort", lambda x: x.msort(), _keep(lambda x: np.sort(x, 0)), shape(min_dims=1, max_side=4), avoid=ties,
           covers=("argsort",), torch_fn=same(lambda x: x.msort())))


def _topk_kwargs(shapes):
    s = shapes[0]
    n = max(len(s), 1)

    def kw(dim):
        size = s[dim] if s else 1
        return st.fixed_dictionaries({"k": st.integers(0, size), "dim": st.just(dim), "largest": st.booleans()})
    return st.integers(-n, n - 1).flatmap(kw)


def _topk_ref(x, k, dim, largest):
    s = _sorted_ref(x, dim, largest)
    return s if x.ndim == 0 else np.take(s, np.arange(k), _ax(x, dim))


add(OpSpec("topk_values", lambda x, **kw: tapegrad.topk(x, **kw).values, _keep(_topk_ref), shape(max_side=4),
           _topk_kwargs, avoid=ties, covers=("argsort", "narrow"),
           examples=(Example([_TIES], {"k": 2, "dim": 1, "largest": True}, kink=True),
                     Example([_TIES], {"k": 2, "dim": 0, "largest": False}, kink=True)),
           torch_fn=lambda torch, x, **kw: torch.topk(x, **kw).values))


def _kth_kwargs(shapes):
    s = shapes[0]
    n = max(len(s), 1)

    def kw(dim):
        return st.fixed_dictionaries({"k": st.integers(1, s[dim] if s else 1), "dim": st.just(dim),
                                      "keepdim": st.booleans()})
    return st.integers(-n, n - 1).flatmap(kw)


def _kth_ref(x, k, dim, keepdim):
    s = _sorted_ref(x, dim)
    if x.ndim == 0:
        return s
    v = np.take(s, [k - 1], _ax(x, dim))
    return v if keepdim else np.squeeze(v, _ax(x, dim))


add(OpSpec("kthvalue_values", lambda x, **kw: x.kthvalue(**kw).values, _keep(_kth_ref), shape(min_side=1, max_side=4),
           # no tie examples: which of equal elements PyTorch's quickselect returns is unspecified
           _kth_kwargs, avoid=ties, covers=("argsort", "getitem"),
           torch_fn=same(lambda x, **kw: x.kthvalue(**kw).values)))


def _median_ref(x, dim=None, keepdim=False, nan=False):
    if dim is None:
        v = np.sort(x.ravel())
        if nan:
            v = v[~np.isnan(v)]
        return v[(v.size - 1) // 2] if v.size else np.float64(NAN)
    if nan:
        v = np.apply_along_axis(lambda r: _median_ref(r, nan=True), _ax(x, dim), x.reshape(1) if x.ndim == 0 else x)
        v = np.expand_dims(v, _ax(x, dim))
    else:
        s = np.sort(x.reshape(1) if x.ndim == 0 else x, _ax(x, dim))
        v = np.take(s, [(s.shape[_ax(x, dim)] - 1) // 2], _ax(x, dim))
    v = v.reshape(()) if x.ndim == 0 else v if keepdim else np.squeeze(v, _ax(x, dim))
    return v


add(OpSpec("median_all", lambda x: tapegrad.median(x), _keep(_median_ref), shape(min_side=1, max_side=4), avoid=ties,
           covers=("argsort", "sum", "where"), examples=(Example([_TIES], kink=True), Example([_TIES[1:]], kink=True)),
           torch_fn=named("median")))
add(OpSpec("median_dim_values", lambda x, **kw: x.median(**kw).values, _keep(_median_ref),
           shape(min_side=1, max_side=4), lambda s: _dim(s, keepdim=st.booleans()), avoid=ties, covers=("argsort",),
           examples=tuple(Example([_TIES], {"dim": d, "keepdim": False}, kink=True) for d in (0, 1)),
           torch_fn=same(lambda x, **kw: x.median(**kw).values)))
add(OpSpec("median_dim_indices", lambda x, **kw: tapegrad.median(x, **kw).indices, None,
           shape(min_side=1, max_side=4), lambda s: _dim(s, keepdim=st.booleans()), avoid=ties, grad=False,
           gradgrad=False, covers=("argsort",), examples=(Example([_NANS], {"dim": 1, "keepdim": False}),),
           torch_fn=lambda torch, x, **kw: torch.median(x, **kw).indices))
add(OpSpec("nanmedian_all", lambda x: x.nanmedian(), _keep(lambda x: _median_ref(x, nan=True)),
           shape(min_side=1, max_side=4), avoid=ties, covers=("argsort", "sum", "where"),
           examples=(Example([_NANS], kink=True), Example([_NANS[2]], kink=True)),
           torch_fn=same(lambda x: x.nanmedian())))
add(OpSpec("nanmedian_dim_values", lambda x, **kw: tapegrad.nanmedian(x, **kw).values,
           _keep(lambda x, **kw: _median_ref(x, nan=True, **kw)),
           shape(min_side=1, max_side=4), lambda s: _dim(s, keepdim=st.booleans()), avoid=ties, covers=("argsort",),
           # an all-nan line is left to the forward and parity tests: which nan PyTorch returns is unspecified
           examples=(Example([_NANS[[0, 2]]], {"dim": 1, "keepdim": True}, kink=True),
                     Example([_NANS[[0, 2]]], {"dim": 0, "keepdim": False}, kink=True)),
           torch_fn=lambda torch, x, **kw: torch.nanmedian(x, **kw).values))


def _mode_ref(x, dim, keepdim):
    # Distinct values (ties are avoided): the mode is the smallest.
    x1 = x.reshape(1) if x.ndim == 0 else x
    v = np.min(x1, _ax(x, dim), keepdims=True)
    return v.reshape(()) if x.ndim == 0 else v if keepdim else np.squeeze(v, _ax(x, dim))


_REPEATS = np.array([[1.0, 2.0, 2.0, 1.0, 1.0], [5.0, 5.0, 4.0, 4.0, 6.0]])
add(OpSpec("mode_values", lambda x, **kw: tapegrad.mode(x, **kw).values, _keep(_mode_ref),
           shape(min_side=1, max_side=4), lambda s: _dim(s, keepdim=st.booleans()), avoid=ties,
           covers=("argsort", "cum_extreme_index", "argmax"),
           examples=(Example([_REPEATS], {"dim": 1, "keepdim": False}, kink=True),
                     Example([_REPEATS.T.copy()], {"dim": 0, "keepdim": True}, kink=True)),
           torch_fn=lambda torch, x, **kw: torch.mode(x, **kw).values))
add(OpSpec("mode_indices", lambda x, **kw: x.mode(**kw).indices, None,
           shape(min_side=1, max_side=4), lambda s: _dim(s, keepdim=st.booleans()), grad=False, gradgrad=False,
           covers=("argsort",), examples=(Example([_REPEATS], {"dim": 1, "keepdim": False}),),
           torch_fn=same(lambda x, **kw: x.mode(**kw).indices)))


# ----------------------------------------------------------------- quantile
def _q_kwargs(shapes):
    n = max(len(shapes[0]), 1)
    return st.fixed_dictionaries({
        "q": st.sampled_from([0.0, 0.3, 0.5, 1.0, [0.25, 0.9], [1.0]]),
        "dim": st.none() | st.integers(-n, n - 1), "keepdim": st.booleans(),
        "interpolation": st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"])})


def _q(q, like):
    return tapegrad.tensor(q, dtype=like.dtype, device=like.device) if isinstance(q, list) else q


def _q_torch(torch, q, like):
    return torch.tensor(q, dtype=like.dtype) if isinstance(q, list) else q


def _quantile_ref(x, q, dim, keepdim, interpolation, nan=False):
    f = np.nanquantile if nan else np.quantile
    ax = None if dim is None else _ax(x, dim)
    x1 = x.reshape(1) if x.ndim == 0 and dim is not None else x
    out = f(x1, np.asarray(q, np.float64), axis=ax, method=interpolation, keepdims=keepdim)
    if keepdim and dim is not None and x.ndim == 0:
        out = out.reshape(np.shape(q))
    return out


for _name, _nan in (("quantile", False), ("nanquantile", True)):
    add(OpSpec(_name, lambda x, q, _n=_name, **kw: getattr(tapegrad, _n)(x, _q(q, x), **kw),
               _keep(lambda x, _nan=_nan, **kw: _quantile_ref(x, nan=_nan, **kw)), shape(min_side=1, max_side=3),
               _q_kwargs, avoid=ties, covers=("argsort", "getitem", "multiply"),
               examples=(Example([_NANS], {"q": [0.2, 0.5], "dim": 1, "keepdim": False, "interpolation": "linear"},
                                 kink=True),
                         Example([_TIES], {"q": 0.5, "dim": 0, "keepdim": True, "interpolation": "midpoint"},
                                 kink=True)),
               torch_fn=lambda torch, x, q, _n=_name, **kw: getattr(torch, _n)(x, _q_torch(torch, q, x), **kw)))


# ----------------------------------------------------------------- counting (ops/counting.py; never differentiable)
def _bins(x):
    return (abs(x) * 2).long() if hasattr(x, "long") else (np.abs(x) * 2).astype(np.int64)


add(OpSpec("searchsorted", lambda s, v, **kw: tapegrad.searchsorted(s.sort().values, v, **kw),
           lambda s, v, right: np.searchsorted(np.sort(s), v, "right" if right else "left"),
           st.tuples(st.tuples(st.integers(0, 5)), shape(max_side=3).map(lambda t: t[0])),
           lambda shapes: st.fixed_dictionaries({"right": st.booleans()}), grad=False, gradgrad=False,
           covers=("searchsorted", "argsort"),
           examples=(Example([[0.0, 1.0, 1.0, 2.0], [[1.0, -1.0], [2.0, 0.5]]], {"right": True}),),
           torch_fn=lambda torch, s, v, **kw: torch.searchsorted(s.sort().values, v, **kw)))
add(OpSpec("bincount", lambda x, w: tapegrad.bincount(_bins(x), w),
           lambda x, w: np.bincount(_bins(x), w).astype(w.dtype if x.size else np.int64),    # as PyTorch
           st.integers(0, 5).map(lambda n: ((n,), (n,))), grad=False, gradgrad=False, covers=("bincount",),
           torch_fn=lambda torch, x, w: torch.bincount(_bins(x), w)))
