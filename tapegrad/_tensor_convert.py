"""Reading a tensor's values on the host: ``numpy()``, ``item()``, ``tolist()`` and Python's number protocols.

A mixin of ``Tensor`` (kept apart so ``_tensor.py`` holds state, properties and the autograd API);
every method copies through the tensor's backend, so a CUDA tensor's values come back to the host.
"""

from .tape.capture import ACTIVE as _CAPTURE, host_read as _host_read
from ._dtype import BFLOAT16_NP as _BF16

__all__ = ["HostConversions"]


def _no_bfloat16(what):
    # PyTorch's TypeError: NumPy has no bfloat16 (tapegrad stores it as ml_dtypes', but matches PyTorch)
    raise TypeError(f"Got unsupported ScalarType BFloat16: {what} of a bfloat16 tensor is not supported, as in "
                    "PyTorch; convert first with .float()")


class HostConversions:
    """The host-reading methods of ``Tensor``."""
    __slots__ = ()

    def numpy(self, *, force=False):
        """The values as a NumPy array (shares memory on the CPU).

        Example:
            >>> import tapegrad
            >>> tapegrad.ones(2).numpy()
            array([1., 1.], dtype=float32)
        """
        if _CAPTURE[0] is not None:     # Note [capture hook]: data-dependent Python ends a trace
            _host_read(self, "numpy()")
        if self._requires_grad and not force:
            raise RuntimeError("can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        if self._data.dtype == _BF16:
            _no_bfloat16("numpy()")
        return self._backend.to_numpy(self._data)

    def __array__(self, dtype=None, copy=None):
        if _CAPTURE[0] is not None:     # Note [capture hook]: data-dependent Python ends a trace
            _host_read(self, "numpy.asarray(tensor)")
        if self._data.dtype == _BF16:
            _no_bfloat16("numpy.asarray(tensor)")
        a = self._backend.to_numpy(self._data)
        return a if dtype is None else a.astype(dtype)

    def item(self):
        """The value of a one-element tensor as a Python number.

        Example:
            >>> import tapegrad
            >>> tapegrad.tensor([2.5]).item()
            2.5
        """
        if _CAPTURE[0] is not None:     # Note [capture hook]: data-dependent Python ends a trace
            _host_read(self, "item()")
        a = self._backend.to_numpy(self._data)
        if a.size != 1:
            raise RuntimeError(f"a Tensor with {a.size} elements cannot be converted to Scalar")
        return a.reshape(()).item()

    def tolist(self):
        """The values as (nested) Python lists.

        Example:
            >>> import tapegrad
            >>> tapegrad.tensor([[1, 2]]).tolist()
            [[1, 2]]
        """
        if _CAPTURE[0] is not None:     # Note [capture hook]: data-dependent Python ends a trace
            _host_read(self, "tolist()")
        return self._backend.to_numpy(self._data).tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} elements is ambiguous")
        return bool(self.item())

    def __format__(self, format_spec):
        """``f"{loss:.4f}"``: a 0-d tensor formats as its Python number; any other tensor only with ``{}``.

        As PyTorch: a format spec on a tensor of one or more dimensions raises
        TypeError (``f"{t:.2f}"`` of ``tensor([1.5])`` too).

        Example:
            >>> import tapegrad
            >>> f"{tapegrad.tensor(0.123456):.4f}", f"{tapegrad.tensor(3):>3}"
            ('0.1235', '  3')
        """
        if self._data.ndim == 0:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)
