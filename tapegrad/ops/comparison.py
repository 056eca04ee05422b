"""Comparisons and logical ops: bool results, never recorded (they have no VJP)."""
from .registry import op, apply

def _cmp(name, sym):
    def fwd(be, a, b):
        return getattr(be, name)(a, b)
    fwd.__name__ = name
    fwd.__doc__ = f"""Forward of elementwise ``a {sym} b`` as a bool tensor (never recorded).
    """
    return op(name, tensors=2)(fwd)


eq_op = _cmp("equal", "==")
ne_op = _cmp("not_equal", "!=")
lt_op = _cmp("less", "<")
le_op = _cmp("less_equal", "<=")
gt_op = _cmp("greater", ">")
ge_op = _cmp("greater_equal", ">=")


def _logical(name):
    def fwd(be, a, b):
        return getattr(be, name)(a, b)
    fwd.__name__ = name
    return op(name, promote=None, tensors=2)(fwd)


logical_and = _logical("logical_and")
logical_or = _logical("logical_or")
logical_xor = _logical("logical_xor")


@op("logical_not", promote=None, tensors=1)
def logical_not(be, x):
    """Forward of ``logical_not``."""
    return be.logical_not(x)


@op("isnan", promote=None, tensors=1)
def isnan(be, x):
    """Forward of ``isnan``."""
    return be.isnan(x)


@op("isinf", promote=None, tensors=1)
def isinf(be, x):
    """Forward of ``isinf``."""
    return be.isinf(x)


@op("isfinite", promote=None, tensors=1)
def isfinite(be, x):
    """Forward of ``isfinite``."""
    return be.isfinite(x)


# Note [public functions] (unary.py): from here on the public names are functions.
logical_and_op, logical_or_op, logical_xor_op = logical_and, logical_or, logical_xor
logical_not_op, isnan_op, isinf_op, isfinite_op = logical_not, isnan, isinf, isfinite


def eq(input, other):
    """Elementwise ``input == other`` as a bool tensor.

    ``other`` may be a tensor (broadcast against ``input``) or a number. Comparisons
    are never recorded: they have no gradient.

    Example:
        >>> import tapegrad
        >>> tapegrad.eq(tapegrad.tensor([1, 2]), 1)
        tensor([ True, False])
    """
    return apply(eq_op, input, other)


def ne(input, other):
    """Elementwise ``input != other`` as a bool tensor.

    ``other`` may be a tensor (broadcast against ``input``) or a number. Comparisons
    are never recorded: they have no gradient.

    Example:
        >>> import tapegrad
        >>> tapegrad.ne(tapegrad.tensor([1, 2]), 1)
        tensor([False,  True])
    """
    return apply(ne_op, input, other)


def lt(input, other):
    """Elementwise ``input < other`` as a bool tensor.

    ``other`` may be a tensor (broadcast against ``input``) or a number. Comparisons
    are never recorded: they have no gradient.

    Example:
        >>> import tapegrad
        >>> tapegrad.lt(tapegrad.tensor([1, 2]), 1)
        tensor([False, False])
    """
    return apply(lt_op, input, other)


def le(input, other):
    """Elementwise ``input <= other`` as a bool tensor.

    ``other`` may be a tensor (broadcast against ``input``) or a number. Comparisons
    are never recorded: they have no gradient.

    Example:
        >>> import tapegrad
        >>> tapegrad.le(tapegrad.tensor([1, 2]), 1)
        tensor([ True, False])
    """
    return apply(le_op, input, other)


def gt(input, other):
    """Elementwise ``input > other`` as a bool tensor.

    ``other`` may be a tensor (broadcast against ``input``) or a number. Comparisons
    are never recorded: they have no gradient.

    Example:
        >>> import tapegrad
        >>> tapegrad.gt(tapegrad.tensor([1, 2]), 1)
        tensor([False,  True])
    """
    return apply(gt_op, input, other)


def ge(input, other):
    """Elementwise ``input >= other`` as a bool tensor.

    ``other`` may be a tensor (broadcast against ``input``) or a number. Comparisons
    are never recorded: they have no gradient.

    Example:
        >>> import tapegrad
        >>> tapegrad.ge(tapegrad.tensor([1, 2]), 1)
        tensor([True, True])
    """
    return apply(ge_op, input, other)


def greater(input, other):
    """Alias of ``gt``: elementwise ``input > other`` as a bool tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.greater(tapegrad.tensor([1, 2]), 1)
        tensor([False,  True])
    """
    return apply(gt_op, input, other)


def greater_equal(input, other):
    """Alias of ``ge``: elementwise ``input >= other`` as a bool tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.greater_equal(tapegrad.tensor([1, 2]), 1)
        tensor([True, True])
    """
    return apply(ge_op, input, other)


def less(input, other):
    """Alias of ``lt``: elementwise ``input < other`` as a bool tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.less(tapegrad.tensor([1, 2]), 1)
        tensor([False, False])
    """
    return apply(lt_op, input, other)


def less_equal(input, other):
    """Alias of ``le``: elementwise ``input <= other`` as a bool tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.less_equal(tapegrad.tensor([1, 2]), 1)
        tensor([ True, False])
    """
    return apply(le_op, input, other)


def not_equal(input, other):
    """Alias of ``ne``: elementwise ``input != other`` as a bool tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.not_equal(tapegrad.tensor([1, 2]), 1)
        tensor([False,  True])
    """
    return apply(ne_op, input, other)


def logical_and(input, other):
    """Elementwise logical and; nonzero counts as true. The result is a bool tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.logical_and(tapegrad.tensor([ True,  True]), tapegrad.tensor([True, False]))
        tensor([ True, False])
    """
    return apply(logical_and_op, input, other)


def logical_or(input, other):
    """Elementwise logical or; nonzero counts as true. The result is a bool tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.logical_or(tapegrad.tensor([True, False]), tapegrad.tensor([False, False]))
        tensor([ True, False])
    """
    return apply(logical_or_op, input, other)


def logical_xor(input, other):
    """Elementwise logical exclusive or; nonzero counts as true. The result is a bool tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.logical_xor(tapegrad.tensor([ True,  True]), tapegrad.tensor([True, False]))
        tensor([False,  True])
    """
    return apply(logical_xor_op, input, other)


def logical_not(input):
    """Elementwise logical not; nonzero counts as true. The result is a bool tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.logical_not(tapegrad.tensor([True, False]))
        tensor([False,  True])
    """
    return apply(logical_not_op, input)


def isnan(input):
    """Which elements are NaN, as a bool tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.isnan(tapegrad.tensor([1.0, float('nan')]))
        tensor([False,  True])
    """
    return apply(isnan_op, input)


def isinf(input):
    """Which elements are positive or negative infinity, as a bool tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.isinf(tapegrad.tensor([1.0, float('inf'), -float('inf')]))
        tensor([False,  True,  True])
    """
    return apply(isinf_op, input)


def isfinite(input):
    """Which elements are finite (neither infinite nor NaN), as a bool tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.isfinite(tapegrad.tensor([1.0, float('inf'), float('nan')]))
        tensor([ True, False, False])
    """
    return apply(isfinite_op, input)


__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
           "logical_not", "logical_and", "logical_or", "logical_xor", "isnan", "isinf", "isfinite"]
METHODS = {n: globals()[n] for n in __all__}
