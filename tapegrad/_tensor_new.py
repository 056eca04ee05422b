"""``Tensor.new_*``: factories that default to the tensor's own dtype and device, as PyTorch's.

``x.new_zeros(2, 3)`` is ``zeros(2, 3, dtype=x.dtype, device=x.device)``;
``new_tensor(data)`` copies ``data`` (a tensor argument is copied and
detached, with PyTorch's warning).
"""
import warnings

from . import _creation as C
from ._tensor import Tensor

__all__ = []


def _size(size, fn):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return size


def _kw(self, dtype, device):
    return {"dtype": self.dtype if dtype is None else dtype, "device": self.device if device is None else device}


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    """Zeros of ``size`` with this tensor's dtype and device (unless given).

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(1, dtype=tapegrad.float64).new_zeros(2, 2)
        tensor([[0., 0.],
                [0., 0.]], dtype=tapegrad.float64)
    """
    return C.zeros(*_size(size, "new_zeros"), requires_grad=requires_grad, **_kw(self, dtype, device))


def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    """Ones of ``size`` with this tensor's dtype and device (unless given).

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(1, dtype=tapegrad.int64).new_ones((2,))
        tensor([1, 1])
    """
    return C.ones(*_size(size, "new_ones"), requires_grad=requires_grad, **_kw(self, dtype, device))


def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of ``size`` with this tensor's dtype and device (unless given).

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(1).new_empty(3).shape
        tapegrad.Size([3])
    """
    return C.empty(*_size(size, "new_empty"), requires_grad=requires_grad, **_kw(self, dtype, device))


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """``fill_value`` everywhere in a tensor of ``size``, with this tensor's dtype and device (unless given).

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(1).new_full((2,), 7)
        tensor([7., 7.])
    """
    return C.full(tuple(size), fill_value, requires_grad=requires_grad, **_kw(self, dtype, device))


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    """A copy of ``data`` with this tensor's dtype and device (unless given); never shares memory.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(1).new_tensor([1, 2])
        tensor([1., 2.])
    """
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
                      "or sourceTensor.detach().clone().requires_grad_(True), rather than "
                      "tensor.new_tensor(sourceTensor).", UserWarning, stacklevel=2)
        data = data.detach().clone()
    out = C.tensor(data, **_kw(self, dtype, device))
    if requires_grad:
        out.requires_grad_(True)
    return out


METHODS = {"new_zeros": new_zeros, "new_ones": new_ones, "new_empty": new_empty, "new_full": new_full,
           "new_tensor": new_tensor}
