"""How a tensor sits in memory, in PyTorch's terms: ``stride``, ``storage_offset``, ``element_size``,
``itemsize``, ``nbytes``, ``data_ptr``, ``ndimension``, ``nelement``, ``get_device``.

Strides and offsets count elements, as PyTorch's do (NumPy's count bytes).
They are read from the array protocols (``__array_interface__`` on the CPU,
``__cuda_array_interface__`` on CUDA), so no backend needs a method for them.
"""
from ._tensor import _wrap_dim

__all__ = []


def stride(self, dim=None):
    """The step, in elements, between neighbours along each dim (a tuple), or along ``dim``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.zeros(3, 4)
        >>> x.stride(), x.t().stride(), x.stride(-1)
        ((4, 1), (1, 4), 1)
    """
    a = self._data
    st = tuple(s // a.dtype.itemsize for s in a.strides)
    if dim is None:
        return st
    if a.ndim == 0:
        raise IndexError(f"stride: dimension specified as {dim} but tensor has no dimensions")
    return st[_wrap_dim(dim, a.ndim, "stride")]


def _pointer(a):
    face = getattr(a, "__cuda_array_interface__", None) or a.__array_interface__
    return face["data"][0]


def _root(a):
    root = a
    while getattr(root, "base", None) is not None and hasattr(root.base, "dtype"):
        root = root.base
    return root


def storage_offset(self):
    """How many elements into its storage the tensor's first element is (0 unless it is a view).

    Example:
        >>> import tapegrad
        >>> x = tapegrad.arange(12.0).reshape(3, 4)
        >>> x[1:, 1:].storage_offset()
        5
    """
    a = self._data
    if a.size == 0:
        return 0
    return (_pointer(a) - _pointer(_root(a))) // a.dtype.itemsize


def data_ptr(self):
    """The address of the tensor's first element (0 for an empty tensor on CUDA).

    Example:
        >>> import tapegrad
        >>> x = tapegrad.zeros(4)
        >>> x[1:].data_ptr() - x.data_ptr() == x.element_size()
        True
    """
    return _pointer(self._data)


def element_size(self):
    """Bytes per element.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2).element_size(), tapegrad.zeros(2, dtype=tapegrad.int64).element_size()
        (4, 8)
    """
    return self._data.dtype.itemsize


def itemsize(self):
    """Bytes per element (a property, as ``element_size()``).

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, dtype=tapegrad.float16).itemsize
        2
    """
    return self._data.dtype.itemsize


def nbytes(self):
    """Bytes of the tensor's elements (``numel() * element_size()``; a view counts its own elements).

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(3, 4).nbytes
        48
    """
    return self._data.size * self._data.dtype.itemsize


def ndimension(self):
    """The number of dims, as ``dim()``.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 3).ndimension()
        2
    """
    return self._data.ndim


def nelement(self):
    """The number of elements, as ``numel()``.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 3).nelement()
        6
    """
    return self._data.size


def get_device(self):
    """The CUDA device index of a CUDA tensor (0); -1 for a CPU tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(1).get_device()
        -1
    """
    return 0 if self.device.type == "cuda" else -1


METHODS = {"stride": stride, "storage_offset": storage_offset, "data_ptr": data_ptr, "element_size": element_size,
           "ndimension": ndimension, "nelement": nelement, "get_device": get_device}
PROPERTIES = {"itemsize": itemsize, "nbytes": nbytes}
