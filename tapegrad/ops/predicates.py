"""Tests and comparisons PyTorch programs call: ``isclose allclose equal is_tensor is_floating_point is_complex
is_signed is_nonzero is_same_size numel isneginf isposinf signbit fmax fmin``.

All composed of recorded ops (``fmax``/``fmin`` are differentiable, the rest
return bools or never record). ``isclose`` follows PyTorch: equal values (the
infinities included) are close, nan only with ``equal_nan``, otherwise
``|input - other| <= atol + rtol * |other|`` over finite values.
"""
from .. import _dtype as D
from .._tensor import Tensor
from . import comparison as C
from . import elementwise as E
from . import unary as U

__all__ = ["isclose", "allclose", "equal", "is_tensor", "is_floating_point", "is_complex", "is_signed",
           "is_nonzero", "is_same_size", "numel", "isneginf", "isposinf", "signbit", "fmax", "fmin"]


def _tensor(x, like):
    return x if isinstance(x, Tensor) else Tensor._coerce(x).to(like.dtype)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether each element of ``input`` is close to ``other``'s: ``|input - other| <= atol + rtol * |other|``.

    Equal values (infinities too) are close; nan is close to nan only with ``equal_nan``. Both must have
    the same dtype, as in PyTorch.

    Example:
        >>> import tapegrad
        >>> nan = float("nan")
        >>> tapegrad.isclose(tapegrad.tensor([1.0, 2.0, nan]), tapegrad.tensor([1.0 + 1e-9, 2.1, nan]))
        tensor([ True, False, False])
    """
    other = _tensor(other, input)
    if input.dtype != other.dtype:
        raise RuntimeError(f"isclose: {input.dtype} did not match {other.dtype} (the two tensors must have the "
                           f"same dtype)")
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"isclose: rtol and atol must be non-negative, got rtol={rtol}, atol={atol}")
    same = C.eq(input, other)
    if input.dtype == D.bool or ((rtol == 0 and atol == 0) and not input.dtype.is_floating_point):
        return same
    a, b = (input, other) if input.dtype.is_floating_point else (input.double(), other.double())
    close = C.le(U.abs(a - b), atol + rtol * U.abs(b))
    out = C.logical_or(same, C.logical_and(close, C.logical_and(C.isfinite(a), C.isfinite(b))))
    if equal_nan:
        out = C.logical_or(out, C.logical_and(C.isnan(a), C.isnan(b)))
    return out.detach()


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of ``input`` is close to ``other``'s (``isclose(...).all()``), as a Python bool.

    Example:
        >>> import tapegrad
        >>> tapegrad.allclose(tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([1.0, 2.0 + 1e-7]))
        True
    """
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other):
    """``True`` when both tensors have the same shape and equal elements (nan is never equal), as a bool.

    Example:
        >>> import tapegrad
        >>> tapegrad.equal(tapegrad.tensor([1, 2]), tapegrad.tensor([1.0, 2.0]))
        True
        >>> tapegrad.equal(tapegrad.ones(2), tapegrad.ones(3))
        False
    """
    if not isinstance(other, Tensor):
        raise TypeError(f"equal(): argument 'other' must be Tensor, not {type(other).__name__}")
    if input.device != other.device:
        raise RuntimeError(f"equal: expected both tensors on the same device, got {input.device} and {other.device}")
    return tuple(input.shape) == tuple(other.shape) and bool(C.eq(input, other).all())


def is_tensor(obj):
    """``True`` when ``obj`` is a tapegrad Tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.is_tensor(tapegrad.ones(1)), tapegrad.is_tensor([1.0])
        (True, False)
    """
    return isinstance(obj, Tensor)


def is_floating_point(input):
    """``True`` when the tensor's dtype is a floating-point one.

    Example:
        >>> import tapegrad
        >>> tapegrad.is_floating_point(tapegrad.ones(1)), tapegrad.is_floating_point(tapegrad.tensor([1]))
        (True, False)
    """
    return input.dtype.is_floating_point


def is_complex(input):
    """``False``: tapegrad has no complex dtypes.

    Example:
        >>> import tapegrad
        >>> tapegrad.is_complex(tapegrad.ones(1))
        False
    """
    return False


def is_signed(input):
    """``True`` unless the tensor's dtype is unsigned (``uint8``, ``bool``).

    Example:
        >>> import tapegrad
        >>> tapegrad.tensor([1]).is_signed(), tapegrad.tensor([1], dtype=tapegrad.uint8).is_signed()
        (True, False)
    """
    return input.dtype not in (D.uint8, D.bool)


def is_nonzero(input):
    """The truth of a one-element tensor; more or fewer elements raise, as ``torch.is_nonzero``.

    Example:
        >>> import tapegrad
        >>> tapegrad.is_nonzero(tapegrad.tensor([0.5])), tapegrad.is_nonzero(tapegrad.tensor(0))
        (True, False)
    """
    n = input.numel()
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous (shape "
                           f"{tuple(input.shape)})")
    return bool(input.reshape(()).item() != 0)


def is_same_size(input, other):
    """``True`` when both tensors have the same shape.

    Example:
        >>> import tapegrad
        >>> tapegrad.is_same_size(tapegrad.ones(2, 3), tapegrad.zeros(2, 3))
        True
    """
    return tuple(input.shape) == tuple(other.shape)


def numel(input):
    """The number of elements of the tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.numel(tapegrad.ones(2, 3))
        6
    """
    return input.numel()


def isneginf(input):
    """Whether each element is negative infinity (never, for integers).

    Example:
        >>> import tapegrad
        >>> tapegrad.isneginf(tapegrad.tensor([-float("inf"), float("inf"), 1.0]))
        tensor([ True, False, False])
    """
    return C.logical_and(C.isinf(input), C.lt(input, 0))


def isposinf(input):
    """Whether each element is positive infinity (never, for integers).

    Example:
        >>> import tapegrad
        >>> tapegrad.isposinf(tapegrad.tensor([-float("inf"), float("inf"), 1.0]))
        tensor([False,  True, False])
    """
    return C.logical_and(C.isinf(input), C.gt(input, 0))


def signbit(input):
    """Whether each element's sign bit is set (``-0.0`` included).

    Example:
        >>> import tapegrad
        >>> tapegrad.signbit(tapegrad.tensor([-1.0, -0.0, 0.0, float("-inf")]))
        tensor([ True,  True, False,  True])
    """
    if not input.dtype.is_floating_point:
        return C.lt(input, 0)
    from .pointwise import copysign
    from .._creation import ones_like
    return C.lt(copysign(ones_like(input), input.detach()), 0)


def fmax(input, other):
    """The elementwise maximum, ignoring nan (nan only where both are nan), as ``torch.fmax``.

    Example:
        >>> import tapegrad
        >>> tapegrad.fmax(tapegrad.tensor([1.0, float("nan")]), tapegrad.tensor([float("nan"), 2.0]))
        tensor([1., 2.])
    """
    other = _tensor(other, input)
    return E.where(C.isnan(other), input, E.where(C.isnan(input), other, E.maximum(input, other)))


def fmin(input, other):
    """The elementwise minimum, ignoring nan (nan only where both are nan), as ``torch.fmin``.

    Example:
        >>> import tapegrad
        >>> tapegrad.fmin(tapegrad.tensor([1.0, float("nan")]), tapegrad.tensor([float("nan"), 2.0]))
        tensor([1., 2.])
    """
    other = _tensor(other, input)
    return E.where(C.isnan(other), input, E.where(C.isnan(input), other, E.minimum(input, other)))


METHODS = {n: globals()[n] for n in ("isclose", "allclose", "equal", "is_complex", "is_signed", "is_nonzero",
                                     "is_same_size", "isneginf", "isposinf", "signbit", "fmax", "fmin")}
