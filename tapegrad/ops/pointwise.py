"""Binary pointwise math (``atan2 hypot copysign fmod``) and the functions composed of pointwise ops.

Primitives (one ufunc each, VJPs as PyTorch's derivatives table): ``atan2``,
``hypot``, ``copysign`` (gradient ``result / self``, 0 where self is 0; none
to ``other``), ``fmod`` (``-trunc(a / b)`` to ``other``), ``xlogy`` (its
gradients at ``x == 0`` are PyTorch's). Everything else here is composed of
recorded ops, so it needs no VJP: ``logaddexp logaddexp2 logit lerp addcmul
addcdiv frac float_power rsub clamp_min clamp_max nan_to_num sgn heaviside``.
"""
import math

from .. import _dtype as D
from .registry import op, apply
from . import elementwise as E
from . import comparison as C
from . import unary as U
from .special import trunc
from . import _jvp

__all__ = ["atan2", "arctan2", "hypot", "copysign", "fmod", "logaddexp", "logaddexp2", "logit", "xlogy", "lerp",
           "addcmul", "addcdiv", "frac", "float_power", "rsub", "clamp_min", "clamp_max", "nan_to_num", "sgn",
           "heaviside"]


@op("arctan2", save=("a", "b"), promote="float", tensors=2)
def atan2_op(be, a, b):
    """Forward of ``atan2``."""
    return be.arctan2(a, b)


@atan2_op.vjp
def _(F, ctx, g, a, b):
    r = g / (a * a + b * b)
    n = ctx.needs
    return (r * b if n[0] else None), (-r * a if n[1] else None)


atan2_op.jvp(_jvp.diagonal(atan2_op))


@op("hypot", save=("a", "b", "out"), promote="float", tensors=2)
def hypot_op(be, a, b):
    """Forward of ``hypot``."""
    return be.hypot(a, b)


@hypot_op.vjp
def _(F, ctx, g, a, b, out):
    r = g / out
    n = ctx.needs
    return (r * a if n[0] else None), (r * b if n[1] else None)


hypot_op.jvp(_jvp.diagonal(hypot_op))


@op("copysign", save=("a", "out"), promote="float", tensors=2)
def copysign_op(be, a, b):
    """Forward of ``copysign``."""
    return be.copysign(a, b)


@copysign_op.vjp
def _(F, ctx, g, a, out):
    # PyTorch: grad * (result / self), with 0 where self is 0; nothing flows to the sign source
    return F.where(a == 0, 0.0, g * (out / F.where(a == 0, 1.0, a))), None


copysign_op.jvp(_jvp.diagonal(copysign_op))


@op("fmod", save=("a", "b"), promote="all", tensors=2)
def fmod_op(be, a, b):
    """Forward of ``fmod``."""
    return be.fmod(a, b)


@fmod_op.vjp
def _(F, ctx, g, a, b):
    n = ctx.needs
    return (g if n[0] else None), (-g * F.trunc(a / b) if n[1] else None)


fmod_op.jvp(_jvp.diagonal(fmod_op))


def atan2(input, other):
    """The angle of the point ``(other, input)``: ``atan(input / other)`` in the right quadrant.

    Example:
        >>> import tapegrad
        >>> tapegrad.atan2(tapegrad.tensor([1.0, 1.0]), tapegrad.tensor([1.0, -1.0]))
        tensor([0.7854, 2.3562])
    """
    return apply(atan2_op, input, other)


def arctan2(input, other):
    """Alias of ``atan2``: the angle of the point ``(other, input)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.arctan2(tapegrad.tensor([0.0]), tapegrad.tensor([-1.0]))
        tensor([3.1416])
    """
    return apply(atan2_op, input, other)


def hypot(input, other):
    """``sqrt(input**2 + other**2)`` elementwise, without overflow.

    Example:
        >>> import tapegrad
        >>> tapegrad.hypot(tapegrad.tensor([3.0]), tapegrad.tensor([4.0]))
        tensor([5.])
    """
    return apply(hypot_op, input, other)


def copysign(input, other):
    """The magnitude of ``input`` with the sign of ``other`` (signed zeros count).

    Example:
        >>> import tapegrad
        >>> tapegrad.copysign(tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([-0.0, 3.0]))
        tensor([-1.,  2.])
    """
    return apply(copysign_op, _float(input, other), other)


def fmod(input, other):
    """C's remainder ``input - trunc(input / other) * other``: the sign of ``input`` (``%`` takes the divisor's).

    Example:
        >>> import tapegrad
        >>> tapegrad.fmod(tapegrad.tensor([-3.0, 3.0]), 2)
        tensor([-1.,  1.])
    """
    return apply(fmod_op, input, other)


def _float(input, other):
    """``input`` as the default float dtype when it and ``other`` are both integral (copysign's result is float)."""
    from .registry import Tensor
    dt = input.dtype if isinstance(input, Tensor) else D.scalar_dtype(input)
    if dt.np.kind == "f":
        return input
    ot = other.dtype if isinstance(other, Tensor) else D.scalar_dtype(other)
    if ot.np.kind == "f":
        return input
    return input.to(D.get_default_dtype()) if isinstance(input, Tensor) else float(input)


@op("xlogy", save=("a", "b"), promote="float", tensors=2, math=None)
def xlogy_op(be, a, b):
    """Forward of ``xlogy``: ``a * log(b)``, 0 where ``a == 0`` and ``b`` is not nan."""
    return be.where(be.logical_and(a == 0, be.logical_not(be.isnan(b))), 0.0, a * be.log(b))


@xlogy_op.vjp
def _(F, ctx, g, a, b):
    # PyTorch's formulas: d/da = log(b), but 0 where a == 0 and b <= 0; d/db = a / b (nan at a == b == 0)
    n = ctx.needs
    ga = F.where(F.logical_and(a == 0, b <= 0), 0.0, g * F.log(b)) if n[0] else None
    return ga, (g * a / b if n[1] else None)


xlogy_op.jvp(_jvp.diagonal(xlogy_op))


# ----------------------------------------------------------------- composed of recorded ops
def logaddexp(input, other):
    """``log(exp(input) + exp(other))`` without overflow.

    Example:
        >>> import tapegrad
        >>> tapegrad.logaddexp(tapegrad.tensor([0.0, 1000.0]), tapegrad.tensor([0.0, 1000.0])).tolist()
        [0.6931471824645996, 1000.6931762695312]
    """
    m = E.maximum(input, other)
    d = E.where(C.eq(input, other), 0.0, U.abs(input - other))     # equal infinities: no inf - inf
    return m + U.log1p(U.exp(-d))


def logaddexp2(input, other):
    """``log2(2**input + 2**other)`` without overflow.

    Example:
        >>> import tapegrad
        >>> tapegrad.logaddexp2(tapegrad.tensor([1.0]), tapegrad.tensor([1.0]))
        tensor([2.])
    """
    ln2 = math.log(2)
    return logaddexp(input * ln2, other * ln2) / ln2


def logit(input, eps=None):
    """``log(p / (1 - p))``; with ``eps``, ``p`` is first clamped to ``[eps, 1 - eps]``.

    Example:
        >>> import tapegrad
        >>> tapegrad.logit(tapegrad.tensor([0.5, 0.0]), eps=1e-6)
        tensor([  0.0000, -13.8155])
    """
    p = input if eps is None else E.clamp(input, eps, 1 - eps)
    return U.log(p / (1 - p))


def xlogy(input, other):
    """``input * log(other)``, and 0 where ``input`` is 0 (unless ``other`` is nan), as PyTorch's.

    Example:
        >>> import tapegrad
        >>> tapegrad.xlogy(tapegrad.tensor([0.0, 2.0]), tapegrad.tensor([0.0, 1.0]))
        tensor([0., 0.])
    """
    return apply(xlogy_op, input, other)


def lerp(input, end, weight):
    """``input + weight * (end - input)``, computed from the nearer end as PyTorch does.

    Example:
        >>> import tapegrad
        >>> tapegrad.lerp(tapegrad.tensor([0.0, 10.0]), tapegrad.tensor([10.0, 20.0]), 0.25)
        tensor([ 2.5000, 12.5000])
    """
    diff = end - input
    if isinstance(weight, (int, float)):
        return input + weight * diff if abs(weight) < 0.5 else end - diff * (1 - weight)
    return E.where(C.lt(U.abs(weight), 0.5), input + weight * diff, end - diff * (1 - weight))


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``.

    Example:
        >>> import tapegrad
        >>> tapegrad.addcmul(tapegrad.ones(2), tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([3.0, 4.0]), value=0.5)
        tensor([2.5000, 5.0000])
    """
    return input + value * tensor1 * tensor2 if value != 1 else input + tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``.

    Example:
        >>> import tapegrad
        >>> tapegrad.addcdiv(tapegrad.ones(2), tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([4.0, 4.0]), value=2)
        tensor([1.5000, 2.0000])
    """
    return input + value * (tensor1 / tensor2) if value != 1 else input + tensor1 / tensor2


def frac(input):
    """The fractional part ``input - trunc(input)`` (the sign of ``input``).

    Example:
        >>> import tapegrad
        >>> tapegrad.frac(tapegrad.tensor([-1.25, 2.5]))
        tensor([-0.2500,  0.5000])
    """
    return input - trunc(input)


def float_power(input, exponent):
    """``input ** exponent`` computed in float64 (the result is float64, as PyTorch's).

    Example:
        >>> import tapegrad
        >>> tapegrad.float_power(tapegrad.tensor([2]), 0.5)
        tensor([1.4142], dtype=tapegrad.float64)
    """
    from .registry import Tensor
    a = input.to(D.float64) if isinstance(input, Tensor) else float(input)
    b = exponent.to(D.float64) if isinstance(exponent, Tensor) else float(exponent)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError("float_power(): at least one of input and exponent must be a tensor")
    return E.pow(a, b)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input`` (subtraction with the operands reversed).

    Example:
        >>> import tapegrad
        >>> tapegrad.rsub(tapegrad.tensor([1.0, 2.0]), 10)
        tensor([9., 8.])
    """
    return E.sub(other, input, alpha=alpha)


def clamp_min(input, min):  # noqa: A002
    """``clamp(input, min=min)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.clamp_min(tapegrad.tensor([-1.0, 2.0]), 0)
        tensor([0., 2.])
    """
    return E.clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    """``clamp(input, max=max)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.clamp_max(tapegrad.tensor([-1.0, 2.0]), 0)
        tensor([-1.,  0.])
    """
    return E.clamp(input, max=max)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """nan, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (default: the dtype's largest/lowest).

    The gradient is 1 where the input was finite and 0 where it was replaced.

    Example:
        >>> import tapegrad
        >>> tapegrad.nan_to_num(tapegrad.tensor([float("nan"), float("inf"), 1.0]), posinf=9.0)
        tensor([0., 9., 1.])
    """
    if input.dtype.np.kind != "f":
        return input.clone()
    from .._type_info import finfo
    info = finfo(input.dtype)
    hi = info.max if posinf is None else posinf
    lo = info.min if neginf is None else neginf
    out = E.where(C.isnan(input), nan, input)
    out = E.where(C.eq(input, math.inf), hi, out)
    return E.where(C.eq(input, -math.inf), lo, out)


def sgn(input):
    """The sign of each element (for real tensors, ``sign``).

    Example:
        >>> import tapegrad
        >>> tapegrad.sgn(tapegrad.tensor([-2.0, 0.0, 3.0]))
        tensor([-1.,  0.,  1.])
    """
    return U.sign(input)


def heaviside(input, values):
    """The step function: 0 where ``input < 0``, 1 where ``input > 0``, ``values`` where ``input == 0``.

    Not differentiable (as in PyTorch); ``input`` and ``values`` must have one dtype.

    Example:
        >>> import tapegrad
        >>> tapegrad.heaviside(tapegrad.tensor([-1.0, 0.0, 2.0]), tapegrad.tensor([0.5]))
        tensor([0.0000, 0.5000, 1.0000])
    """
    if input.dtype != values.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes ({input.dtype} "
                           f"and {values.dtype})")
    if input.requires_grad or values.requires_grad:
        raise RuntimeError("the derivative for 'heaviside' is not implemented")
    step = E.where(C.gt(input, 0), 1, 0).to(input.dtype)
    return E.where(C.eq(input, 0), values, step)


METHODS = {n: globals()[n] for n in __all__}
