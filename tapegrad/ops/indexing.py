"""Indexing: __getitem__ (ints, slices, None, Ellipsis, bool masks, integer arrays), __setitem__,
gather, index_select, take_along_dim, masked_fill, index_add, scatter_add, nonzero.

Two primitives carry every gradient here: ``getitem``/``index`` (basic/advanced
indexing) and ``index_put_add`` (zeros with values added at a key, repeated
indices accumulating). Each is the other's VJP, so any order of derivative works;
gather, index_select, take_along_dim, index_add and scatter_add are composed of them.

# Note [mode-dispatching helpers]
The backend's ``scatter_add(shape, key, values, dtype)`` does not take the
gradient array first, so a VJP cannot reach the recorded op through
``F.scatter_add`` (Note [two-mode VJPs]). ``_scatter``/``_index`` call the
backend on raw arrays and the recorded op (via ``apply``) on Tensors.
"""
import numpy as np

from .. import _dtype as D
from .. import backend as B
from .registry import op, apply, TENSOR_MATH
from ._dims import wrap_dim
from ..autograd import grad_mode as _gm
from .inplace import check_writable

_INT_KINDS = "iu"


def _is_basic(key):
    for k in key:
        t = type(k)
        if not (t is int or t is slice or k is None or k is Ellipsis):
            return False
    return True


def _tensor_cls():
    from .._tensor import Tensor
    return Tensor


def _norm_key(x, key):
    """Turn a user key into a tuple of ints, slices, None, Ellipsis, bools and backend arrays."""
    Tensor = _tensor_cls()
    be = B.BY_TYPE[type(x._data)]
    if type(key) is not tuple:
        key = (key,)
    out = []
    for k in key:
        if k is None or k is Ellipsis or type(k) is slice:
            out.append(k if type(k) is not slice else _norm_slice(k))
        elif isinstance(k, (bool, np.bool_)):
            out.append(bool(k))
        elif isinstance(k, (int, np.integer)):
            out.append(int(k))
        elif isinstance(k, Tensor):
            kb = B.BY_TYPE[type(k._data)]
            kd = k._data
            if kb is not be:
                if kb.device_type != "cpu":     # as in PyTorch: CPU indices are copied to the tensor's device
                    raise RuntimeError(f"indexing: the index is on {k.device} but the tensor is on {x.device}; "
                                       "indices must be on the cpu or on the tensor's device")
                kd = be.from_numpy(kd)
            out.append(_index_array(be, kd, k.dtype.name))
        elif isinstance(k, (np.ndarray, list, tuple)):
            a = np.asarray(k)
            if a.size == 0 and a.dtype.kind == "f":
                a = a.astype(np.int64)      # [] indexes nothing, as in PyTorch
            out.append(_index_array(be, be.from_numpy(a), str(a.dtype)))
        else:
            raise TypeError(f"indexing: unsupported index of type {type(k).__name__}; expected int, slice, "
                            "None, Ellipsis, a bool mask or an integer tensor/array/list")
    return tuple(out)


def _norm_slice(s):
    def idx(v):
        if v is None or type(v) is int:
            return v
        try:
            return v.__index__()
        except (AttributeError, TypeError):
            raise TypeError(f"indexing: slice indices must be integers or None, got {v!r}") from None
    if s.step is not None and idx(s.step) == 0:
        raise ValueError("indexing: slice step cannot be zero")
    return slice(idx(s.start), idx(s.stop), idx(s.step))


def _index_array(be, a, dtname):
    kind = a.dtype.kind
    if kind == "b":
        return a
    if kind not in _INT_KINDS:
        raise IndexError(f"indexing: tensors used as indices must be long, int or bool tensors, got {dtname}")
    if a.ndim == 0:
        return int(a)               # a 0-d integer index acts like an int (a view), as in PyTorch
    return be.astype(a, np.int64)


@op("getitem", promote=None, view=True)
def getitem_op(be, x, key):
    return be.getitem(x, key)


@op("index", promote=None)
def index_op(be, x, key):
    return be.getitem(x, key)


@op("index_put_add", promote=None)
def index_put_add_op(be, values, shape, key):
    return be.scatter_add(shape, key, values, values.dtype)


def _index(F, g, key):
    """``g[key]`` in either VJP mode (Note [mode-dispatching helpers])."""
    if F is TENSOR_MATH:
        return apply(getitem_op if _is_basic(key) else index_op, g, key=key)
    return F.getitem(g, key)


def _scatter(F, g, shape, key):
    """zeros(shape) with ``g`` added at ``key`` in either VJP mode (Note [mode-dispatching helpers])."""
    if F is TENSOR_MATH:
        return apply(index_put_add_op, g, shape=shape, key=key)
    return F.scatter_add(shape, key, g, g.dtype)


@getitem_op.vjp
def _(F, ctx, g, key):
    return _scatter(F, g, ctx.shapes[0], key)


@index_op.vjp
def _(F, ctx, g, key):
    return _scatter(F, g, ctx.shapes[0], key)


@index_put_add_op.vjp
def _(F, ctx, g, shape, key):
    return _index(F, g, key)


def getitem(input, key):
    """``input[key]`` with PyTorch/NumPy semantics; basic indexing returns a view.

    Ints, slices (negative steps too), None, Ellipsis, bool masks and integer
    tensors/arrays/lists combine by NumPy's rules. Gradients of repeated
    integer indices accumulate.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.arange(6.0).reshape(2, 3)
        >>> x[1, ::-1]
        tensor([5., 4., 3.])
        >>> x[x > 3]
        tensor([4., 5.])
    """
    key = _norm_key(input, key)
    if _is_basic(key):
        out = apply(getitem_op, input, key=key)
        out._version = input._version      # a view shares the version counter, recorded or not
        return out
    return apply(index_op, input, key=key)


# ----------------------------------------------------------------- __setitem__

@op("setitem", promote=None)
def setitem_op(be, x, value, key):
    be.setitem(x, key, value)
    return x


@setitem_op.vjp
def _(F, ctx, g, key):
    n = ctx.next
    gx = gv = None
    if n[0] is not None:
        be = B.BY_TYPE.get(type(g._data if F is TENSOR_MATH else g), B.CPU_BACKEND)
        keep = be.ones(ctx.shapes[0], g.dtype if F is not TENSOR_MATH else g._data.dtype)
        be.setitem(keep, key, 0)
        if F is TENSOR_MATH:
            keep = _tensor_cls()._make(keep, None)
        gx = g * keep
    if n[1] is not None:
        gv = _index(F, g, key)        # the engine sums it back to the value's shape
    return gx, gv


def setitem(self, key, value):
    """``self[key] = value`` in place (bumps the version counter).

    Example:
        >>> import tapegrad
        >>> x = tapegrad.zeros(4)
        >>> x[1:3] = 5.0
        >>> x
        tensor([0., 5., 5., 0.])
    """
    Tensor = _tensor_cls()
    check_writable("setitem", self)
    be = B.BY_TYPE[type(self._data)]
    key = _norm_key(self, key)
    vt = isinstance(value, Tensor)
    recording = _gm.STATE.enabled and (self._requires_grad or (vt and value._requires_grad))
    if recording and self._requires_grad and self._grad_fn is None:
        raise RuntimeError(f"setitem: a leaf Variable that requires grad (shape {tuple(self.shape)}) is being "
                           "used in an in-place operation; wrap it in tapegrad.no_grad() or assign into a clone()")
    if vt and B.BY_TYPE[type(value._data)] is not be:
        raise RuntimeError(f"setitem: the value is on {value.device} but the tensor is on {self.device}")
    if not vt:
        a = np.asarray(value)
        if a.dtype == object:
            raise TypeError(f"setitem: cannot assign a value of type {type(value).__name__}")
        value = Tensor._make(be.from_numpy(a.astype(self._data.dtype)), None)
    elif value.dtype is not self.dtype:
        value = value.to(self.dtype)
    if recording:
        if be.is_view(self._data):
            raise NotImplementedError(
                f"setitem: assigning into a view (shape {tuple(self.shape)}) while recording gradients is not "
                "supported; assign into the base tensor, use masked_fill/where, or wrap it in tapegrad.no_grad()")
        res = apply(setitem_op, self, value, key=key)
        self._grad_fn = res._grad_fn
        self._output_nr = 0
        self._requires_grad = True
    else:
        try:
            be.setitem(self._data, key, value._data)
        except (IndexError, ValueError, TypeError) as e:
            raise type(e)(f"setitem: {e} (tensor of shape {tuple(self.shape)}, value of shape "
                          f"{tuple(value.shape)})") from e
    self._version[0] += 1
    self._version[1] = "setitem"


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


def gather(input, dim, index):
    """Values of ``input`` at ``index`` along ``dim``: ``out[i][j] = input[index[i][j]][j]`` for dim 0.

    Args:
        input: the source tensor.
        dim: the axis to index along.
        index: an integer tensor with ``input``'s number of dimensions and
            ``index.size(d) <= input.size(d)`` for ``d != dim``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> tapegrad.gather(x, 1, tapegrad.tensor([[0, 0], [1, 0]]))
        tensor([[1., 1.],
                [4., 3.]])
    """
    index = _check_index("gather", index)
    dim = wrap_dim(dim, input.ndim, "gather")
    if index.ndim != input.ndim:
        raise RuntimeError(f"gather(): index tensor must have the same number of dimensions as input "
                           f"({input.ndim}), got shape {tuple(index.shape)}")
    for d in range(input.ndim):
        if d != dim and index.shape[d] > input.shape[d]:
            raise RuntimeError(f"gather(): size of index {tuple(index.shape)} exceeds input {tuple(input.shape)} "
                               f"at dimension {d}")
    if input.ndim == 0:
        return getitem(input.reshape(1), index.reshape(1)).reshape(())
    be = B.BY_TYPE[type(input._data)]
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
        return getitem(input.reshape(-1), indices.reshape(-1))
    dim = wrap_dim(dim, input.ndim, "take_along_dim")
    if indices.ndim != input.ndim:
        raise RuntimeError(f"take_along_dim(): input and indices should have the same number of dimensions, "
                           f"got {input.ndim} and {indices.ndim}")
    be = B.BY_TYPE[type(input._data)]
    nd = input.ndim
    try:
        bshape = list(np.broadcast_shapes(tuple(1 if d == dim else s for d, s in enumerate(input.shape)),
                                          tuple(1 if d == dim else s for d, s in enumerate(indices.shape))))
    except ValueError:
        raise RuntimeError(f"take_along_dim(): shapes {tuple(input.shape)} and {tuple(indices.shape)} are not "
                           f"broadcastable outside dim {dim}") from None
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
    if input.ndim == 0:
        return getitem(input.reshape(1), index.reshape(-1)).reshape(())
    be = B.BY_TYPE[type(input._data)]
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
    be = B.BY_TYPE[type(input._data)]
    want = tuple(input.shape[:dim]) + (index.numel(),) + tuple(input.shape[dim + 1:])
    if tuple(source.shape) != want and not (input.ndim == 0 and source.numel() == index.numel()):
        raise RuntimeError(f"index_add(): source should have shape {want}, got {tuple(source.shape)}")
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
    if input.ndim == 0:
        return input + src.sum() * (index.numel() > 0)
    be = B.BY_TYPE[type(input._data)]
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
    from .elementwise import where_op
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
    be = B.BY_TYPE[type(input._data)]
    x = input._data
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
METHODS["__setitem__"] = setitem
