"""Tensor methods that treat sparse COO tensors apart: the repr (as PyTorch prints it: indices, values, then
size, nnz, dtype, layout), host reads (refused, as PyTorch), and device moves and clones (of the values, the
indices following them)."""
import functools
import re

from .. import _dtype as D
from .._repr import _add_suffixes, tensor_repr
from .._tensor import Tensor
from ..ops._sparse_array import CooArray
from ..ops.registry import apply

__all__ = ["with_sparse_repr", "dense_only", "through_values"]

_INNER = re.compile(r", (dtype=tapegrad\.\w+|device='[^']*')")


def _inner(arr, indent):
    text = _INNER.sub("", tensor_repr(Tensor._make(arr, None)))
    if arr.ndim == 1 and arr.shape[0] == 0:
        text = "tensor([], size=(0,))"          # torch names the size of empty values and indices
    return text.replace("\n", "\n" + " " * indent)


def sparse_repr(t):
    """``tensor(indices=..., values=..., size=..., nnz=..., layout=tapegrad.sparse_coo)``."""
    s = t._data
    ind = len("tensor(")
    text = ("tensor(indices=" + _inner(s.indices, len("tensor(indices=")) + ",\n" + " " * ind + "values=" +
            _inner(s.values, ind + len("values=")))
    extras = []
    from .._device import get_default_device
    if t.device.type != get_default_device().type:
        extras.append("device='cuda:0'" if t.is_cuda else "device='cpu'")
    extras += [f"size={tuple(s.shape)}", f"nnz={s.nnz}"]
    if t.dtype is not D.get_default_dtype():
        extras.append(f"dtype={t.dtype}")
    extras.append("layout=tapegrad.sparse_coo")
    if t._grad_fn is not None:
        extras.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    first, rest = extras[0], extras[1:]
    return _add_suffixes(text + ",\n" + " " * ind + first, rest, ind)


def with_sparse_repr(dense_repr):
    """``Tensor.__repr__`` that prints sparse tensors as PyTorch does and the others with ``dense_repr``."""
    def __repr__(self):
        if isinstance(self._data, CooArray):
            return sparse_repr(self)
        return dense_repr(self)
    __repr__.__doc__ = dense_repr.__doc__
    return __repr__


def dense_only(method):
    """``Tensor.<method>`` (a host read: ``numpy``, ``tolist``, ``item``) that refuses sparse tensors, as PyTorch."""
    @functools.wraps(method)        # the method's own name, signature, docstring and doctest
    def read(self, *args, **kwargs):
        if isinstance(self._data, CooArray):
            raise TypeError(f"can't convert Sparse layout tensor to numpy ({method.__name__}). Use Tensor.to_dense() "
                            "first.")
        return method(self, *args, **kwargs)
    return read


def through_values(method):
    """``Tensor.<method>`` (``to``, ``cuda``, ``cpu``, ``clone``) that, on a sparse tensor, applies ``method`` to its
    values (a recorded op, so gradients flow back) and rebuilds it around them, the indices on their device."""
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        s = self._data
        if not isinstance(s, CooArray):
            return method(self, *args, **kwargs)
        from ..ops.sparse_coo import sparse_coo_op, sparse_values_op
        vals = method(apply(sparse_values_op, self), *args, **kwargs)
        if method.__name__ != "clone" and vals._data is s.values:
            return self                                 # nothing to change, as the dense method
        idx = s.indices
        if vals._backend is not s.backend:
            idx = vals._backend.from_numpy(s.backend.to_numpy(idx))
        elif method.__name__ == "clone":
            idx = s.backend.copy(idx)
        return apply(sparse_coo_op, vals, indices=idx, shape=s.shape, coalesced=s.coalesced)
    return call
