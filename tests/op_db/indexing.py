"""OpSpecs for tapegrad/ops/indexing.py: __getitem__, __setitem__, gather, index_select, take_along_dim,
masked_fill, index_add, scatter_add, nonzero."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad
from tapegrad.testing import index_expressions

from . import OpSpec, add
from .elementwise import named, same

COVERS = ("getitem", "index_put_add")


class Shapes(tuple):
    """A tuple of input shapes that also carries what was drawn with them (``info``) for ``kwargs``."""
    info = None


def with_info(shapes, **info):
    s = Shapes(shapes)
    s.info = info
    return s


def one_shape(min_dims=0, max_dims=3, min_side=0, max_side=4):
    return st.tuples(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side))


def as_tensors(key, lib=tapegrad):
    """The same key with every NumPy array turned into a tensor of ``lib`` (tapegrad or torch)."""
    if isinstance(key, tuple):
        return tuple(as_tensors(k, lib) for k in key)
    return lib.from_numpy(key.copy()) if isinstance(key, np.ndarray) else key


def torch_getitem_ref(x, key):
    """``x[key]`` by PyTorch's procedure, in NumPy: ints, slices and None apply one at a time (select,
    slice, unsqueeze); the arrays they skip over then index the dims left, by NumPy's rule."""
    key = key if isinstance(key, tuple) else (key,)
    used = sum(np.ndim(k) if isinstance(k, np.ndarray) and k.dtype == bool else 1
               for k in key if k is not None and k is not Ellipsis)
    out, d, arrays = np.asarray(x), 0, {}
    for k in key:
        if k is Ellipsis:
            d += x.ndim - used
        elif k is None:
            out = np.expand_dims(out, d)
            d += 1
        elif isinstance(k, (int, np.integer)):
            out = np.take(out, k, axis=d)
        elif isinstance(k, slice):
            out = out[(slice(None),) * d + (k,)]
            d += 1
        else:
            arrays[d] = k
            d += k.ndim if k.dtype == bool else 1
    if not arrays:
        return out
    adv, d = [], 0
    while d < out.ndim:
        k = arrays.get(d, slice(None))
        adv.append(k)
        d += k.ndim if isinstance(k, np.ndarray) and k.dtype == bool else 1
    return out[tuple(adv)]


def key_kwargs(strategy):
    return lambda shapes: st.fixed_dictionaries({"key": strategy(tuple(shapes[0]))})


add(OpSpec("getitem", lambda x, key: x[key], torch_getitem_ref, one_shape(),
           key_kwargs(index_expressions), covers=COVERS, torch_fn=lambda torch, x, key: x[as_tensors(key, torch)]))
add(OpSpec("getitem_tensor_key", lambda x, key: x[as_tensors(key)], torch_getitem_ref,
           one_shape(), key_kwargs(index_expressions), covers=COVERS,
           torch_fn=lambda torch, x, key: x[as_tensors(key, torch)]))
add(OpSpec("getitem_list_key", lambda x, key: x[key.tolist()], lambda x, key: x[key], one_shape(min_dims=1, min_side=1),
           lambda shapes: st.fixed_dictionaries({"key": hnp.arrays(np.int64, st.integers(0, 5), elements=st.integers(
               -shapes[0][0], shapes[0][0] - 1))}), covers=("getitem",), torch_fn=same(lambda x, key: x[key.tolist()])))


# ----------------------------------------------------------------- __setitem__ (recorded on a non-leaf)
@st.composite
def setitem_shapes(draw):
    xs = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    key = draw(index_expressions(xs, allow_advanced=False))
    vs = np.zeros(xs)[key].shape
    if draw(st.booleans()):
        vs = vs[draw(st.integers(0, len(vs))):]           # a value that broadcasts
    return with_info((xs, vs), key=key)


def _setitem(x, v, key):
    y = x * 1
    y[key] = v
    return y


def _setitem_ref(x, v, key):
    y = x.copy()
    y[key] = v
    return y


add(OpSpec("setitem", _setitem, _setitem_ref, setitem_shapes(), lambda s: st.just({"key": s.info["key"]}),
           covers=("setitem",), torch_fn=same(_setitem)))


# ----------------------------------------------------------------- gather & co.
def dim_kwargs(shapes):
    n = max(len(shapes[0]), 1)
    return st.fixed_dictionaries({"dim": st.integers(-n, n - 1)})


def _axis(x, dim):
    return dim % max(x.ndim, 1)


def gather_index(shapes, kwargs):
    xs = shapes[0]
    d = kwargs["dim"] % len(xs)
    ishape = st.tuples(*[st.integers(0, 4) if i == d else st.integers(0, s) for i, s in enumerate(xs)])
    return st.tuples(ishape.flatmap(lambda sh: hnp.arrays(np.int64, sh, elements=st.integers(0, xs[d] - 1))))


def _gather_ref(x, index, dim):
    d = _axis(x, dim)
    part = x[tuple(slice(None) if i == d else slice(0, s) for i, s in enumerate(index.shape))]
    return np.take_along_axis(part, index, d)


add(OpSpec("gather", lambda x, index, dim: tapegrad.gather(x, dim, index), _gather_ref,
           one_shape(min_dims=1, min_side=1), dim_kwargs, int_args=(1,), index_args=gather_index,
           covers=("getitem",), torch_fn=lambda torch, x, index, dim: torch.gather(x, dim, index)))
add(OpSpec("gather_method", lambda x, index, dim: x.gather(dim, index), _gather_ref,
           one_shape(min_dims=1, min_side=1), dim_kwargs, int_args=(1,), index_args=gather_index,
           covers=("getitem",), torch_fn=same(lambda x, index, dim: x.gather(dim, index))))


def select_index(shapes, kwargs):
    n = shapes[0][kwargs["dim"] % len(shapes[0])]
    return st.tuples(hnp.arrays(np.int64, st.integers(0, 6), elements=st.integers(0, n - 1)))


add(OpSpec("index_select", lambda x, index, dim: tapegrad.index_select(x, dim, index),
           lambda x, index, dim: np.take(x, index, axis=_axis(x, dim)),
           one_shape(min_dims=1, min_side=1), dim_kwargs, int_args=(1,), index_args=select_index,
           covers=("getitem",), torch_fn=lambda torch, x, index, dim: torch.index_select(x, dim, index)))


def along_index(shapes, kwargs):
    xs = shapes[0]
    d = kwargs["dim"] % len(xs)
    ishape = st.tuples(*[st.integers(0, 4) if i == d else st.sampled_from(sorted({1, s})) for i, s in enumerate(xs)])
    return st.tuples(ishape.flatmap(lambda sh: hnp.arrays(np.int64, sh, elements=st.integers(0, xs[d] - 1))))


add(OpSpec("take_along_dim", lambda x, index, dim: tapegrad.take_along_dim(x, index, dim),
           lambda x, index, dim: np.take_along_axis(x, index, _axis(x, dim)),
           one_shape(min_dims=1, min_side=1), dim_kwargs, int_args=(1,), index_args=along_index,
           covers=("getitem",), torch_fn=named("take_along_dim")))
add(OpSpec("take_along_dim_flat", lambda x, index: tapegrad.take_along_dim(x, index),
           lambda x, index: np.take(x.reshape(-1), index.reshape(-1)),
           one_shape(min_side=1), int_args=(1,),
           index_args=lambda shapes, kw: st.tuples(hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2),
                                                              elements=st.integers(0, int(np.prod(shapes[0])) - 1))),
           covers=("getitem",), torch_fn=named("take_along_dim")))


@st.composite
def index_add_shapes(draw):
    xs = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    d = draw(st.integers(0, len(xs) - 1))
    n = draw(st.integers(0, 5))
    return with_info((xs, xs[:d] + (n,) + xs[d + 1:]), dim=d - len(xs) * draw(st.integers(0, 1)), n=n)


def _index_add_ref(x, src, index, dim):
    out = x.copy()
    np.add.at(out, (slice(None),) * _axis(x, dim) + (index,), src)
    return out


add(OpSpec("index_add", lambda x, src, index, dim: tapegrad.index_add(x, dim, index, src), _index_add_ref,
           index_add_shapes(), lambda s: st.just({"dim": s.info["dim"]}), int_args=(2,),
           index_args=lambda s, kw: st.tuples(hnp.arrays(np.int64, s.info["n"], elements=st.integers(
               0, s[0][kw["dim"] % len(s[0])] - 1))), covers=("index_put_add",),
           torch_fn=lambda torch, x, src, index, dim: torch.index_add(x, dim, index, src)))


@st.composite
def index_put_shapes(draw):
    xs = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    n = draw(st.integers(0, 5))
    return with_info((xs, (n,) + xs[1:]), n=n)


def _index_put_ref(x, v, index, accumulate):
    out = x.copy()
    if accumulate:
        np.add.at(out, index, v)
    else:
        out[index] = v
    return out


def index_put_index(unique):
    def strategy(shapes, kwargs):
        rows = shapes[0][0]
        n = min(shapes.info["n"], rows) if unique else shapes.info["n"]
        return st.tuples(st.lists(st.integers(-rows, rows - 1), min_size=n, max_size=n,
                                  unique_by=(lambda i: i % rows) if unique else None).map(
            lambda ix: np.array(ix, dtype=np.int64)))
    return strategy


@st.composite
def index_put_unique_shapes(draw):
    s = draw(index_put_shapes())
    n = min(s.info["n"], s[0][0])
    return with_info((s[0], (n,) + s[0][1:]), n=n)


add(OpSpec("index_put_accumulate", lambda x, v, index: tapegrad.index_put(x, (index,), v, accumulate=True),
           lambda x, v, index: _index_put_ref(x, v, index, True), index_put_shapes(), int_args=(2,),
           index_args=index_put_index(False), covers=("index_put_add",),
           torch_fn=lambda torch, x, v, index: torch.index_put(x, (index,), v, accumulate=True)))
add(OpSpec("index_put", lambda x, v, index: tapegrad.index_put(x, (index,), v),       # distinct rows: one writer
           lambda x, v, index: _index_put_ref(x, v, index, False), index_put_unique_shapes(), int_args=(2,),
           index_args=index_put_index(True), covers=("setitem",),
           torch_fn=lambda torch, x, v, index: torch.index_put(x, (index,), v)))


add(OpSpec("embedding", lambda w, index: tapegrad.nn.functional.embedding(index, w), lambda w, index: w[index],
           one_shape(min_dims=2, max_dims=2, min_side=1), int_args=(1,),
           index_args=lambda s, kw: st.tuples(hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2, min_side=0),
                                                         elements=st.integers(0, s[0][0] - 1))),
           covers=("getitem",), torch_fn=lambda torch, w, index: torch.nn.functional.embedding(index, w)))


def scatter_index(shapes, kwargs):
    xs = shapes[0]
    d = kwargs["dim"] % len(xs)
    ishape = st.tuples(*[st.integers(0, s) for s in xs])
    return st.tuples(ishape.flatmap(lambda sh: hnp.arrays(np.int64, sh, elements=st.integers(0, xs[d] - 1))))


def _scatter_add_ref(x, src, index, dim):
    d = _axis(x, dim)
    out = x.copy()
    grids = np.indices(index.shape, sparse=True)
    key = tuple(index if i == d else g for i, g in enumerate(grids))
    np.add.at(out, key, src[tuple(slice(0, s) for s in index.shape)])
    return out


add(OpSpec("scatter_add", lambda x, src, index, dim: tapegrad.scatter_add(x, dim, index, src), _scatter_add_ref,
           one_shape(min_dims=1, min_side=1).map(lambda s: (s[0], s[0])), dim_kwargs, int_args=(2,),
           index_args=scatter_index, covers=("index_put_add",),
           torch_fn=lambda torch, x, src, index, dim: torch.scatter_add(x, dim, index, src)))


# ----------------------------------------------------------------- masked_fill, nonzero
def mask_kwargs(shapes):
    xs = shapes[0]
    mshape = st.integers(0, len(xs)).flatmap(
        lambda k: st.tuples(*[st.sampled_from(sorted({1, s})) for s in xs[k:]]))
    return st.fixed_dictionaries({"mask": mshape.flatmap(lambda s: hnp.arrays(np.bool_, s)),
                                  "value": st.floats(-3, 3, width=32)})


add(OpSpec("masked_fill", lambda x, mask, value: tapegrad.masked_fill(x, tapegrad.from_numpy(mask).to(x.device), value),
           lambda x, mask, value: np.where(mask, value, x).astype(x.dtype), one_shape(), mask_kwargs,
           covers=("where",),
           torch_fn=lambda torch, x, mask, value: torch.masked_fill(x, torch.from_numpy(mask.copy()), value)))
add(OpSpec("masked_fill_tensor_value",
           lambda x, v, mask: x.masked_fill(tapegrad.from_numpy(mask).to(x.device), v),
           lambda x, v, mask: np.where(mask, v, x).astype(x.dtype), one_shape().map(lambda s: (s[0], ())),
           lambda s: mask_kwargs(s).map(lambda kw: {"mask": kw["mask"]}), covers=("where",),
           torch_fn=lambda torch, x, v, mask: x.masked_fill(torch.from_numpy(mask.copy()), v)))
add(OpSpec("nonzero", lambda x: tapegrad.nonzero(x), lambda x: np.argwhere(x),
           one_shape(min_dims=1), domain=st.sampled_from([0.0, 1.5, -2.0]), grad=False, gradgrad=False,
           torch_fn=named("nonzero")))
add(OpSpec("nonzero_tuple", lambda x: x.nonzero(as_tuple=True), lambda x: np.nonzero(x),
           one_shape(min_dims=1), domain=st.sampled_from([0.0, 1.5, -2.0]), grad=False, gradgrad=False,
           torch_fn=same(lambda x: x.nonzero(as_tuple=True))))
