"""PyTorch's legacy constructors: ``Tensor(*sizes)``/``Tensor(data)``, ``LongTensor`` & co., ``Tensor.type``.

Real programs still carry them (``torch.LongTensor(idx)``, ``x.type(torch.FloatTensor)``,
``x.type() == "torch.FloatTensor"``). The rules, as PyTorch's:

- ``Tensor()`` is an empty float32 tensor; ``Tensor(2, 3)`` or ``Tensor(Size)`` an
  uninitialised one of that shape; ``Tensor(data)`` (a sequence or NumPy array)
  copies the data as float32, whatever its type; ``Tensor(t)`` of a tensor
  aliases it (same storage, same dtype).
- ``LongTensor`` and the other typed constructors do the same with their dtype
  (``LongTensor([1.7])`` truncates to 1); ``isinstance(x, tapegrad.LongTensor)``
  is true for any int64 CPU tensor.
- ``x.type()`` names the tensor's legacy type (``"torch.FloatTensor"``,
  ``"torch.cuda.LongTensor"``: the strings programs compare with); ``x.type(t)``
  casts to a dtype, a legacy type or its name.
"""
from . import _dtype as D
from ._creation import legacy_tensor as construct
from ._device import device as _device

__all__ = ["LongTensor", "FloatTensor", "DoubleTensor", "HalfTensor", "IntTensor", "ShortTensor",
           "CharTensor", "ByteTensor", "BoolTensor"]

_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
          "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
          "uint8": "ByteTensor", "bool": "BoolTensor"}


class _LegacyType(type):
    """``isinstance(x, LongTensor)``: a tensor of that dtype on the CPU, as PyTorch's legacy types."""

    def __instancecheck__(cls, obj):
        from ._tensor import Tensor
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"


def _legacy(dtype_name):
    name = _NAMES[dtype_name]
    dtype = D._BY_NAME[dtype_name]

    def new(cls, *args, device=None):
        return construct(name, dtype, args, device)

    doc = (f"Legacy constructor of {dtype} tensors: ``{name}(*sizes)`` (uninitialised), ``{name}(data)``.\n\n"
           f"    Example:\n        >>> import tapegrad\n        >>> tapegrad.{name}([1, 0]).dtype\n"
           f"        tapegrad.{dtype_name}\n        >>> isinstance(tapegrad.{name}(2), tapegrad.{name})\n"
           f"        True\n    ")
    return _LegacyType(name, (), {"__new__": new, "__doc__": doc, "dtype": dtype, "__module__": __name__})


LongTensor = _legacy("int64")
FloatTensor = _legacy("float32")
DoubleTensor = _legacy("float64")
HalfTensor = _legacy("float16")
IntTensor = _legacy("int32")
ShortTensor = _legacy("int16")
CharTensor = _legacy("int8")
ByteTensor = _legacy("uint8")
BoolTensor = _legacy("bool")
_BY_NAME = {c.__name__: c for c in (LongTensor, FloatTensor, DoubleTensor, HalfTensor, IntTensor, ShortTensor,
                                    CharTensor, ByteTensor, BoolTensor)}
_NAMES["bfloat16"] = "BFloat16Tensor"
BFloat16Tensor = _legacy("bfloat16")
_BY_NAME["BFloat16Tensor"] = BFloat16Tensor
__all__.append("BFloat16Tensor")


def type_name(t):
    """``"torch.FloatTensor"``, ``"torch.cuda.LongTensor"``: the legacy type name of tensor ``t``."""
    name = _NAMES.get(t.dtype.name)
    if name is None:
        raise TypeError(f"Tensor.type(): no legacy type name for dtype {t.dtype}")
    return ("torch.cuda." if t.device.type == "cuda" else "torch.") + name


def tensor_type(self, dtype=None, non_blocking=False, **kwargs):
    """Return the legacy type name with no argument; otherwise cast to ``dtype`` (a dtype, a legacy type or its name).

    The name is PyTorch's (``"torch.FloatTensor"``), the string programs compare
    with. Casting to the type a tensor already has returns the tensor itself.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2)
        >>> x.type()
        'torch.FloatTensor'
        >>> x.type(tapegrad.LongTensor)
        tensor([1, 1])
        >>> x.type("torch.DoubleTensor").dtype
        tapegrad.float64
    """
    if dtype is None:
        return type_name(self)
    dev = self.device
    if isinstance(dtype, str):
        key = dtype
        for prefix in ("torch.cuda.", "tapegrad.cuda.", "torch.", "tapegrad."):
            if key.startswith(prefix):
                if "cuda." in prefix:
                    dev = _device("cuda")
                key = key[len(prefix):]
                break
        cls = _BY_NAME.get(key)
        if cls is None:
            raise ValueError(f"Tensor.type(): invalid type {dtype!r}; expected a dtype or a name such as "
                             f"'torch.FloatTensor' ({', '.join(sorted(_BY_NAME))})")
        dtype = cls.dtype
    elif isinstance(dtype, _LegacyType):
        dtype = dtype.dtype
    else:
        dtype = D.to_dtype(dtype)
    if dtype == self.dtype and dev == self.device:
        return self
    return self.to(device=dev, dtype=dtype, non_blocking=non_blocking)
