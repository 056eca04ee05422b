"""Small Tensor methods: ``apply_``, ``map_``, ``resize_``, ``sum_to_size``, ``put_``/``put`` and
``masked_scatter_``/``masked_scatter``, with torch's semantics and errors.

``apply_``/``map_`` call a Python function per element, on CPU tensors only (as torch). ``resize_`` keeps the
tensor's memory when the new size fits (a view of its first elements) and otherwise gives it new memory whose
first elements are the old ones and the rest uninitialised, as torch's storage reallocation does. ``put_`` and
``masked_scatter_`` are composed of recorded ops (a flat ``__setitem__``), so they are differentiable.
"""
import numpy as np

from . import _dtype as D
from ._random_functions import scalar_name
from ._tensor import Tensor
from .ops.inplace import _inplace, check_writable

__all__ = []


def _bump(t, name):
    v = t._version
    v[0] += 1
    v[1] = name


def _cpu_only(name, t):
    if t.device.type != "cpu":
        raise TypeError(f"{name} is only implemented on CPU tensors (got a tensor on {t.device})")


def _write(name, t, values):
    """Write the NumPy array ``values`` (self's shape) into ``t`` and bump its version."""
    t._backend.setitem(t._data, Ellipsis, values.astype(t.dtype.np, copy=False))
    _bump(t, name)
    return t


def apply_(self, callable):  # noqa: A002
    """In-place: replace every element ``v`` by ``callable(v)`` (a Python function; CPU tensors only).

    Example:
        >>> import tapegrad
        >>> tapegrad.tensor([1.0, 2.0]).apply_(lambda v: v * 10)
        tensor([10., 20.])
    """
    _cpu_only("apply_", self)
    if self.requires_grad:
        raise RuntimeError("Can't call apply_() on Variable that requires grad. Use var.detach().apply_() instead.")
    check_writable("apply_", self)
    a = np.asarray(self._backend.to_numpy(self._data))
    out = np.array([callable(v) for v in a.reshape(-1).tolist()], dtype=object).reshape(a.shape)
    return _write("apply_", self, out)


def map_(self, tensor, callable):  # noqa: A002
    """In-place: ``self[i] = callable(self[i], tensor[i])`` with ``tensor`` broadcast to self (CPU only).

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2, 2).map_(tapegrad.tensor([1.0, 2.0]), lambda a, b: a + b)
        tensor([[2., 3.],
                [2., 3.]])
    """
    _cpu_only("map_", self)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"map_(): argument 'tensor' must be Tensor, not {type(tensor).__name__}")
    _cpu_only("map_", tensor)
    if tensor.dtype is not self.dtype:
        raise TypeError(f"map_: expected a {scalar_name(self.dtype)} tensor for 'other' (got "
                        f"{scalar_name(tensor.dtype)}): tensor must have self's dtype {self.dtype}")
    if self.requires_grad:
        raise RuntimeError("Can't call map_() on Variable that requires grad. Use var.detach().map_() instead.")
    check_writable("map_", self)
    other = tensor.detach().expand(*self.shape)
    a = np.asarray(self._backend.to_numpy(self._data)).reshape(-1).tolist()
    b = np.asarray(other._backend.to_numpy(other._data)).reshape(-1).tolist()
    out = np.array([callable(x, y) for x, y in zip(a, b)], dtype=object).reshape(tuple(self.shape))
    return _write("map_", self, out)


def _sizes(size, fn):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        size = tuple(int(s) for s in size)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}(): size must be ints or a tuple of ints, got {size!r}") from None
    return size


def _one_of(sizes, size, name):
    """The sizes given positionally or as ``size=`` (PyTorch's keyword), not both."""
    if size is None:
        return sizes
    if sizes:
        raise TypeError(f"{name}(): the size given both positionally and as size=")
    return (size,)


def resize_(self, *sizes, size=None, memory_format=None):
    """In-place: give the tensor the shape ``sizes``, keeping its first elements (new ones uninitialised).

    Example:
        >>> import tapegrad
        >>> x = tapegrad.arange(6.0)
        >>> x.resize_(2, 2)
        tensor([[0., 1.],
                [2., 3.]])
    """
    shape = _sizes(_one_of(sizes, size, "resize_"), "resize_")
    if any(s < 0 for s in shape):
        raise RuntimeError(f"resize_: Trying to create tensor with negative dimension in size {list(shape)}")
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    be = self._backend
    n = int(np.prod(shape, dtype=np.int64))
    old = self._data
    flat = be.reshape(old if be.is_contiguous(old) else be.ascontiguousarray(old), (-1,))
    if n <= flat.shape[0]:
        new = be.reshape(be.getitem(flat, slice(0, n)), shape)
    else:
        new = be.empty((n,), self.dtype.np)
        be.setitem(new, slice(0, flat.shape[0]), flat)
        new = be.reshape(new, shape)
    self._data = new
    _bump(self, "resize_")
    return self


def sum_to_size(self, *sizes, size=None):
    """Sum ``self`` down to ``size`` (a shape that broadcasts to self's), as the gradient of a broadcast does.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2, 3).sum_to_size(1, 3)
        tensor([[2., 2., 2.]])
    """
    size = _sizes(_one_of(sizes, size, "sum_to_size"), "sum_to_size")
    shape = tuple(self.shape)
    lead = len(shape) - len(size)
    if lead < 0 or any(s != t and s != 1 for s, t in zip(size, shape[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}. (sum_to_size)")
    dims = list(range(lead)) + [lead + i for i, (s, t) in enumerate(zip(size, shape[lead:])) if s == 1 and t != 1]
    out = self.sum(dims, keepdim=True) if dims else self
    return out.reshape(size) if tuple(out.shape) != size else out


def _check_put(self, index, source):
    if not isinstance(index, Tensor) or not isinstance(source, Tensor):
        raise TypeError("put_(): index and source must be Tensors")
    if index.dtype is not D.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {scalar_name(index.dtype)}")
    if source.dtype is not self.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{scalar_name(self.dtype)} and source.dtype = {scalar_name(source.dtype)}")
    if index.numel() != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    n = self.numel()
    idx = index.detach().reshape(-1)
    if idx.numel():
        lo, hi = int(idx.min().item()), int(idx.max().item())
        bad = hi if hi >= n else lo if lo < -n else None
        if bad is not None:
            raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    return (idx + n) % n if n else idx


def _put(s, idx, source, accumulate):
    flat = s.reshape(-1)
    src = source.reshape(-1)
    if accumulate:
        out = flat.index_add(0, idx, src)
    else:
        out = flat.clone()
        out[idx] = src
    return out.reshape(tuple(s.shape))


def put_(self, index, source, accumulate=False):
    """In-place: write ``source`` at the flat positions ``index`` of self (adding when ``accumulate``).

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 2).put_(tapegrad.tensor([0, -1]), tapegrad.tensor([5.0, 6.0]))
        tensor([[5., 0.],
                [0., 6.]])
    """
    idx = _check_put(self, index, source)
    return _inplace("put_", self, lambda s: _put(s, idx, source, accumulate), False, (source,))


def put(self, index, source, accumulate=False):
    """Out of place ``put_``: a copy of self with ``source`` written at the flat positions ``index``.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(3).put(tapegrad.tensor([1, 1]), tapegrad.tensor([1.0, 2.0]), accumulate=True)
        tensor([0., 3., 0.])
    """
    idx = _check_put(self, index, source)
    return _put(self, idx, source, accumulate)


def _check_masked_scatter(name, self, mask, source):
    if not isinstance(mask, Tensor) or mask.dtype is not D.bool:
        got = scalar_name(mask.dtype) if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"{name} only supports boolean masks, but got mask with dtype {got}")
    if not isinstance(source, Tensor) or source.dtype is not self.dtype:
        got = scalar_name(source.dtype) if isinstance(source, Tensor) else type(source).__name__
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got "
                           f"{scalar_name(self.dtype)} and {got} ({name})")


def _scatter_masked(s, mask, source):
    m = mask.expand(*s.shape)
    count = int(m.sum().item())
    if source.numel() < count:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    out = s.clone()
    out[m] = source.reshape(-1)[:count]
    return out


def masked_scatter_(self, mask, source):
    """In-place: copy the first elements of ``source``, in order, where the bool ``mask`` (broadcast) is True.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(4).masked_scatter_(tapegrad.tensor([True, False, True, False]),
        ...                                   tapegrad.tensor([1.0, 2.0, 3.0]))
        tensor([1., 0., 2., 0.])
    """
    _check_masked_scatter("masked_scatter_", self, mask, source)
    return _inplace("masked_scatter_", self, lambda s: _scatter_masked(s, mask, source), False, (source,))


def masked_scatter(self, mask, source):
    """Out of place ``masked_scatter_``; self and ``mask`` broadcast together.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 2).masked_scatter(tapegrad.tensor([True, False]), tapegrad.tensor([1.0, 2.0]))
        tensor([[1., 0.],
                [2., 0.]])
    """
    _check_masked_scatter("masked_scatter", self, mask, source)
    shape = np.broadcast_shapes(tuple(self.shape), tuple(mask.shape))
    return _scatter_masked(self.expand(*shape), mask, source)


METHODS = {"apply_": apply_, "map_": map_, "resize_": resize_, "sum_to_size": sum_to_size, "put_": put_,
           "put": put, "masked_scatter_": masked_scatter_, "masked_scatter": masked_scatter}
