"""Reductions: sum, mean, prod, max/min/amax/amin, var, std, logsumexp, norm, argmax/argmin.

Ops speak NumPy (``axis``, ``keepdims``); the public functions take PyTorch's
``dim``/``keepdim`` and translate once (ops/_dims.py).
"""
from .registry import op, apply
from ._dims import norm_dims, expand_reduced


@op("sum", promote=None)
def sum_op(be, x, axis=None, keepdims=False):
    return be.sum(x, axis=axis, keepdims=keepdims)


@sum_op.vjp
def _(F, ctx, g, axis=None, keepdims=False):
    shape = ctx.shapes[0]
    return F.broadcast_to(expand_reduced(F, g, shape, axis, keepdims), shape)


def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    """Sum over ``dim`` (an int, a tuple, or None for all); bool/int sums are int64.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> tapegrad.sum(x, dim=0)
        tensor([4., 6.])
    """
    from .. import _dtype as D
    if dtype is not None:
        input = input.to(D.to_dtype(dtype))
    elif input.dtype._category < 2:
        input = input.to(D.int64)
    axis = norm_dims(dim, input.ndim, "sum")
    return apply(sum_op, input, axis=axis, keepdims=bool(keepdim))


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim``; integer inputs raise, as in PyTorch.

    Example:
        >>> import tapegrad
        >>> tapegrad.mean(tapegrad.tensor([1.0, 2.0, 3.0]))
        tensor(2.)
    """
    if dtype is not None:
        input = input.to(dtype)
    if not input.is_floating_point():
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be floating point, "
                           f"got {input.dtype}; pass dtype=tapegrad.float32")
    axis = norm_dims(dim, input.ndim, "mean")
    n = 1
    for a in axis:
        n *= input.shape[a]
    return apply(sum_op, input, axis=axis, keepdims=bool(keepdim)) / (n if n else float("nan"))


__all__ = ["sum", "mean"]
METHODS = {n: globals()[n] for n in __all__}
