"""Elementwise ops: arithmetic and binary math (unary math lives in unary.py, comparisons in comparison.py).

Each op's forward and VJP sit together (see ops/registry.py, Note [two-mode VJPs]).
Broadcast gradients are reduced by the engine (Note [sum_to]).
"""
from .registry import op, apply
from ._alias import alias
from .unary import abs_op, floor_op, sign_op  # div with rounding_mode="trunc"
from . import _jvp

# ----------------------------------------------------------------- arithmetic


@op("add", tensors=2)
def add_op(be, a, b):
    return a + b


@add_op.vjp
def _(F, ctx, g):
    return g, g


add_op.jvp(_jvp.diagonal(add_op))


@op("subtract", tensors=2)
def sub_op(be, a, b):
    return a - b


@sub_op.vjp
def _(F, ctx, g):
    return g, (-g if ctx.needs[1] else None)


sub_op.jvp(_jvp.diagonal(sub_op))


@op("multiply", save=("a", "b"), tensors=2)
def mul_op(be, a, b):
    return a * b


@mul_op.vjp
def _(F, ctx, g, a, b):
    n = ctx.needs
    return (g * b if n[0] else None), (g * a if n[1] else None)


mul_op.jvp(_jvp.diagonal(mul_op))


@op("divide", save=("a", "b"), promote="float", tensors=2)
def div_op(be, a, b):
    return a / b


@div_op.vjp
def _(F, ctx, g, a, b):
    n = ctx.needs
    ga = g / b
    return (ga if n[0] else None), (-ga * a / b if n[1] else None)


div_op.jvp(_jvp.diagonal(div_op))


@op("neg", tensors=1)
def neg_op(be, x):
    return -x


@neg_op.vjp
def _(F, ctx, g):
    return -g


neg_op.jvp(_jvp.diagonal(neg_op))


@op("power", save=("a", "b", "out"), tensors=2)
def pow_op(be, a, b):
    return a ** b


@pow_op.vjp
def _(F, ctx, g, a, b, out):
    n = ctx.needs
    ga = gb = None
    if n[0]:
        # d/da a**b = b * a**(b-1); zero where b == 0 and a == 0 (PyTorch's convention, where
        # 0 * 0**-1 would be nan). Masking only there keeps d/db of this term (a**-1 at
        # b == 0) for second derivatives.
        # The inner where keeps the discarded branch finite, so grad-of-grad at 0**0 is 0, not 0 * inf.
        m = (b == 0) & (a == 0)
        ga = g * F.where(m, 0.0, b * F.where(m, 1.0, a) ** (b - 1))
    if n[1]:
        gb = g * F.where((a == 0) & (b >= 0), 0.0, out * F.log(a))
    return ga, gb


pow_op.jvp(_jvp.diagonal(pow_op))


@op("floor_divide", tensors=2)
def floor_divide_op(be, a, b):
    """Forward of ``floor_divide`` (not differentiable, as in PyTorch)."""
    _check_divisor(be, "floor_divide", a, b)
    return be.floor_divide(a, b)


def _check_divisor(be, name, a, b):
    """Integer division by zero raises, as in PyTorch (NumPy would return 0 with a warning)."""
    k = a.dtype.kind
    if k == "f":
        return
    if k == "b":
        raise NotImplementedError(f'"{name}" not implemented for \'Bool\'')
    z = b == 0
    if z.shape == () and bool(z) or z.shape != () and bool(be.any(z)):
        raise RuntimeError("ZeroDivisionError")


@op("remainder", save=("a", "b"), tensors=2)
def remainder_op(be, a, b):
    """Forward of ``remainder``: the sign of the divisor, like ``torch.remainder``."""
    _check_divisor(be, "remainder", a, b)
    return be.remainder(a, b)


@remainder_op.vjp
def _(F, ctx, g, a, b):
    n = ctx.needs
    return (g if n[0] else None), (-g * F.floor(a / b) if n[1] else None)


remainder_op.jvp(_jvp.diagonal(remainder_op))


# ----------------------------------------------------------------- binary math

@op("maximum", save=("a", "b"), tensors=2)
def maximum(be, a, b):
    """Forward of ``maximum``; on ties the gradient is split evenly (as in PyTorch)."""
    return be.maximum(a, b)


@maximum.vjp
def _(F, ctx, g, a, b):
    wa = (a > b) + (a == b) * 0.5
    n = ctx.needs
    return (g * wa if n[0] else None), (g * (1 - wa) if n[1] else None)


maximum.jvp(_jvp.diagonal(maximum))


@op("minimum", save=("a", "b"), tensors=2)
def minimum(be, a, b):
    """Forward of ``minimum``; on ties the gradient is split evenly (as in PyTorch)."""
    return be.minimum(a, b)


@minimum.vjp
def _(F, ctx, g, a, b):
    wa = (a < b) + (a == b) * 0.5
    n = ctx.needs
    return (g * wa if n[0] else None), (g * (1 - wa) if n[1] else None)


minimum.jvp(_jvp.diagonal(minimum))


@op("where", save="cond", promote="all", promote_args=(1, 2), tensors=3)
def where_op(be, cond, a, b):
    return be.where(cond, a, b)


@where_op.vjp
def _(F, ctx, g, cond):
    n = ctx.needs
    return None, (F.where(cond, g, 0.0) if n[1] else None), \
        (F.where(cond, 0.0, g) if n[2] else None)


where_op.jvp(_jvp.diagonal(where_op))


@op("clip", save="x", promote="all", tensors=1)
def clip_op(be, x, a_min=None, a_max=None):
    return be.clip(x, a_min, a_max)


@clip_op.vjp
def _(F, ctx, g, x, a_min=None, a_max=None):
    m = None
    if a_min is not None:
        m = x >= a_min
    if a_max is not None:
        m = (x <= a_max) if m is None else m & (x <= a_max)
    return g if m is None else g * m


clip_op.jvp(_jvp.diagonal(clip_op))


# Note [clamp at its bounds]: PyTorch's clamp passes the gradient to the input
# when it equals a bound (x >= min, x <= max), and to a tensor bound only where
# that bound wins strictly; with min > max the result is max. maximum/minimum
# split ties instead, so tensor bounds get ops of their own.
@op("clamp_min_tensor", save=("x", "lo"), tensors=2)
def clamp_min_tensor(be, x, lo):
    return be.maximum(x, lo)


@clamp_min_tensor.vjp
def _(F, ctx, g, x, lo):
    n = ctx.needs
    return (g * (x >= lo) if n[0] else None), (g * (x < lo) if n[1] else None)


clamp_min_tensor.jvp(_jvp.diagonal(clamp_min_tensor))


@op("clamp_max_tensor", save=("x", "hi"), tensors=2)
def clamp_max_tensor(be, x, hi):
    return be.minimum(x, hi)


@clamp_max_tensor.vjp
def _(F, ctx, g, x, hi):
    n = ctx.needs
    return (g * (x <= hi) if n[0] else None), (g * (x > hi) if n[1] else None)


clamp_max_tensor.jvp(_jvp.diagonal(clamp_max_tensor))


@op("clamp_tensor", save=("x", "lo", "hi"), tensors=3)
def clamp_tensor(be, x, lo, hi):
    return be.minimum(be.maximum(x, lo), hi)


@clamp_tensor.vjp
def _(F, ctx, g, x, lo, hi):
    n = ctx.needs
    return (g * ((x >= lo) & (x <= hi)) if n[0] else None,
            g * ((x < lo) & (lo < hi)) if n[1] else None,
            g * ((x > hi) | (hi < lo)) if n[2] else None)


clamp_tensor.jvp(_jvp.diagonal(clamp_tensor))


@op("astype", promote=None, tensors=1)
def astype(be, x, dtype):
    return be.astype(x, dtype)


@astype.vjp
def _(F, ctx, g, dtype):
    return g            # the engine casts to the input's dtype


astype.jvp(_jvp.linear(astype))


# ----------------------------------------------------------------- public PyTorch-style functions

def add(input, other, *, alpha=1):
    """``input + alpha * other``.

    Example:
        >>> import tapegrad
        >>> tapegrad.add(tapegrad.tensor([1.0]), tapegrad.tensor([2.0]), alpha=3)
        tensor([7.])
    """
    return apply(add_op, input, other if alpha == 1 else apply(mul_op, other, alpha))


def sub(input, other, *, alpha=1):
    """``input - alpha * other``.

    Example:
        >>> import tapegrad
        >>> tapegrad.sub(tapegrad.tensor([5.0]), 2)
        tensor([3.])
    """
    return apply(sub_op, input, other if alpha == 1 else apply(mul_op, other, alpha))


def mul(input, other):
    """Elementwise product, broadcasting.

    Example:
        >>> import tapegrad
        >>> tapegrad.mul(tapegrad.tensor([2.0, 3.0]), 2)
        tensor([4., 6.])
    """
    return apply(mul_op, input, other)


def div(input, other, *, rounding_mode=None):
    """True division (``rounding_mode=None``), or ``"floor"``/``"trunc"`` division.

    Example:
        >>> import tapegrad
        >>> tapegrad.div(tapegrad.tensor([1, 2]), 2)
        tensor([0.5000, 1.0000])
    """
    if rounding_mode is None:
        return apply(div_op, input, other)
    if rounding_mode == "floor":
        return apply(floor_divide_op, input, other)
    if rounding_mode == "trunc":
        if _dtype_of(input, other)._category < 2:
            # Integers: exact (a float quotient loses digits past 2**24); a floor quotient
            # rounds up by one where it was inexact and the signs differ.
            q = apply(floor_divide_op, input, other)
            inexact = apply(remainder_op, input, other) != 0
            return q + (inexact & ((input < 0) != (other < 0)))
        q = apply(div_op, input, other)
        r = apply(sign_op, q) * apply(floor_op, apply(abs_op, q))
        return r if q.dtype == _dtype_of(input, other) else r.to(_dtype_of(input, other))
    raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")


def _dtype_of(*args):
    """PyTorch's result dtype of tensors and Python numbers ``args``."""
    from .. import _dtype as D
    from .registry import Tensor
    return D.result_type([t.dtype for t in args if isinstance(t, Tensor) and t.ndim],
                         [t.dtype for t in args if isinstance(t, Tensor) and not t.ndim],
                         [D.scalar_dtype(t) for t in args if isinstance(t, (int, float, bool))])


divide = alias(div, "divide", "tapegrad.divide(tapegrad.tensor([3.0]), 2)", "tensor([1.5000])")
true_divide = alias(div, "true_divide", "tapegrad.true_divide(tapegrad.tensor([3]), 2)", "tensor([1.5000])")
subtract = alias(sub, "subtract", "tapegrad.subtract(tapegrad.tensor([5.0]), 2, alpha=2)", "tensor([1.])")
multiply = alias(mul, "multiply", "tapegrad.multiply(tapegrad.tensor([2.0]), 3)", "tensor([6.])")


def neg(input):
    """``-input``.

    Example:
        >>> import tapegrad
        >>> tapegrad.neg(tapegrad.tensor([1.0]))
        tensor([-1.])
    """
    return apply(neg_op, input)


negative = alias(neg, "negative", "tapegrad.negative(tapegrad.tensor([1.0, -2.0]))", "tensor([-1.,  2.])")


def pow(input, exponent):  # noqa: A001
    """``input ** exponent`` (either may be a tensor or a number).

    Example:
        >>> import tapegrad
        >>> tapegrad.pow(tapegrad.tensor([2.0, 3.0]), 2)
        tensor([4., 9.])
    """
    return apply(pow_op, input, exponent)


def floor_divide(input, other):
    """``input // other`` elementwise, rounding toward minus infinity (not differentiable, as in PyTorch).

    Integer division by zero raises a RuntimeError.

    Example:
        >>> import tapegrad
        >>> tapegrad.floor_divide(tapegrad.tensor([7, -7]), 2)
        tensor([ 3, -4])
    """
    return apply(floor_divide_op, input, other)


def remainder(input, other):
    """Python-style remainder ``input % other``: the result has the sign of ``other``.

    Example:
        >>> import tapegrad
        >>> tapegrad.remainder(tapegrad.tensor([5.0, -5.0]), 3)
        tensor([2., 1.])
    """
    return apply(remainder_op, input, other)


maximum_op, minimum_op = maximum, minimum   # Note [public functions] in unary.py


def maximum(input, other):
    """Elementwise maximum of two tensors; on ties the gradient is split evenly (as in PyTorch).

    Example:
        >>> import tapegrad
        >>> tapegrad.maximum(tapegrad.tensor([1.0, 5.0]), tapegrad.tensor([3.0, 2.0]))
        tensor([3., 5.])
    """
    return apply(maximum_op, input, other)


def minimum(input, other):
    """Elementwise minimum of two tensors; on ties the gradient is split evenly (as in PyTorch).

    Example:
        >>> import tapegrad
        >>> tapegrad.minimum(tapegrad.tensor([1.0, 5.0]), tapegrad.tensor([3.0, 2.0]))
        tensor([1., 2.])
    """
    return apply(minimum_op, input, other)


def where(condition, input=None, other=None):
    """Elements of ``input`` where ``condition`` holds, else of ``other``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([-1.0, 2.0])
        >>> tapegrad.where(x > 0, x, 0.0)
        tensor([0., 2.])
    """
    if input is None and other is None:     # a Tensor method: elementwise sits below indexing
        return condition.nonzero(as_tuple=True)
    return apply(where_op, condition, input, other)


def clamp(input, min=None, max=None):  # noqa: A002
    """Clamp into ``[min, max]`` (numbers or tensors; either may be None).

    Example:
        >>> import tapegrad
        >>> tapegrad.clamp(tapegrad.tensor([-2.0, 0.5, 3.0]), -1, 1)
        tensor([-1.0000,  0.5000,  1.0000])
    """
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    from .registry import Tensor
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is None:
            return apply(clamp_max_tensor, input, max)
        if max is None:
            return apply(clamp_min_tensor, input, min)
        return apply(clamp_tensor, input, min, max)
    if isinstance(input, Tensor):
        d = _dtype_of(input, min if min is not None else max, max if min is not None else None)
        if d is not input.dtype:
            input = input.to(d)     # an int tensor with float bounds clamps in the default float dtype
    return apply(clip_op, input, a_min=min, a_max=max)


clip = alias(clamp, "clip", "tapegrad.clip(tapegrad.tensor([-2.0, 3.0]), max=1)", "tensor([-2.,  1.])")


def where_method(self, condition, other):
    """``Tensor.where(condition, other)``: elements of ``self`` where ``condition`` holds, else of ``other``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([-1.0, 2.0])
        >>> x.where(x > 0, 0.0)
        tensor([0., 2.])
    """
    return apply(where_op, condition, self, other)


__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg", "negative", "pow",
           "clamp", "clip", "maximum", "minimum", "where", "floor_divide", "remainder"]
METHODS = {n: globals()[n] for n in __all__ if n != "where"}
METHODS["where"] = where_method
