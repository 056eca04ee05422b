"""Attach math methods and operators to Tensor from the public functions in ops/.

Keeping this table apart from Tensor's state is what lets every op be defined
once, in its family file, and appear both as ``tapegrad.f(x)`` and ``x.f()``.
"""
from . import _dtype as D
from ._device import parse_to_args
from ._tensor import Tensor
from .ops import elementwise as E
from .ops import comparison as C
from .ops import unary as U
from .ops import linalg as L
from .ops import FAMILIES
from .ops.registry import apply

_add, _sub, _mul, _div, _pow = E.add_op, E.sub_op, E.mul_op, E.div_op, E.pow_op


# Operators: written out (not generated) because they are the hottest path.
def __add__(self, other):
    return apply(_add, self, other)


def __radd__(self, other):
    return apply(_add, other, self)


def __sub__(self, other):
    return apply(_sub, self, other)


def __rsub__(self, other):
    return apply(_sub, other, self)


def __mul__(self, other):
    return apply(_mul, self, other)


def __rmul__(self, other):
    return apply(_mul, other, self)


def __truediv__(self, other):
    return apply(_div, self, other)


def __rtruediv__(self, other):
    return apply(_div, other, self)


def __pow__(self, other):
    return apply(_pow, self, other)


def __rpow__(self, other):
    return apply(_pow, other, self)


def __neg__(self):
    return apply(E.neg_op, self)


def __pos__(self):
    return self


def __abs__(self):
    return apply(U.abs, self)


def __matmul__(self, other):
    return L.matmul(self, other if isinstance(other, Tensor) else Tensor._coerce(other))


def __rmatmul__(self, other):
    return L.matmul(Tensor._coerce(other), self)


def __floordiv__(self, other):
    return apply(E.floor_divide_op, self, other)


def __rfloordiv__(self, other):
    return apply(E.floor_divide_op, other, self)


def __mod__(self, other):
    return apply(E.remainder_op, self, other)


def __rmod__(self, other):
    return apply(E.remainder_op, other, self)


def __eq__(self, other):
    if other is None:
        return False
    return apply(C.eq_op, self, other)


def __ne__(self, other):
    if other is None:
        return True
    return apply(C.ne_op, self, other)


def __lt__(self, other):
    return apply(C.lt_op, self, other)


def __le__(self, other):
    return apply(C.le_op, self, other)


def __gt__(self, other):
    return apply(C.gt_op, self, other)


def __ge__(self, other):
    return apply(C.ge_op, self, other)


def __and__(self, other):
    return _bitwise("and", self, other)


def __or__(self, other):
    return _bitwise("or", self, other)


def __xor__(self, other):
    return _bitwise("xor", self, other)


def __invert__(self):
    if self.dtype is not D.bool:
        raise TypeError(f"~ is only supported on bool tensors here, got {self.dtype}")
    return apply(C.logical_not, self)


def _bitwise(kind, a, b):
    ta = a.dtype if isinstance(a, Tensor) else D.scalar_dtype(a)
    tb = b.dtype if isinstance(b, Tensor) else D.scalar_dtype(b)
    if ta is not D.bool or tb is not D.bool:
        raise TypeError(f"bitwise {kind} is only supported on bool tensors here, got {ta} and {tb}")
    return apply({"and": C.logical_and, "or": C.logical_or, "xor": C.logical_xor}[kind], a, b)


__rand__ = __and__
__ror__ = __or__


# Augmented assignment is in place, as in PyTorch: ``w -= lr * w.grad`` under
# no_grad updates the leaf ``w`` itself (ops/inplace.py holds the semantics).
def __iadd__(self, other):
    return self.add_(other)


def __isub__(self, other):
    return self.sub_(other)


def __imul__(self, other):
    return self.mul_(other)


def __itruediv__(self, other):
    return self.div_(other)

for _name, _fn in list(globals().items()):
    if _name.startswith("__") and _name.endswith("__") and callable(_fn) and _name not in (
            "__builtins__", "__loader__", "__spec__", "__name__", "__doc__", "__file__", "__package__",
            "__cached__"):
        setattr(Tensor, _name, _fn)


def bind(name, fn):
    """Make ``fn(self, *args, **kwargs)`` the method ``Tensor.<name>``."""
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = name
    method.__doc__ = fn.__doc__
    setattr(Tensor, name, method)


def bind_all(module, names):
    for n in names:
        bind(n, getattr(module, n))


# Every op family lists its public functions in ``__all__`` and the ones that are
# also Tensor methods in ``METHODS`` (name -> function); binding happens here only.
for _mod in FAMILIES:
    for _name, _fn in getattr(_mod, "METHODS", {}).items():
        bind(_name, _fn)
    for _name, _fn in getattr(_mod, "PROPERTIES", {}).items():
        setattr(Tensor, _name, property(_fn, doc=_fn.__doc__))


# --------------------------------------------------------------- dtype / device conversion
def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
    """Convert dtype and/or device: ``t.to(tapegrad.float64)``, ``t.to("cuda")``, ``t.to(other)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2).to(tapegrad.float64).dtype
        tapegrad.float64
    """
    from ._device import device as _device
    dtype, device = parse_to_args(args, dtype, device)
    out = self
    if device is not None:
        dev = _device(device)
        if dev != self.device:
            from .ops.device import to_device
            out = to_device(out, dev.type)
    if dtype is not None:
        d = D.to_dtype(dtype)
        if d is not out.dtype:
            out = apply(E.astype, out, dtype=d.np)
    if copy and out is self:
        out = self.clone()
    return out


def _cast(d):
    def f(self):
        return to(self, d)
    f.__doc__ = f"Return the tensor converted to ``{d}``."
    return f


Tensor.to = to
Tensor.float = _cast(D.float32)
Tensor.double = _cast(D.float64)
Tensor.long = _cast(D.int64)
Tensor.int = _cast(D.int32)
Tensor.bool = _cast(D.bool)
Tensor.half = _cast(D.float16)
Tensor.byte = _cast(D.uint8)
Tensor.char = _cast(D.int8)
Tensor.short = _cast(D.int16)
Tensor.type_as = lambda self, other: to(self, other.dtype)


def cpu(self):
    """A copy of the tensor on the CPU (or self when already there)."""
    return to(self, device="cpu")


def cuda(self, device=None):
    """A copy of the tensor on the GPU."""
    return to(self, device="cuda")


Tensor.cpu = cpu
Tensor.cuda = cuda
