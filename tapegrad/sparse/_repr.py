"""The repr of a sparse COO tensor, as PyTorch prints it (indices, values, then size, nnz, dtype, layout)."""
import functools
import re

from .. import _dtype as D
from .._repr import _add_suffixes, tensor_repr
from .._tensor import Tensor
from ..ops._sparse_array import CooArray

__all__ = ["with_sparse_repr", "dense_only"]

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
