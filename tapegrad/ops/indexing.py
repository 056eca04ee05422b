"""Indexing: __getitem__ (ints, slices, None, Ellipsis, bool masks, integer arrays), __setitem__,
gather, index_select, take_along_dim, masked_fill, index_add, scatter_add, index_put, nonzero.

PyTorch's key rules are turned into NumPy keys in ``_index_key.py`` (Note [torch
indexing]); ``__setitem__`` and ``index_put`` live in ``_setitem.py``. Ops taking
index tensors check their range with ``check_index_range``, which names the op,
the first bad index, the dimension and its size; only ``[]`` indexing and
``take_along_dim`` along a dim wrap negative indices, as in PyTorch.

Two primitives carry every gradient here: ``getitem`` (basic and advanced
indexing) and ``index_put_add`` (zeros with values added at a key, repeated
indices accumulating). Each is the other's VJP, so any order of derivative works;
gather, index_select, take_along_dim, index_add and scatter_add are composed of them.

``index_put_add`` is ``F.scatter_add`` under create_graph (Note [tensor inputs]
in registry.py), so both VJPs are one line in either mode.
"""
import numpy as np

from .. import _dtype as D
from .registry import op, apply, set_base
from ._dims import wrap_dim
from . import _index_key as _K
from ._index_key import check_index_range
from .elementwise import where_op
from . import _jvp

_INT_KINDS = "iu"


def _tensor_cls():
    from .._tensor import Tensor
    return Tensor


# Basic keys (ints, slices, None, Ellipsis) give views, advanced keys copies: one
# op for both, so F.getitem(g, key) means the same in either VJP mode. view=False:
# getitem() below shares the version counter itself for basic keys.
@op("getitem", promote=None, tensors=1)
def getitem_op(be, x, key):
    return be.getitem(x, key)


index_op = getitem_op          # the name callers of advanced indexing use


# F.scatter_add(shape, key, values, dtype) under create_graph (the dtype is the values').
@op("index_put_add", promote=None, tensors=1, math="scatter_add",
    bind=lambda shape, key, values, dtype=None: ((values,), {"shape": shape, "key": key}))
def index_put_add_op(be, values, shape, key):
    return be.scatter_add(shape, key, values, values.dtype)


@getitem_op.vjp
def _(F, ctx, g, key):
    return F.scatter_add(ctx.shapes[0], key, g, g.dtype)


getitem_op.jvp(_jvp.linear(getitem_op))


@index_put_add_op.vjp
def _(F, ctx, g, shape, key):
    return F.getitem(g, key)


index_put_add_op.jvp(_jvp.linear(index_put_add_op))


def _plan(x, key):
    """``(basic, adv)`` NumPy keys for a PyTorch key (Note [torch indexing] in _index_key.py)."""
    if _K.is_plain(key):
        return (key if type(key) is tuple else (key,)), None
    return _K.parse(x, key)


def getitem(input, key):
    """``input[key]`` with PyTorch's semantics; basic indexing returns a view.

    Ints, slices (positive steps), None, Ellipsis, bool masks and integer
    tensors/arrays/lists combine by PyTorch's rules (Note [torch indexing]):
    ints select first, then the index tensors pick from the dims left. Gradients
    of repeated integer indices accumulate.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.arange(24.0).reshape(2, 3, 4)
        >>> x[0, :, [0, 1]].shape
        tapegrad.Size([3, 2])
        >>> y = tapegrad.arange(6.0).reshape(2, 3)
        >>> y[y > 3]
        tensor([4., 5.])
    """
    if _K.is_plain(key):                   # the hot path: NumPy reads these keys as PyTorch does
        try:
            out = apply(getitem_op, input, key=key)
        except IndexError as e:
            raise _K.explain_basic(input, key, e) from None
        out._version = input._version      # a view shares the version counter, recorded or not
        set_base(out, input)
        return out
    basic, adv = _K.parse(input, key)
    out = input
    if basic is not None:
        out = apply(getitem_op, input, key=basic)
        out._version = input._version
        set_base(out, input)
    if adv is not None:
        out = apply(index_op, out, key=adv)
    return out


# ----------------------------------------------------------------- __setitem__

# ----------------------------------------------------------------- composed index ops

def _arange(be, n, ndim, axis):
    shape = [1] * ndim
    shape[axis] = n
    return be.reshape(be.arange(0, n, 1, np.int64), tuple(shape))


def _check_index(name, index, want_ndim=None):
    Tensor = _tensor_cls()
    if not isinstance(index, Tensor):
        index = Tensor._coerce(np.asarray(index))
    if index.dtype not in (D.int64, D.int32):
        raise RuntimeError(f"{name}(): Expected dtype int64 or int32 for index, got {index.dtype}")
    if want_ndim is not None and index.ndim != want_ndim and not (want_ndim == 1 and index.ndim == 0):
        raise IndexError(f"{name}(): index must be {want_ndim}-D, got shape {tuple(index.shape)}")
    return index


def _along_key(be, shape, index, dim):
    """The advanced key that picks ``index`` along ``dim`` and the element's own position elsewhere."""
    nd = len(shape)
    return tuple(index if d == dim else _arange(be, index.shape[d], nd, d) for d in range(nd))


def gather(input, dim, index, *, sparse_grad=False):
    """Values of ``input`` at ``index`` along ``dim``: ``out[i][j] = input[index[i][j]][j]`` for dim 0.

    Args:
        input: the source tensor.
        dim: the axis to index along.
        index: an integer tensor with ``input``'s number of dimensions and
            ``index.size(d) <= input.size(d)`` for ``d != dim``.
        sparse_grad: PyTorch's request for a sparse gradient; only False (tapegrad has no sparse tensors).

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> tapegrad.gather(x, 1, tapegrad.tensor([[0, 0], [1, 0]]))
        tensor([[1., 1.],
                [4., 3.]])
    """
    if sparse_grad:
        raise NotImplementedError("gather: sparse_grad=True (a sparse gradient for input) is not supported: "
                                  "tapegrad has no sparse tensors; use sparse_grad=False")
    index = _check_index("gather", index)
    dim = wrap_dim(dim, input.ndim, "gather")
    if index.ndim != input.ndim:
        raise RuntimeError(f"gather(): index tensor must have the same number of dimensions as input "
                           f"({input.ndim}), got shape {tuple(index.shape)}")
    for d in range(input.ndim):
        if d != dim and index.shape[d] > input.shape[d]:
            raise RuntimeError(f"gather(): size of index {tuple(index.shape)} exceeds input {tuple(input.shape)} "
                               f"at dimension {d}")
    check_index_range("gather", index, input.shape[dim] if input.ndim else 1, dim)
    if input.ndim == 0:
        return getitem(input.reshape(1), index.reshape(1)).reshape(())
    be = input._backend
    idx = be.astype(index._data, np.int64)
    return apply(index_op, input, key=_along_key(be, input.shape, idx, dim))


def take_along_dim(input, indices, dim=None):
    """Values of ``input`` at ``indices`` along ``dim`` (shapes broadcast elsewhere); flattened when dim is None.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[10.0, 30.0, 20.0], [60.0, 40.0, 50.0]])
        >>> tapegrad.take_along_dim(x, x.argmax(dim=1, keepdim=True), dim=1)
        tensor([[30.],
                [60.]])
    """
    indices = _check_index("take_along_dim", indices)
    if dim is None:
        check_index_range("take_along_dim", indices, input.numel(), 0)
        return getitem(input.reshape(-1), indices.reshape(-1))
    dim = wrap_dim(dim, input.ndim, "take_along_dim")
    if indices.ndim != input.ndim:
        raise RuntimeError(f"take_along_dim(): input and indices should have the same number of dimensions, "
                           f"got {input.ndim} and {indices.ndim}")
    be = input._backend
    nd = input.ndim
    try:
        bshape = list(np.broadcast_shapes(tuple(1 if d == dim else s for d, s in enumerate(input.shape)),
                                          tuple(1 if d == dim else s for d, s in enumerate(indices.shape))))
    except ValueError:
        raise RuntimeError(f"take_along_dim(): shapes {tuple(input.shape)} and {tuple(indices.shape)} are not "
                           f"broadcastable outside dim {dim}") from None
    check_index_range("take_along_dim", indices, input.shape[dim], dim, negative=True)  # PyTorch wraps these
    bshape[dim] = indices.shape[dim]
    idx = be.broadcast_to(be.astype(indices._data, np.int64), tuple(bshape))
    key = tuple(idx if d == dim else
                (_arange(be, bshape[d], nd, d) if input.shape[d] == bshape[d] else 0) for d in range(nd))
    return apply(index_op, input, key=key)


def index_select(input, dim, index):
    """The entries of ``input`` at the 1-D integer ``index`` along ``dim``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> tapegrad.index_select(x, 0, tapegrad.tensor([1, 1, 0]))
        tensor([[3., 4.],
                [3., 4.],
                [1., 2.]])
    """
    index = _check_index("index_select", index, want_ndim=1)
    dim = wrap_dim(dim, input.ndim, "index_select")
    check_index_range("index_select", index, input.shape[dim] if input.ndim else 1, dim, IndexError)
    if input.ndim == 0:
        return getitem(input.reshape(1), index.reshape(-1)).reshape(())
    be = input._backend
    key = (slice(None),) * dim + (be.astype(index._data.reshape(-1) if index.ndim == 0 else index._data,
                                            np.int64),)
    return apply(index_op, input, key=key)


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` plus ``alpha * source`` added at rows ``index`` along ``dim`` (repeats accumulate).

    Example:
        >>> import tapegrad
        >>> tapegrad.index_add(tapegrad.zeros(3), 0, tapegrad.tensor([0, 0, 2]), tapegrad.ones(3))
        tensor([2., 0., 1.])
    """
    index = _check_index("index_add", index, want_ndim=1)
    dim = wrap_dim(dim, input.ndim, "index_add")
    be = input._backend
    want = tuple(input.shape[:dim]) + (index.numel(),) + tuple(input.shape[dim + 1:])
    if tuple(source.shape) != want and not (input.ndim == 0 and source.numel() == index.numel()):
        raise RuntimeError(f"index_add(): source should have shape {want}, got {tuple(source.shape)}")
    check_index_range("index_add", index, input.shape[dim] if input.ndim else 1, dim, IndexError)
    if alpha != 1:
        source = source * alpha
    if input.ndim == 0:
        return input + source.sum()
    key = (slice(None),) * dim + (be.astype(index._data, np.int64),)
    return input + apply(index_put_add_op, source.to(input.dtype), shape=tuple(input.shape), key=key)


def scatter_add(input, dim, index, src):
    """``input`` plus ``src`` added at ``index`` along ``dim`` (the adjoint of gather; repeats accumulate).

    Example:
        >>> import tapegrad
        >>> tapegrad.scatter_add(tapegrad.zeros(3), 0, tapegrad.tensor([2, 2, 0]), tapegrad.ones(3))
        tensor([1., 0., 2.])
    """
    index = _check_index("scatter_add", index)
    dim = wrap_dim(dim, input.ndim, "scatter_add")
    if not (index.ndim == src.ndim == input.ndim):
        raise RuntimeError(f"scatter_add(): index, src and input must have the same number of dimensions, "
                           f"got {index.ndim}, {src.ndim} and {input.ndim}")
    for d in range(index.ndim):
        if index.shape[d] > src.shape[d] or (d != dim and index.shape[d] > input.shape[d]):
            raise RuntimeError(f"scatter_add(): index {tuple(index.shape)} is larger than src "
                               f"{tuple(src.shape)} or input {tuple(input.shape)} at dimension {d}")
    check_index_range("scatter_add", index, input.shape[dim] if input.ndim else 1, dim)
    if input.ndim == 0:
        return input + src.sum() * (index.numel() > 0)
    be = input._backend
    idx = be.astype(index._data, np.int64)
    if tuple(src.shape) != tuple(index.shape):
        src = getitem(src, tuple(slice(0, s) for s in index.shape))
    return input + apply(index_put_add_op, src.to(input.dtype), shape=tuple(input.shape),
                         key=_along_key(be, input.shape, idx, dim))


def masked_fill(input, mask, value):
    """``input`` with ``value`` where the bool ``mask`` (broadcast to input's shape) is True.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([1.0, 2.0, 3.0])
        >>> tapegrad.masked_fill(x, x > 1.5, 0.0)
        tensor([1., 0., 0.])
    """
    Tensor = _tensor_cls()
    if not isinstance(mask, Tensor):
        mask = Tensor._coerce(np.asarray(mask))
    if mask.dtype is not D.bool:
        raise RuntimeError(f"masked_fill(): expected a bool mask, got {mask.dtype}")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"masked_fill(): only supports a 0-dimensional value tensor, but got a tensor with "
                           f"{value.ndim} dimension(s)")
    try:
        ok = np.broadcast_shapes(tuple(mask.shape), tuple(input.shape)) == tuple(input.shape)
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"masked_fill(): the mask of shape {tuple(mask.shape)} must be broadcastable to the "
                           f"input's shape {tuple(input.shape)}")
    out = apply(where_op, mask, value, input)
    return out if out.dtype is input.dtype else out.to(input.dtype)


def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or a tuple of 1-D tensors.

    Example:
        >>> import tapegrad
        >>> tapegrad.nonzero(tapegrad.tensor([[0, 1], [2, 0]]))
        tensor([[0, 1],
                [1, 0]])
    """
    Tensor = _tensor_cls()
    be = input._backend
    x = input._data
    from ..tape.capture import host_read     # Note [capture hook]: the result's shape depends on the data
    host_read(input, "nonzero() (its result's shape depends on the data)")
    if x.ndim == 0:
        idx = be.nonzero(be.reshape(x, (1,)))
        if as_tuple:
            return tuple(Tensor._make(be.astype(i, np.int64), None) for i in idx)
        return Tensor._make(be.zeros((int(idx[0].shape[0]), 0), np.int64), None)
    idx = tuple(be.astype(i, np.int64) for i in be.nonzero(x))
    if as_tuple:
        return tuple(Tensor._make(i, None) for i in idx)
    return Tensor._make(be.stack(idx, axis=1), None)


__all__ = ["gather", "index_select", "take_along_dim", "masked_fill", "nonzero", "index_add", "scatter_add"]
METHODS = {n: globals()[n] for n in __all__}
METHODS["__getitem__"] = getitem
