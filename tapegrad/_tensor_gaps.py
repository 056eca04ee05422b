"""Tensor methods and properties PyTorch programs call that tapegrad lacked: ``H mH adjoint``, the device and
layout flags (``is_cpu is_quantized is_meta``; ``is_sparse`` is the sparse layout's, ops/_sparse_accessors.py), the memory no-ops (``pin_memory is_pinned
share_memory_ is_shared``) and the legacy constructor ``new``.

Apart from sparse COO tensors, tapegrad tensors are dense, strided, real and never pinned or shared across
processes, so those flags are constants and the memory calls return ``self``
(as ``share_memory_`` does on the CPU in PyTorch when the storage is shared).
"""
from ._tensor import Tensor

__all__ = []


def adjoint(self):
    """The conjugate transpose of the last two dims (the transpose: tapegrad is real), a view.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2, 3).adjoint().shape
        tapegrad.Size([3, 2])
    """
    if self.ndim < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of matrices. Got "
                           f"{self.ndim}-D tensor.")
    return self.transpose(-2, -1)


def _H(self):
    """The conjugate transpose of a matrix (``self.t()`` for real tensors of up to 2 dims).

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2, 3).H.shape
        tapegrad.Size([3, 2])
    """
    if self.ndim not in (0, 2):
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor.")
    return self.t() if self.ndim == 2 else self


def _mH(self):
    """The conjugate transpose of the last two dims (``adjoint()``).

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(4, 2, 3).mH.shape
        tapegrad.Size([4, 3, 2])
    """
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got {self.ndim}-D "
                           f"tensor.")
    return self.transpose(-2, -1)


def _is_cpu(self):
    """Whether the tensor is on the CPU.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(1).is_cpu
        True
    """
    return self.device.type == "cpu"


def _false(name, what):
    def prop(self):
        return False
    prop.__name__ = name
    prop.__doc__ = f"""``False``: {what}.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(1).{name}
        False
    """
    return prop


def pin_memory(self, device=None):
    """The tensor itself: tapegrad has no page-locked host memory (copies to the GPU are synchronous).

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2)
        >>> x.pin_memory() is x
        True
    """
    return self


def is_pinned(self, device=None):
    """``False``: tapegrad never pins host memory.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2).is_pinned()
        False
    """
    return False


def share_memory_(self):
    """The tensor itself: tapegrad's worker processes receive copies, so there is nothing to move.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2)
        >>> x.share_memory_() is x
        True
    """
    return self


def is_shared(self):
    """``False``: no tapegrad tensor lives in shared memory.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2).is_shared()
        False
    """
    return False


def new(self, *args, device=None):
    """The legacy constructor: ``x.new()`` (empty), ``x.new(2, 3)`` (uninitialised, of that size) or
    ``x.new(data)`` (a copy of ``data``), in ``x``'s dtype and on its device.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(1, dtype=tapegrad.float64)
        >>> x.new(2, 3).shape, x.new([1, 2]), x.new().shape
        (tapegrad.Size([2, 3]), tensor([1., 2.], dtype=tapegrad.float64), tapegrad.Size([0]))
    """
    device = self.device if device is None else device
    if not args:
        return self.new_empty(0, device=device)
    if len(args) == 1 and isinstance(args[0], Tensor):
        return args[0].to(dtype=self.dtype, device=device)
    if all(isinstance(a, int) and not isinstance(a, bool) for a in args) or (
            len(args) == 1 and type(args[0]).__name__ == "Size"):
        return self.new_empty(*args, device=device)
    if len(args) == 1:
        return self.new_tensor(args[0], device=device)
    raise TypeError(f"new(): expected sizes (ints), a Size, or one data argument, got {args!r}")


METHODS = {"adjoint": adjoint, "pin_memory": pin_memory, "is_pinned": is_pinned, "share_memory_": share_memory_,
           "is_shared": is_shared, "new": new}
PROPERTIES = {"H": _H, "mH": _mH, "is_cpu": _is_cpu,
              "is_quantized": _false("is_quantized", "tapegrad has no quantized dtypes"),
              "is_meta": _false("is_meta", "tapegrad has no meta device")}
__test__ = {f"Tensor.{n}": f for n, f in PROPERTIES.items()}
