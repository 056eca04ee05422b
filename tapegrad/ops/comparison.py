"""Comparisons and logical ops: bool results, never recorded (they have no VJP)."""
from .registry import op, apply

def _cmp(name, sym):
    def fwd(be, a, b):
        return getattr(be, name)(a, b)
    fwd.__name__ = name
    fwd.__doc__ = f"""Elementwise ``a {sym} b`` as a bool tensor (never recorded).

    Example:
        >>> import tapegrad
        >>> tapegrad.{_PUBLIC[name]}(tapegrad.tensor([1, 2]), 1)
        {_EXAMPLES[name]}
    """
    return op(name, tensors=2)(fwd)


_PUBLIC = {"equal": "eq", "not_equal": "ne", "less": "lt", "less_equal": "le", "greater": "gt",
           "greater_equal": "ge"}
_EXAMPLES = {"equal": "tensor([ True, False])", "not_equal": "tensor([False,  True])",
             "less": "tensor([False, False])", "less_equal": "tensor([ True, False])",
             "greater": "tensor([False,  True])", "greater_equal": "tensor([True, True])"}
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
    """Elementwise logical not, as a bool tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.logical_not(tapegrad.tensor([True, False]))
        tensor([False,  True])
    """
    return be.logical_not(x)


@op("isnan", promote=None, tensors=1)
def isnan(be, x):
    """Elementwise NaN test.

    Example:
        >>> import tapegrad
        >>> tapegrad.isnan(tapegrad.tensor([1.0, float('nan')]))
        tensor([False,  True])
    """
    return be.isnan(x)


@op("isinf", promote=None, tensors=1)
def isinf(be, x):
    """Elementwise infinity test.

    Example:
        >>> import tapegrad
        >>> tapegrad.isinf(tapegrad.tensor([1.0, float('inf')]))
        tensor([False,  True])
    """
    return be.isinf(x)


@op("isfinite", promote=None, tensors=1)
def isfinite(be, x):
    """Elementwise finiteness test.

    Example:
        >>> import tapegrad
        >>> tapegrad.isfinite(tapegrad.tensor([1.0, float('inf')]))
        tensor([ True, False])
    """
    return be.isfinite(x)



def eq(input, other):
    return apply(eq_op, input, other)


def ne(input, other):
    return apply(ne_op, input, other)


def lt(input, other):
    return apply(lt_op, input, other)


def le(input, other):
    return apply(le_op, input, other)


def gt(input, other):
    return apply(gt_op, input, other)


def ge(input, other):
    return apply(ge_op, input, other)


for _f, _o in ((eq, eq_op), (ne, ne_op), (lt, lt_op), (le, le_op), (gt, gt_op), (ge, ge_op)):
    _f.__doc__ = _o.__doc__
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
           "logical_not", "logical_and", "logical_or", "logical_xor", "isnan", "isinf", "isfinite"]
METHODS = {n: globals()[n] for n in __all__}
