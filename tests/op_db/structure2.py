"""OpSpecs for tapegrad/ops/structure2.py: the strided views (diagonal, unfold, as_strided) and diagonals."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad

from . import Example, OpSpec, add
from .elementwise import named, same


def _shapes(min_dims, max_dims=3, max_side=4):
    return st.tuples(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=max_side))


def _diag_kwargs(shapes):
    nd = len(shapes[0])
    return st.integers(-nd, nd - 1).flatmap(lambda a: st.fixed_dictionaries({
        "offset": st.integers(-3, 3), "dim1": st.just(a),
        "dim2": st.integers(-nd, nd - 1).filter(lambda b: b % nd != a % nd)}))


def _np_diagonal(x, offset, dim1, dim2):
    return np.diagonal(x, offset, dim1, dim2)


add(OpSpec("diagonal", lambda x, **kw: tapegrad.diagonal(x, **kw), _np_diagonal, _shapes(2), _diag_kwargs,
           covers=("strided_view", "index_put_add"), torch_fn=named("diagonal"),
           examples=(Example([np.arange(12.0).reshape(3, 4)], {"offset": -1, "dim1": 1, "dim2": 0}),
                     Example([np.zeros((0, 3))], {"offset": 0, "dim1": 0, "dim2": 1}),
                     Example([np.arange(8.0).reshape(2, 2, 2)], {"offset": 5, "dim1": -1, "dim2": 0}))))
add(OpSpec("diagonal_method", lambda x, offset: x.diagonal(offset), lambda x, offset: np.diagonal(x, offset),
           _shapes(2, 2), lambda s: st.fixed_dictionaries({"offset": st.integers(-3, 3)}),
           covers=("strided_view",), torch_fn=same(lambda x, offset: x.diagonal(offset))))


def _np_diag_embed(x, offset, dim1, dim2):
    n = x.shape[-1] + abs(offset)
    out = np.zeros(x.shape[:-1] + (n, n), x.dtype)
    for i in range(x.shape[-1]):
        r, c = (i, i + offset) if offset >= 0 else (i - offset, i)
        out[..., r, c] = x[..., i]
    nd = out.ndim
    a, b = dim1 % nd, dim2 % nd
    return np.moveaxis(out, (-2, -1), (a, b))


def _embed_kwargs(shapes):
    nd = len(shapes[0]) + 1
    return st.integers(-nd, nd - 1).flatmap(lambda a: st.fixed_dictionaries({
        "offset": st.integers(-2, 2), "dim1": st.just(a),
        "dim2": st.integers(-nd, nd - 1).filter(lambda b: b % nd != a % nd)}))


add(OpSpec("diag_embed", lambda x, **kw: tapegrad.diag_embed(x, **kw), _np_diag_embed, _shapes(1), _embed_kwargs,
           covers=("index_put_add",), torch_fn=named("diag_embed"),
           examples=(Example([np.arange(6.0).reshape(2, 3)], {"offset": -1, "dim1": 2, "dim2": 0}),
                     Example([np.zeros((2, 0))], {"offset": 1, "dim1": 0, "dim2": 1}))))
add(OpSpec("diag", lambda x, diagonal: tapegrad.diag(x, diagonal), lambda x, diagonal: np.diag(x, diagonal),
           st.tuples(hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=4)),
           lambda s: st.fixed_dictionaries({"diagonal": st.integers(-3, 3)}),
           covers=("strided_view", "index_put_add", "copy"), torch_fn=named("diag")))
add(OpSpec("diagflat", lambda x, offset: tapegrad.diagflat(x, offset), lambda x, offset: np.diagflat(x, offset),
           _shapes(0, 2), lambda s: st.fixed_dictionaries({"offset": st.integers(-2, 2)}),
           covers=("index_put_add",), torch_fn=named("diagflat")))
add(OpSpec("trace", lambda x: tapegrad.trace(x), lambda x: np.trace(x), _shapes(2, 2), covers=("strided_view",),
           torch_fn=named("trace"), examples=(Example([np.zeros((0, 2))]),)))


def _unfold_kwargs(shapes):
    nd = len(shapes[0])
    return st.integers(-nd, nd - 1).flatmap(lambda d: st.fixed_dictionaries({
        "dimension": st.just(d), "size": st.integers(0, shapes[0][d]), "step": st.integers(1, 3)}))


def _np_unfold(x, dimension, size, step):
    d = dimension % x.ndim
    w = np.lib.stride_tricks.sliding_window_view(x, size, axis=d)
    return np.take(w, np.arange(0, w.shape[d], step), axis=d)


add(OpSpec("unfold_view", lambda x, **kw: x.unfold(**kw), _np_unfold, _shapes(1), _unfold_kwargs,
           covers=("strided_view",), torch_fn=same(lambda x, **kw: x.unfold(**kw)),
           examples=(Example([np.arange(7.0)], {"dimension": 0, "size": 3, "step": 1}),     # overlapping windows
                     Example([np.arange(12.0).reshape(3, 4)], {"dimension": -1, "size": 2, "step": 3}))))


def _np_as_strided(x, size, stride, storage_offset):
    flat = np.ascontiguousarray(x).reshape(-1)[storage_offset:]
    return np.lib.stride_tricks.as_strided(flat, size, tuple(s * flat.itemsize for s in stride)).copy()


_AS_STRIDED = ({"size": (2, 3), "stride": (1, 2), "storage_offset": 1},
               {"size": (2, 2, 2), "stride": (4, 1, 1), "storage_offset": 3},     # overlapping elements
               {"size": (4,), "stride": (3,), "storage_offset": 0})
add(OpSpec("as_strided", lambda x, **kw: tapegrad.as_strided(x.contiguous(), **kw), _np_as_strided,
           st.just(((3, 4),)), lambda s: st.sampled_from(_AS_STRIDED), covers=("strided_view",),
           torch_fn=lambda torch, x, **kw: torch.as_strided(x.contiguous(), **kw),
           examples=(Example([np.arange(12.0).reshape(3, 4)], {"size": (2, 3), "stride": (1, 2), "storage_offset": 1}),
                     Example([np.arange(12.0).reshape(3, 4)], {"size": (3, 3), "stride": (2, 1), "storage_offset": 0}),
                     Example([np.arange(12.0).reshape(3, 4)], {"size": (0, 2), "stride": (1, 1),
                                                               "storage_offset": 0}))))
