"""Bitwise ops on integer and bool tensors: ``bitwise_and or xor not``, ``bitwise_left_shift/right_shift``.

Also the operators ``& | ^ ~ << >>`` (bound in ``_tensor_methods.py``). None is
differentiable (integer results are never recorded). A float operand raises
TypeError naming the op and the dtype, where PyTorch raises NotImplementedError.
"""
from .. import _dtype as D
from .registry import op, apply
from . import comparison as C

__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift"]


def _binary(name, method):
    def fwd(be, a, b):
        return method(be, a, b)
    fwd.__name__ = name
    fwd.__doc__ = f"Forward of ``{name}``."
    return op(name, promote="all", tensors=2)(fwd)


bitwise_and_op = _binary("bitwise_and", lambda be, a, b: be.bitwise_and(a, b))
bitwise_or_op = _binary("bitwise_or", lambda be, a, b: be.bitwise_or(a, b))
bitwise_xor_op = _binary("bitwise_xor", lambda be, a, b: be.bitwise_xor(a, b))
left_shift_op = _binary("left_shift", lambda be, a, b: be.left_shift(a, b))
right_shift_op = _binary("right_shift", lambda be, a, b: be.right_shift(a, b))


@op("invert", promote=None, tensors=1)
def invert_op(be, x):
    """Forward of ``bitwise_not`` on integers."""
    return be.invert(x)


def _check(name, *xs, bools=True):
    from .registry import Tensor
    for x in xs:
        dt = x.dtype if isinstance(x, Tensor) else D.scalar_dtype(x)
        if dt.np.kind not in ("iub" if bools else "iu"):
            kinds = "integer and bool" if bools else "integer"
            raise TypeError(f"{name}: only {kinds} tensors are supported, got {dt}")


def bitwise_and(input, other):
    """Bitwise and of integers (logical and of bools); also ``input & other``.

    Example:
        >>> import tapegrad
        >>> tapegrad.bitwise_and(tapegrad.tensor([12, 10]), 6)
        tensor([4, 2])
    """
    _check("bitwise_and", input, other)
    return apply(bitwise_and_op, input, other)


def bitwise_or(input, other):
    """Bitwise or of integers (logical or of bools); also ``input | other``.

    Example:
        >>> import tapegrad
        >>> tapegrad.bitwise_or(tapegrad.tensor([12, 10]), 1)
        tensor([13, 11])
    """
    _check("bitwise_or", input, other)
    return apply(bitwise_or_op, input, other)


def bitwise_xor(input, other):
    """Bitwise exclusive or of integers (logical xor of bools); also ``input ^ other``.

    Example:
        >>> import tapegrad
        >>> tapegrad.bitwise_xor(tapegrad.tensor([12, 10]), 6)
        tensor([10, 12])
    """
    _check("bitwise_xor", input, other)
    return apply(bitwise_xor_op, input, other)


def bitwise_not(input):
    """Bitwise not of integers (``-x - 1``), logical not of bools; also ``~input``.

    Example:
        >>> import tapegrad
        >>> tapegrad.bitwise_not(tapegrad.tensor([0, 5])), ~tapegrad.tensor([True, False])
        (tensor([-1, -6]), tensor([False,  True]))
    """
    _check("bitwise_not", input)
    if input.dtype is D.bool:
        return C.logical_not(input)
    return apply(invert_op, input)


def bitwise_left_shift(input, other):
    """``input << other`` for integers.

    Example:
        >>> import tapegrad
        >>> tapegrad.bitwise_left_shift(tapegrad.tensor([1, 3]), 2)
        tensor([ 4, 12])
    """
    _check("bitwise_left_shift", input, other, bools=False)
    return apply(left_shift_op, input, other)


def bitwise_right_shift(input, other):
    """``input >> other`` for integers (arithmetic: the sign is kept).

    Example:
        >>> import tapegrad
        >>> tapegrad.bitwise_right_shift(tapegrad.tensor([8, -8]), 2)
        tensor([ 2, -2])
    """
    _check("bitwise_right_shift", input, other, bools=False)
    return apply(right_shift_op, input, other)


METHODS = {n: globals()[n] for n in __all__}
