"""Writing into copies: ``scatter scatter_reduce index_copy index_fill masked_scatter`` (and their in-place
forms), and the in-place reshapes ``t_ transpose_ swapaxes_ swapdims_ squeeze_ unsqueeze_``.

Writes are the recorded ``setitem`` op on a clone (its VJP sends the gradient
to the written values and zeros it where they landed), sums are
``index_put_add``. ``scatter_reduce`` with ``prod``, ``amax`` or ``amin``
gathers every output position's candidates (its own value when
``include_self``, then the scattered ones, a neutral fill elsewhere) along a
new last dim and reduces it, so ``amax``/``amin`` ties share the gradient
evenly, as in PyTorch; this costs memory ``input.numel() * index.size(dim)``.
"""
from .. import _creation
from .. import _dtype as D
from .._type_info import iinfo
from ..tape import grad_mode as _gm
from ._dims import wrap_dim
from .registry import apply
from ._setitem import setitem_op
from .shape import pad_axis_op
from . import elementwise as E
from . import indexing as X
from . import joining as J
from . import shape as S
from ._index_key import check_index_range
from .inplace import _inplace
from .structure4 import same_device

__all__ = ["scatter", "scatter_reduce", "index_copy", "index_fill", "masked_scatter"]

_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _write(input, key, values):
    """``input`` with ``values`` written at the advanced ``key`` (a recorded out-of-place write)."""
    return apply(setitem_op, input.clone(), values.to(input.dtype), basic=None, adv=key)


def _scatter_check(name, input, dim, index, src):
    index = X._check_index(name, index)
    d = wrap_dim(dim, input.ndim, name)
    if index.ndim != input.ndim or (src is not None and src.ndim != input.ndim):
        raise RuntimeError(f"{name}(): Index tensor must have the same number of dimensions as self tensor "
                           f"(self {list(input.shape)}, index {list(index.shape)}"
                           f"{'' if src is None else f', src {list(src.shape)}'})")
    for k in range(index.ndim):
        if (src is not None and index.shape[k] > src.shape[k]) or (k != d and index.shape[k] > input.shape[k]):
            raise RuntimeError(f"{name}(): Expected index {list(index.shape)} to be smaller than self "
                               f"{list(input.shape)} apart from dimension {d} and to be smaller size than src "
                               f"{None if src is None else list(src.shape)}")
    check_index_range(name, index, input.shape[d] if input.ndim else 1, d)
    return index, d


def _src(src, index):
    if tuple(src.shape) != tuple(index.shape):
        src = X.getitem(src, tuple(slice(0, s) for s in index.shape))
    return src


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """``input`` with ``src`` (or the number ``value``) written at ``index`` along ``dim``.

    ``out[index[i][j]][j] = src[i][j]`` for dim 0; ``reduce="add"``/``"multiply"`` combine instead.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(3).scatter(0, tapegrad.tensor([2, 0]), tapegrad.tensor([5.0, 7.0]))
        tensor([7., 0., 5.])
        >>> tapegrad.ones(3).scatter(0, tapegrad.tensor([1, 1]), 2.0, reduce="multiply")
        tensor([1., 4., 1.])
    """
    Tensor = X._tensor_cls()
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src
    if (src is None) == (value is None):
        raise TypeError("scatter(): expected exactly one of src (a tensor) and value (a number)")
    if src is not None and src.dtype is not input.dtype:
        raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype, got {input.dtype} and "
                           f"{src.dtype}")
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce!r}")
    same_device("scatter", input, index, src)
    index, d = _scatter_check("scatter", input, dim, index, src)
    if src is None:
        src = _creation.full(tuple(index.shape), value, dtype=input.dtype, device=input.device)
    src = _src(src, index)
    if reduce is not None:
        return scatter_reduce(input, d, index, src, "sum" if reduce == "add" else "prod")
    if input.ndim == 0:
        return scatter(input.reshape(1), 0, index.reshape(-1), src.reshape(-1)).reshape(())
    be = input._backend
    key = X._along_key(be, tuple(index.shape), be.astype(index._data, D.int64.np), d)
    return _write(input, key, src)


def _neutral(reduce, dtype):
    if reduce == "sum":
        return 0
    if reduce == "prod":
        return 1
    if dtype.is_floating_point:
        return float("-inf") if reduce == "amax" else float("inf")
    info = iinfo(dtype) if dtype is not D.bool else None
    if info is None:
        return reduce == "amin"
    return info.min if reduce == "amax" else info.max


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """``input`` with ``src`` reduced into it at ``index`` along ``dim``: sum, prod, mean, amax or amin.

    ``include_self=False`` leaves ``input``'s own value out at every position that receives a value.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([1.0, 2.0, 3.0])
        >>> x.scatter_reduce(0, tapegrad.tensor([0, 0, 1]), tapegrad.tensor([4.0, 5.0, 6.0]), "amax")
        tensor([5., 6., 3.])
        >>> x.scatter_reduce(0, tapegrad.tensor([0, 0, 1]), tapegrad.tensor([4.0, 5.0, 6.0]), "mean",
        ...                  include_self=False)
        tensor([4.5000, 6.0000, 3.0000])
    """
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)      # PyTorch takes these spellings too
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if src.dtype is not input.dtype:
        raise RuntimeError(f"scatter_reduce(): Expected self.dtype to be equal to src.dtype, got {input.dtype} "
                           f"and {src.dtype}")
    same_device("scatter_reduce", input, index, src)
    index, d = _scatter_check("scatter_reduce", input, dim, index, src)
    if input.ndim == 0:
        out = scatter_reduce(input.reshape(1), 0, index.reshape(-1), src.reshape(-1), reduce,
                             include_self=include_self)
        return out.reshape(())
    src = _src(src, index)
    be = input._backend
    idx = be.astype(index._data, D.int64.np)
    key = X._along_key(be, tuple(index.shape), idx, d)
    hit = be.scatter_add(tuple(input.shape), key, be.ones(tuple(index.shape), D.int64.np), D.int64.np)
    got = input.__class__._make(hit > 0, None)
    base = input if include_self else E.where(got, _neutral("sum" if reduce in ("sum", "mean") else reduce,
                                                            input.dtype), input)
    if reduce in ("sum", "mean"):
        total = base + apply(X.index_put_add_op, src, shape=tuple(input.shape), key=key)
        if reduce == "sum":
            return total
        count = input.__class__._make(hit, None) + (1 if include_self else 0)
        count = E.where(count > 0, count, 1)
        mean = total / count if input.dtype.is_floating_point else E.div(total, count, rounding_mode="floor")
        return E.where(got, mean, input)
    # prod, amax, amin: the candidates of every output position along a new last dim (see the module note)
    n = input.shape[d]
    moved = S.movedim(src, d, -1).unsqueeze(-2)                   # (..., 1, k)
    onehot = be.equal(be.expand_dims(be.transpose(idx, _to_last(index.ndim, d)), -2),
                      be.reshape(be.arange(0, n, 1, D.int64.np), (n, 1)))       # (..., n, k)
    for a in range(input.ndim - 1):
        after = input.shape[a if a < d else a + 1] - index.shape[a if a < d else a + 1]
        if after:
            moved = apply(pad_axis_op, moved, axis=a, before=0, after=after)
            onehot = be.pad_axis(onehot, a, 0, after)
    mask = input.__class__._make(onehot, None)
    cand = E.where(mask, moved, _neutral(reduce, input.dtype))
    cand = J.cat([S.movedim(base, d, -1).unsqueeze(-1), cand], -1)
    red = cand.prod(-1) if reduce == "prod" else (cand.amax(-1) if reduce == "amax" else cand.amin(-1))
    return E.where(got, S.movedim(red, -1, d), input)


def _to_last(nd, d):
    return tuple(a for a in range(nd) if a != d) + (d,)


def index_copy(input, dim, index, source):
    """``input`` with the slices of ``source`` copied to positions ``index`` along ``dim``.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(3, 2).index_copy(0, tapegrad.tensor([2, 0]), tapegrad.ones(2, 2))
        tensor([[1., 1.],
                [0., 0.],
                [1., 1.]])
    """
    same_device("index_copy", input, index, source)
    index = X._check_index("index_copy", index, want_ndim=1)
    d = wrap_dim(dim, input.ndim, "index_copy")
    want = tuple(input.shape[:d]) + (index.numel(),) + tuple(input.shape[d + 1:])
    if input.ndim and tuple(source.shape) != want:
        raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice shapes. Destination "
                           f"{list(input.shape)}, source {list(source.shape)}, index {list(index.shape)}, dim {d}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{input.dtype} and (source) {source.dtype}")
    check_index_range("index_copy", index, input.shape[d] if input.ndim else 1, d, IndexError)
    if input.ndim == 0:
        return index_copy(input.reshape(1), 0, index.reshape(-1), source.reshape(-1)).reshape(())
    be = input._backend
    key = (slice(None),) * d + (be.astype(index._data.reshape(-1), D.int64.np),)
    return apply(setitem_op, input.clone(), source, basic=key, adv=None)


def index_fill(input, dim, index, value):
    """``input`` with the slices at ``index`` along ``dim`` set to ``value`` (a number or a 0-d tensor).

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 3).index_fill(1, tapegrad.tensor([0, 2]), -1.0)
        tensor([[-1.,  0., -1.],
                [-1.,  0., -1.]])
    """
    Tensor = X._tensor_cls()
    same_device("index_fill", input, index, value)
    index = X._check_index("index_fill", index, want_ndim=1)
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    d = wrap_dim(dim, input.ndim, "index_fill")
    n = input.shape[d] if input.ndim else 1
    check_index_range("index_fill", index, n, d, IndexError, negative=True)
    be = input._backend
    idx = be.astype(index._data.reshape(-1), D.int64.np)
    idx = be.where(idx < 0, idx + n, idx)
    hit = be.scatter_add((n,), (idx,), be.ones(tuple(idx.shape), D.int64.np), D.int64.np) > 0
    shape = [1] * input.ndim
    if input.ndim:
        shape[d] = n
    mask = input.__class__._make(be.reshape(hit, tuple(shape)), None)
    if isinstance(value, Tensor):
        value = value.to(input.dtype)
    return E.where(mask, value, input)


def masked_scatter(input, mask, source):
    """``input`` with the first elements of ``source`` written, in order, where the bool ``mask`` is True.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.zeros(2, 2)
        >>> x.masked_scatter(tapegrad.tensor([[True, False], [True, True]]), tapegrad.tensor([1.0, 2.0, 3.0]))
        tensor([[1., 0.],
                [2., 3.]])
    """
    if mask.dtype is not D.bool:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype {mask.dtype}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got {input.dtype} "
                           f"and {source.dtype}")
    same_device("masked_scatter", input, mask, source)
    x, m = J.broadcast_tensors(input, mask)
    be = x._backend
    key = be.nonzero(m._data)
    k = int(key[0].shape[0]) if key else int(bool(m.item()))
    if source.numel() < k:
        raise RuntimeError(f"masked_scatter: expected source to have at least {k} elements (the number of True "
                           f"entries in mask), got {source.numel()}")
    if x.ndim == 0:
        return source.reshape(-1)[0] + x * 0 if k else x.clone()
    return _write(x, tuple(key), source.reshape(-1).narrow(0, 0, k))


def index_copy_(self, dim, index, source):
    """In-place ``index_copy``; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(3).index_copy_(0, tapegrad.tensor([1]), tapegrad.tensor([4.0]))
        tensor([0., 4., 0.])
    """
    return _inplace("index_copy_", self, lambda s: index_copy(s, dim, index, source), False, (source,))


def index_fill_(self, dim, index, value):
    """In-place ``index_fill``; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(3).index_fill_(0, tapegrad.tensor([1]), -1.0)
        tensor([ 0., -1.,  0.])
    """
    return _inplace("index_fill_", self, lambda s: index_fill(s, dim, index, value), False, (value,),
                    cast_check=False)


def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    """In-place ``scatter``; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(3).scatter_(0, tapegrad.tensor([2]), 1.5)
        tensor([0.0000, 0.0000, 1.5000])
    """
    return _inplace("scatter_", self, lambda s: scatter(s, dim, index, src, value=value, reduce=reduce),
                    reduce is not None, (src,))


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    """In-place ``scatter_reduce``; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2).scatter_reduce_(0, tapegrad.tensor([1, 1]), tapegrad.tensor([2.0, 3.0]), "prod")
        tensor([1., 6.])
    """
    return _inplace("scatter_reduce_", self,
                    lambda s: scatter_reduce(s, dim, index, src, reduce, include_self=include_self),
                    reduce != "sum", (src,))


def masked_scatter_(self, mask, source):
    """In-place ``masked_scatter`` (``mask`` must broadcast to self's shape); returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(3).masked_scatter_(tapegrad.tensor([True, False, True]), tapegrad.tensor([1.0, 2.0]))
        tensor([1., 0., 2.])
    """
    if tuple(J.broadcast_shapes(tuple(self.shape), tuple(mask.shape))) != tuple(self.shape):
        raise RuntimeError(f"masked_scatter_: mask of shape {list(mask.shape)} does not broadcast to self's shape "
                           f"{list(self.shape)}")
    return _inplace("masked_scatter_", self, lambda s: masked_scatter(s, mask, source), False, (source,))


_LEAF = "a leaf Variable that requires grad is being used in an in-place operation."


def _meta(name, self, r):
    """Make ``self`` the reshaped view ``r`` of its own memory, in place (a version bump, as PyTorch)."""
    self._data = r._data
    if r._grad_fn is not None:
        self._grad_fn = r._grad_fn
        self._output_nr = r._output_nr
    v = self._version
    v[0] += 1
    v[1] = name
    return self


def _leaf_check(name, self):
    if self._grad_fn is None and self._requires_grad and _gm.STATE.enabled:
        raise RuntimeError(f"{name}: {_LEAF}")


def t_(self):
    """In-place ``t``: this tensor (at most 2-D) becomes its transpose; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 3).t_().shape
        tapegrad.Size([3, 2])
    """
    _leaf_check("t_", self)
    return _meta("t_", self, S.t(self))


def transpose_(self, dim0, dim1):
    """In-place ``transpose``: swap dims ``dim0`` and ``dim1`` of this tensor; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 1, 3).transpose_(0, 2).shape
        tapegrad.Size([3, 1, 2])
    """
    _leaf_check("transpose_", self)
    return _meta("transpose_", self, S.transpose(self, dim0, dim1))


def swapaxes_(self, axis0, axis1):
    """In-place ``swapaxes`` (``transpose_``); returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 1, 3).swapaxes_(0, 1).shape
        tapegrad.Size([1, 2, 3])
    """
    _leaf_check("swapaxes_", self)
    return _meta("swapaxes_", self, S.transpose(self, axis0, axis1))


def swapdims_(self, dim0, dim1):
    """In-place ``swapdims`` (``transpose_``); returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 1, 3).swapdims_(1, 2).shape
        tapegrad.Size([2, 3, 1])
    """
    _leaf_check("swapdims_", self)
    return _meta("swapdims_", self, S.transpose(self, dim0, dim1))


def squeeze_(self, dim=None):
    """In-place ``squeeze``: drop size-1 dims (all, or those among ``dim``); returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 1, 3).squeeze_().shape
        tapegrad.Size([2, 3])
    """
    _leaf_check("squeeze_", self)
    return _meta("squeeze_", self, S.squeeze(self, dim))


def unsqueeze_(self, dim):
    """In-place ``unsqueeze``: insert a size-1 dim at ``dim``; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 3).unsqueeze_(0).shape
        tapegrad.Size([1, 2, 3])
    """
    _leaf_check("unsqueeze_", self)
    return _meta("unsqueeze_", self, S.unsqueeze(self, dim))


def as_strided_(self, size, stride, storage_offset=None):
    """In-place ``as_strided`` (on a contiguous tensor): this tensor becomes the strided view; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.arange(6).as_strided_((2, 2), (1, 2), 1)
        tensor([[1, 3],
                [2, 4]])
    """
    from .structure2 import as_strided
    _leaf_check("as_strided_", self)
    return _meta("as_strided_", self, as_strided(self, size, stride, storage_offset))


METHODS = {n: globals()[n] for n in __all__ + ["scatter_", "scatter_reduce_", "index_copy_", "index_fill_",
                                              "masked_scatter_", "t_", "transpose_", "swapaxes_", "swapdims_",
                                              "squeeze_", "unsqueeze_", "as_strided_"]}
