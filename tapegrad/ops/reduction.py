"""Reductions: sum, mean, prod, max/min/amax/amin, argmax/argmin, any/all.

Ops speak NumPy (``axis``, ``keepdims``); the public functions take PyTorch's
``dim``/``keepdim`` and translate once (ops/_dims.py). The statistics built on
these (var, std, logsumexp, norm) live in ops/statistics.py, which imports this
module (never the other way).
"""
import builtins
from collections import namedtuple

from .registry import op, apply
from . import registry as _reg
from ._dims import norm_dims, wrap_dim, expand_reduced
from .shape import reshape_op
from . import _jvp


# ----------------------------------------------------------------- sum / prod

@op("sum", promote=None, tensors=1)
def sum_op(be, x, axis=None, keepdims=False):
    return be.sum(x, axis=axis, keepdims=keepdims)


@sum_op.vjp
def _(F, ctx, g, axis=None, keepdims=False):
    shape = ctx.shapes[0]
    return F.broadcast_to(expand_reduced(F, g, shape, axis, keepdims), shape)


sum_op.jvp(_jvp.linear(sum_op))


@op("prod", save=("x", "out"), promote=None, tensors=1)
def prod_op(be, x, axis=None, keepdims=False):
    return be.prod(x, axis=axis, keepdims=keepdims)


@prod_op.vjp
def _(F, ctx, g, x, out, axis=None, keepdims=False):
    shape = ctx.shapes[0]
    g = expand_reduced(F, g, shape, axis, keepdims)
    out = expand_reduced(F, out, shape, axis, keepdims)
    zero = x == 0
    if not F.any(zero):
        return g * out / x
    # Note [prod with zeros]: d prod / d x_i is the product of the others. At a
    # zero x_i that is the product of the non-zeros times the product of the
    # *other zeros*: 1 with one zero in the slice, the other zero's value with
    # two (written as their sum minus x_i, so its derivative is right for
    # grad-of-grad), and 0 with more. Away from the zeros it is ``out / x``,
    # which stays a recorded function of the zeros through ``out``.
    safe = F.where(zero, 1.0, x)
    nz_prod = F.prod(safe, axis=axis, keepdims=True)
    nzeros = F.sum(zero, axis=axis, keepdims=True)
    other_zeros = F.sum(F.where(zero, x, 0.0), axis=axis, keepdims=True) - x
    at_zero = F.where(nzeros == 1, 1.0, F.where(nzeros == 2, other_zeros, 0.0))
    return g * F.where(zero, nz_prod * at_zero, out / safe)


def _int_to_int64(input):
    from .. import _dtype as D
    return input.to(D.int64) if input.dtype._category < 2 else input


def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    """Sum over ``dim`` (an int, a tuple, or None for all); bool/int sums are int64.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> tapegrad.sum(x, dim=0)
        tensor([4., 6.])
    """
    input = input.to(dtype) if dtype is not None else _int_to_int64(input)
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


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product over ``dim`` (an int or None for all); bool/int products are int64.

    The gradient is exact with zeros in a slice (the product of the other elements).

    Example:
        >>> import tapegrad
        >>> tapegrad.prod(tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=1)
        tensor([ 2., 12.])
    """
    input = input.to(dtype) if dtype is not None else _int_to_int64(input)
    axis = norm_dims(dim, input.ndim, "prod")
    return apply(prod_op, input, axis=axis, keepdims=bool(keepdim))


# ----------------------------------------------------------------- max / min

def _even_split(F, ctx, g, x, out, axis=None, keepdims=False):
    # Ties share the gradient evenly, as PyTorch's amax/amin do.
    shape = ctx.shapes[0]
    # The count is cast to x's dtype (NumPy's on raw arrays, a Tensor's .np under create_graph)
    # rather than built from a host constant, so it stays on x's device in both modes.
    g = expand_reduced(F, g, shape, axis, keepdims)
    hit = x == expand_reduced(F, out, shape, axis, keepdims)
    n = F.astype(F.sum(hit, axis=axis, keepdims=True), getattr(x.dtype, "np", x.dtype))
    return F.where(hit, g, 0.0) / n


@op("max", save=("x", "out"), promote=None, tensors=1)
def max_op(be, x, axis=None, keepdims=False):
    return be.max(x, axis=axis, keepdims=keepdims)


@op("min", save=("x", "out"), promote=None, tensors=1)
def min_op(be, x, axis=None, keepdims=False):
    return be.min(x, axis=axis, keepdims=keepdims)


max_op.vjp(_even_split)
min_op.vjp(_even_split)


def _even_split_jvp(F, primals, tangents, out, axis=None, keepdims=False):
    # The tangent of the mean over the tied extremes: the JVP twin of _even_split.
    x = primals[0]
    hit = x == expand_reduced(F, out, tuple(x.shape), axis, keepdims)
    n = F.astype(F.sum(hit, axis=axis, keepdims=keepdims), x.dtype.np)
    return F.sum(F.where(hit, tangents[0], 0.0), axis=axis, keepdims=keepdims) / n


max_op.jvp(_even_split_jvp)
min_op.jvp(_even_split_jvp)


def _select_vjp(F, ctx, g, mask, axis, keepdims):
    # The gradient goes to the index returned (``mask`` is its one-hot along ``axis``).
    return F.where(mask, expand_reduced(F, g, ctx.shapes[0], (axis,), keepdims), 0.0)


@op("max_dim", save="mask", promote=None, tensors=2)
def max_dim_op(be, x, mask, axis, keepdims):
    return be.max(x, axis=axis, keepdims=keepdims)


@op("min_dim", save="mask", promote=None, tensors=2)
def min_dim_op(be, x, mask, axis, keepdims):
    return be.min(x, axis=axis, keepdims=keepdims)


max_dim_op.vjp(_select_vjp)
min_dim_op.vjp(_select_vjp)


def _select_jvp(arg_op):
    # The tangent at the index returned; the mask is made only when x requires grad, so make it here otherwise.
    def rule(F, primals, tangents, out, axis, keepdims):
        x, mask = primals
        if x.ndim == 0:
            return tangents[0]
        if mask is None:
            index = arg_op(x, axis=axis, keepdims=True)
            mask = apply(one_hot_along, index, n=x.shape[axis], axis=axis)
        return F.sum(F.where(mask, tangents[0], 0.0), axis=axis, keepdims=keepdims)
    return rule


max_dim_op.jvp(_select_jvp(lambda *a, **k: argmax_op(*a, **k)))
min_dim_op.jvp(_select_jvp(lambda *a, **k: argmin_op(*a, **k)))


@op("argmax", promote=None, tensors=1)
def argmax_op(be, x, axis=None, keepdims=False):
    return be.argmax(x, axis=axis, keepdims=keepdims)


@op("argmin", promote=None, tensors=1)
def argmin_op(be, x, axis=None, keepdims=False):
    return be.argmin(x, axis=axis, keepdims=keepdims)


@op("one_hot_along", promote=None, tensors=1)
def one_hot_along(be, index, n, axis):
    """A bool mask, True where the position along ``axis`` equals ``index`` (size 1 there)."""
    shape = [1] * index.ndim
    shape[axis] = n
    return be.reshape(be.arange(0, n, 1, index.dtype), tuple(shape)) == index


_ReturnMax = namedtuple("max", ("values", "indices"))
_ReturnMin = namedtuple("min", ("values", "indices"))
for _cls in (_ReturnMax, _ReturnMin):
    _cls.__repr__ = lambda self: (f"tapegrad.return_types.{type(self).__name__}(\n"
                                  f"values={self.values!r},\nindices={self.indices!r})")
    _cls.__module__ = "tapegrad.return_types"


def _check_nonempty(input, axis, opname):
    if input.numel() == 0 and (not axis or builtins.any(input.shape[a] == 0 for a in axis)):
        raise IndexError(f"{opname}(): expected a non-empty reduction, but the input has shape "
                         f"{tuple(input.shape)} and dim={axis if axis else None}; specify a dim of "
                         f"non-zero size")


def _max_min(input, dim, keepdim, other, kind):
    from . import elementwise as E
    if isinstance(dim, _reg.Tensor) or other is not None:
        o = dim if other is None else other
        return apply(E.maximum_op if kind == "max" else E.minimum_op, input, o)
    if dim is None:
        _check_nonempty(input, (), kind)
        return apply(max_op if kind == "max" else min_op, input, axis=None, keepdims=False)
    axis = wrap_dim(dim, input.ndim, kind)
    _check_nonempty(input, (axis,), kind)
    x_axis = axis if input.ndim else None
    index = apply(argmax_op if kind == "max" else argmin_op, input, axis=x_axis, keepdims=input.ndim > 0)
    mask = None
    if input._requires_grad and _reg._GM.enabled:
        mask = apply(one_hot_along, index, n=input.shape[axis], axis=axis) if input.ndim else index == 0
    values = apply(max_dim_op if kind == "max" else min_dim_op, input, mask, axis=x_axis,
                   keepdims=bool(keepdim) and input.ndim > 0)
    if input.ndim and not keepdim:
        index = apply(reshape_op, index, shape=tuple(values.shape))
    return (_ReturnMax if kind == "max" else _ReturnMin)(values, index)


def max(input, dim=None, keepdim=False, *, other=None):  # noqa: A001
    """The maximum of all elements, or ``(values, indices)`` along ``dim``.

    ``max(input, other_tensor)`` is ``maximum``. The full reduction splits the
    gradient evenly among ties; with ``dim`` it goes to the index returned.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[1.0, 5.0], [4.0, 2.0]])
        >>> tapegrad.max(x)
        tensor(5.)
        >>> tapegrad.max(x, dim=1).indices
        tensor([1, 0])
    """
    return _max_min(input, dim, keepdim, other, "max")


def min(input, dim=None, keepdim=False, *, other=None):  # noqa: A001
    """The minimum of all elements, or ``(values, indices)`` along ``dim``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[1.0, 5.0], [4.0, 2.0]])
        >>> tapegrad.min(x, dim=0).values
        tensor([1., 2.])
    """
    return _max_min(input, dim, keepdim, other, "min")


def _amax_amin(input, dim, keepdim, kind):
    axis = norm_dims(dim, input.ndim, kind)
    _check_nonempty(input, axis, kind)
    return apply(max_op if kind == "amax" else min_op, input, axis=axis, keepdims=bool(keepdim))


def amax(input, dim=(), keepdim=False):
    """The maximum over ``dim`` (all dims by default); ties share the gradient evenly.

    Example:
        >>> import tapegrad
        >>> tapegrad.amax(tapegrad.tensor([[1.0, 5.0], [4.0, 2.0]]), dim=0)
        tensor([4., 5.])
    """
    return _amax_amin(input, dim, keepdim, "amax")


def amin(input, dim=(), keepdim=False):
    """The minimum over ``dim`` (all dims by default); ties share the gradient evenly.

    Example:
        >>> import tapegrad
        >>> tapegrad.amin(tapegrad.tensor([[1.0, 5.0], [4.0, 2.0]]), dim=1)
        tensor([1., 2.])
    """
    return _amax_amin(input, dim, keepdim, "amin")


def _arg(input, dim, keepdim, kind):
    if dim is None:
        _check_nonempty(input, (), kind)
        out = apply(argmax_op if kind == "argmax" else argmin_op, input, axis=None, keepdims=bool(keepdim))
        return out
    axis = wrap_dim(dim, input.ndim, kind)
    _check_nonempty(input, (axis,), kind)
    if input.ndim == 0:
        return apply(argmax_op if kind == "argmax" else argmin_op, input)
    return apply(argmax_op if kind == "argmax" else argmin_op, input, axis=axis, keepdims=bool(keepdim))


def argmax(input, dim=None, keepdim=False):
    """Indices (int64) of the maxima along ``dim``, or into the flattened input when ``dim`` is None.

    Example:
        >>> import tapegrad
        >>> tapegrad.argmax(tapegrad.tensor([[1.0, 5.0], [4.0, 2.0]]), dim=1)
        tensor([1, 0])
    """
    return _arg(input, dim, keepdim, "argmax")


def argmin(input, dim=None, keepdim=False):
    """Indices (int64) of the minima along ``dim``, or into the flattened input when ``dim`` is None.

    Example:
        >>> import tapegrad
        >>> tapegrad.argmin(tapegrad.tensor([[1.0, 5.0], [4.0, 2.0]]))
        tensor(0)
    """
    return _arg(input, dim, keepdim, "argmin")


# ----------------------------------------------------------------- any / all (never recorded)

@op("any", promote=None, tensors=1)
def any_op(be, x, axis=None, keepdims=False):
    return be.any(x, axis=axis, keepdims=keepdims)


@op("all", promote=None, tensors=1)
def all_op(be, x, axis=None, keepdims=False):
    return be.all(x, axis=axis, keepdims=keepdims)


def any(input, dim=None, keepdim=False):  # noqa: A001
    """Whether any element over ``dim`` is non-zero, as a bool tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.any(tapegrad.tensor([[0, 1], [0, 0]]), dim=1)
        tensor([ True, False])
    """
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        return input != 0           # as PyTorch: any over no dims reduces nothing (sum's dim=() reduces all)
    return apply(any_op, input, axis=norm_dims(dim, input.ndim, "any"), keepdims=bool(keepdim))


def all(input, dim=None, keepdim=False):  # noqa: A001
    """Whether all elements over ``dim`` are non-zero, as a bool tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.all(tapegrad.tensor([[1, 1], [0, 1]]), dim=1)
        tensor([ True, False])
    """
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        return input != 0           # as PyTorch: all over no dims reduces nothing (sum's dim=() reduces all)
    return apply(all_op, input, axis=norm_dims(dim, input.ndim, "all"), keepdims=bool(keepdim))


__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "any", "all"]
METHODS = {n: globals()[n] for n in __all__}
