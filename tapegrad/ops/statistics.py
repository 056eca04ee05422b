"""Statistics over the reductions: var, std (composed), logsumexp and vector norms (primitives).

Built on ops/reduction.py, which never imports this module.

logsumexp and the p-norm are primitives only for stability: a stable forward,
and VJPs that stay finite where the composed form would divide 0 by 0.
"""
import math

from .registry import op, apply
from . import unary as U
from .reduction import sum_op, amax, amin, sum as _sum
from ._dims import norm_dims, expand_reduced, reduced_numel, reduced_shape
from . import _jvp


def _need_float(input, opname):
    if not input.is_floating_point():
        raise RuntimeError(f"{opname}(): expected a floating point input, got {input.dtype}; "
                           f"convert it with .float()")


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim``, dividing by ``N - correction`` (``correction=1`` by default).

    ``unbiased=False`` is the legacy spelling of ``correction=0``.

    Example:
        >>> import tapegrad
        >>> tapegrad.var(tapegrad.tensor([1.0, 2.0, 3.0, 4.0]))
        tensor(1.6667)
        >>> tapegrad.var(tapegrad.tensor([1.0, 2.0, 3.0, 4.0]), correction=0)
        tensor(1.2500)
    """
    if isinstance(dim, bool):           # var(x, False): the legacy (input, unbiased) overload
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise RuntimeError("var(): pass either unbiased or correction, not both")
    c = correction if correction is not None else (1 if unbiased is None or unbiased else 0)
    _need_float(input, "var")
    axis = norm_dims(dim, input.ndim, "var")
    n = reduced_numel(input.shape, axis)
    mu = apply(sum_op, input, axis=axis, keepdims=True) / (n if n else float("nan"))
    d = input - mu
    ss = apply(sum_op, d * d, axis=axis, keepdims=bool(keepdim))
    # PyTorch divides by max(0, N - correction): 0/0 is nan, x/0 is inf.
    dof = n - c
    return ss * (1.0 / dof if dof > 0 else math.inf)


@op("std_sqrt", save="out", promote=None, tensors=1)
def std_sqrt(be, v):
    return be.sqrt(v)


@std_sqrt.vjp
def _(F, ctx, g, out):
    # Note [std at zero]: a zero standard deviation (constant data, or one element
    # with correction=0) gets a zero gradient, as in PyTorch; plain sqrt would send
    # inf into var's VJP, where it meets a zero deviation and makes nan. The safe
    # denominator keeps the discarded branch finite for grad-of-grad.
    zero = out == 0
    return F.where(zero, 0.0, g / (2 * F.where(zero, 1.0, out)))


std_sqrt.jvp(_jvp.diagonal(std_sqrt))


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim``: ``sqrt(var(...))`` with the same arguments.

    The gradient where the result is 0 is 0 (constant data), as in PyTorch.

    Example:
        >>> import tapegrad
        >>> tapegrad.std(tapegrad.tensor([[1.0, 3.0], [2.0, 2.0]]), dim=1, correction=0)
        tensor([1., 0.])
    """
    return apply(std_sqrt, var(input, dim, unbiased, keepdim, correction=correction))


@op("logsumexp", save=("x", "out"), promote="float", tensors=1)
def logsumexp_op(be, x, axis, keepdims):
    if x.size == 0:
        return be.full(reduced_shape(x.shape, axis, keepdims), -math.inf, x.dtype)
    m = be.max(x, axis=axis, keepdims=True)
    m = be.where(be.isfinite(m), m, 0)     # an all -inf slice must stay -inf, not nan
    out = be.log(be.sum(be.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else be.reshape(out, reduced_shape(x.shape, axis, False))


@logsumexp_op.vjp
def _(F, ctx, g, x, out, axis, keepdims):
    shape = ctx.shapes[0]
    return expand_reduced(F, g, shape, axis, keepdims) * F.exp(x - expand_reduced(F, out, shape, axis, keepdims))


@logsumexp_op.jvp
def _(F, primals, tangents, out, axis, keepdims):
    x = primals[0]
    w = F.exp(x - expand_reduced(F, out, tuple(x.shape), axis, keepdims))
    return F.sum(tangents[0] * w, axis=axis, keepdims=keepdims)


def logsumexp(input, dim=None, keepdim=False):
    """``log(sum(exp(input)))`` over ``dim``, computed stably; its gradient is the softmax.

    Example:
        >>> import tapegrad
        >>> tapegrad.logsumexp(tapegrad.tensor([[0.0, 0.0], [100.0, 100.0]]), dim=1)
        tensor([  0.6931, 100.6931])
    """
    return apply(logsumexp_op, input, axis=norm_dims(dim, input.ndim, "logsumexp"), keepdims=bool(keepdim))


@op("vector_norm", save=("x", "out"), promote=None, tensors=1)
def vector_norm_op(be, x, ord, axis, keepdims):
    if ord == 2:
        return be.sqrt(be.sum(x * x, axis=axis, keepdims=keepdims))
    return be.sum(be.abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


@vector_norm_op.vjp
def _(F, ctx, g, x, out, ord, axis, keepdims):
    # Note [norm at zero]: a zero norm gets a zero gradient (as PyTorch does), and
    # zeros of x never reach a negative power, so neither order makes nan or inf.
    shape = ctx.shapes[0]
    g = expand_reduced(F, g, shape, axis, keepdims)
    out = expand_reduced(F, out, shape, axis, keepdims)
    safe = F.where(out == 0, 1.0, out)
    if ord == 2:
        return g * x / safe
    nz = x != 0
    ax = F.where(nz, F.abs(x), 1.0)
    return F.where(nz, g * F.sign(x) * ax ** (ord - 1) / safe ** (ord - 1), 0.0)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector p-norm over ``dim`` (all elements by default).

    Args:
        p: ``"fro"`` or 2 (Euclidean), 1, any real p, ``inf``/``-inf`` (max/min of
            ``abs``), or 0 (the count of non-zeros).
        dim: an int, a tuple of ints, or None for all dims.
        keepdim: keep the reduced dims with size 1.
        dtype: compute in this floating dtype.

    Returns:
        A tensor; the gradient at a zero norm is zero.

    Example:
        >>> import tapegrad
        >>> tapegrad.norm(tapegrad.tensor([3.0, 4.0]))
        tensor(5.)
        >>> tapegrad.norm(tapegrad.tensor([[3.0, -4.0]]), p=1, dim=1)
        tensor([7.])
    """
    if dtype is not None:
        input = input.to(dtype)
    _need_float(input, "norm")
    if p == "fro":
        p = 2
    if isinstance(p, str) or not isinstance(p, (int, float)):
        raise RuntimeError(f"norm(): unsupported p={p!r}; supported: 'fro', or a number "
                           "(including inf, -inf and 0)")
    axis = norm_dims(dim, input.ndim, "norm")
    if p == math.inf:
        return amax(U.abs(input), axis, keepdim)
    if p == -math.inf:
        return amin(U.abs(input), axis, keepdim)
    if p == 0:
        return _sum(input != 0, axis, keepdim).to(input.dtype)
    if p == 1:
        return _sum(U.abs(input), axis, keepdim)
    return apply(vector_norm_op, input, ord=float(p), axis=axis, keepdims=bool(keepdim))


__all__ = ["var", "std", "logsumexp", "norm"]
METHODS = {n: globals()[n] for n in __all__}
