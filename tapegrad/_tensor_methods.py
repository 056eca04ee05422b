"""Attach math methods and operators to Tensor from the public functions in ops/.

Keeping this table apart from Tensor's state is what lets every op be defined
once, in its family file, and appear both as ``tapegrad.f(x)`` and ``x.f()``.
"""
import inspect
import types

from . import _dtype as D
from ._device import parse_to_args
from ._tensor import Tensor
from .ops import elementwise as E
from .ops import comparison as C
from .ops import unary as U
from .ops import linalg as L
from .ops import bitwise as BW
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
    return apply(U.abs_op, self)


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
    return BW.bitwise_and(self, other)


def __rand__(self, other):
    return BW.bitwise_and(other, self)


def __or__(self, other):
    return BW.bitwise_or(self, other)


def __ror__(self, other):
    return BW.bitwise_or(other, self)


def __xor__(self, other):
    return BW.bitwise_xor(self, other)


def __rxor__(self, other):
    return BW.bitwise_xor(other, self)


def __invert__(self):
    return BW.bitwise_not(self)


def __lshift__(self, other):
    return BW.bitwise_left_shift(self, other)


def __rlshift__(self, other):
    return BW.bitwise_left_shift(other, self)


def __rshift__(self, other):
    return BW.bitwise_right_shift(self, other)


def __rrshift__(self, other):
    return BW.bitwise_right_shift(other, self)


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


def as_method(name, fn):
    """A copy of the public function ``fn`` to serve as ``Tensor.<name>``.

    The copy shares ``fn``'s code, defaults and docstring, so ``x.exp()`` costs
    what ``tapegrad.exp(x)`` costs (no wrapper call in between) and
    ``help(Tensor.exp)`` shows ``exp``'s own docstring; its signature names the
    tensor ``self``, as a method's does.

    Example:
        >>> import inspect, tapegrad
        >>> from tapegrad._tensor_methods import as_method
        >>> m = as_method("exp", tapegrad.exp)
        >>> m.__qualname__, str(inspect.signature(m))
        ('Tensor.exp', '(self)')
        >>> m(tapegrad.tensor([0.0]))
        tensor([1.])
    """
    m = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    m.__kwdefaults__ = dict(fn.__kwdefaults__) if fn.__kwdefaults__ else None
    m.__doc__ = fn.__doc__
    m.__module__ = fn.__module__
    m.__qualname__ = f"Tensor.{name}"
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    if not params or params[0].kind not in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        raise TypeError(f"as_method: {fn.__name__}{sig} cannot be Tensor.{name}: it takes no tensor first")
    if params[0].name != "self":
        m.__signature__ = sig.replace(parameters=[params[0].replace(name="self")] + params[1:])
    return m


def bind(name, fn):
    """Make the public function ``fn`` (tensor first) the method ``Tensor.<name>``."""
    setattr(Tensor, name, as_method(name, fn))


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


def _cast(name, d, example):
    def f(self):
        return to(self, d)
    f.__name__ = name
    f.__qualname__ = f"Tensor.{name}"
    f.__doc__ = f"""``self.to({d})``: the tensor converted to ``{d}`` (``self`` when it already is).

    Example:
        >>> import tapegrad
        >>> {example}
        {d}
    """
    return f


# The casts are made by _cast, so they sit in ``__test__`` for doctest to find their examples.
__test__ = {}
for _name, _d, _ex in (("float", D.float32, "tapegrad.tensor([1]).float().dtype"),
                       ("double", D.float64, "tapegrad.tensor([1]).double().dtype"),
                       ("long", D.int64, "tapegrad.tensor([1.5]).long().dtype"),
                       ("int", D.int32, "tapegrad.tensor([1.5]).int().dtype"),
                       ("bool", D.bool, "tapegrad.tensor([0, 2]).bool().dtype"),
                       ("half", D.float16, "tapegrad.tensor([1.0]).half().dtype"),
                       ("byte", D.uint8, "tapegrad.tensor([1]).byte().dtype"),
                       ("char", D.int8, "tapegrad.tensor([1]).char().dtype"),
                       ("short", D.int16, "tapegrad.tensor([1]).short().dtype")):
    setattr(Tensor, _name, _cast(_name, _d, _ex))
    __test__[f"Tensor.{_name}"] = getattr(Tensor, _name)
Tensor.bfloat16 = _cast("bfloat16", D.bfloat16, "tapegrad.tensor([1.0]).bfloat16().dtype")
__test__["Tensor.bfloat16"] = Tensor.bfloat16


def type_as(self, other):
    """``self.to(other.dtype)``: the tensor converted to the dtype of ``other``.

    Example:
        >>> import tapegrad
        >>> tapegrad.tensor([1, 2]).type_as(tapegrad.zeros(1))
        tensor([1., 2.])
    """
    return to(self, other.dtype)


def cpu(self):
    """A copy of the tensor on the CPU (or ``self`` when it is already there).

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2).cpu().device
        device(type='cpu')
    """
    return to(self, device="cpu")


def cuda(self, device=None):
    """A copy of the tensor on the GPU (or ``self`` when it is already there).

    Raises a RuntimeError naming the problem when no CUDA device is usable.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2)
        >>> y = x.cuda() if tapegrad.cuda.is_available() else x
        >>> y.shape
        tapegrad.Size([2])
    """
    return to(self, device="cuda")


Tensor.to = to
Tensor.type_as = type_as
Tensor.cpu = cpu
Tensor.cuda = cuda


# --------------------------------------------------------------- legacy types (tapegrad/_legacy.py)
from . import _legacy  # noqa: E402  (floor 7, like this file)

bind("type", _legacy.tensor_type)

# --------------------------------------------------------------- memory layout and new_* factories
from . import _tensor_layout, _tensor_new  # noqa: E402

for _mod in (_tensor_layout, _tensor_new):
    for _name, _fn in _mod.METHODS.items():
        bind(_name, _fn)
for _name, _fn in _tensor_layout.PROPERTIES.items():
    setattr(Tensor, _name, property(_fn, doc=_fn.__doc__))

# Random sampling methods and in-place random fills (tapegrad/_random_functions.py, tapegrad/_random_fills.py).
from . import _random_functions as _RF, _random_fills as _RFILL, _tensor_extras  # noqa: E402
for _mod in (_RF, _RFILL, _tensor_extras):
    for _name, _fn in _mod.METHODS.items():
        bind(_name, _fn)

# In-place variants of the methods that lack one (tapegrad/_tensor_inplace.py): set directly, as each already
# has the signature of its out-of-place method.
from . import _tensor_inplace  # noqa: E402
for _name, _fn in _tensor_inplace.METHODS.items():
    setattr(Tensor, _name, _fn)

# Tensor.hardshrink and Tensor.prelu (tapegrad/_torch_nn.py, the torch.* aliases of nn.functional ops).
from . import _torch_nn  # noqa: E402
for _name, _fn in _torch_nn.METHODS.items():
    bind(_name, _fn)

# Tensor.H, mH, adjoint, is_cpu, pin_memory, share_memory_, new, ... (tapegrad/_tensor_gaps.py).
from . import _tensor_gaps  # noqa: E402
for _name, _fn in _tensor_gaps.METHODS.items():
    bind(_name, _fn)
for _name, _fn in _tensor_gaps.PROPERTIES.items():
    setattr(Tensor, _name, property(_fn, doc=_fn.__doc__))

# In-place forms of methods added since _tensor_inplace.py was written (made by its own helper, kept in its
# namespace so doctest collects their examples there, as for the others).
_tensor_inplace._SAMPLES.update({"ldexp": ("tapegrad.tensor([0.5, 0.25])", "(tapegrad.tensor([2, 3]),)"),
                                 "polygamma": ("tapegrad.tensor([0.5, 0.25])", "(1,)"),
                                 "mvlgamma": ("tapegrad.tensor([1.5, 2.5])", "(2,)"),
                                 "addr": ("tapegrad.zeros(2, 2)", "(tapegrad.ones(2), tapegrad.ones(2))")})
for _base in ("absolute", "deg2rad", "rad2deg", "ldexp", "sinc", "i0", "polygamma", "mvlgamma", "addr"):
    if not hasattr(Tensor, _base + "_"):
        _fn = _tensor_inplace._make(_base)
        setattr(_tensor_inplace, _base + "_", _fn)
        _tensor_inplace.METHODS[_base + "_"] = _fn
        setattr(Tensor, _base + "_", _fn)
# Sparse COO tensors: repr, host reads, moves and clones (tapegrad/sparse/_methods.py, Note [sparse COO storage]).
from .sparse._methods import with_sparse_repr, dense_only, through_values  # noqa: E402
Tensor.__repr__ = with_sparse_repr(Tensor.__repr__)
Tensor.numpy, Tensor.tolist, Tensor.item = (dense_only(Tensor.numpy), dense_only(Tensor.tolist),
                                            dense_only(Tensor.item))
Tensor.to, Tensor.cuda, Tensor.cpu, Tensor.clone = (through_values(Tensor.to), through_values(Tensor.cuda),
                                                    through_values(Tensor.cpu), through_values(Tensor.clone))
