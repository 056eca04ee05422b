"""Scans along a dim (cumsum, cumprod, cummax, cummin, logcumsumexp, diff) and nan-aware reductions
(nansum, nanmean, var_mean, std_mean, aminmax, count_nonzero).

cumsum, cumprod and logcumsumexp are primitives (one backend scan each, with
hand-written VJPs; logcumsumexp's stays stable); cummax/cummin gather their
values at indices found by a never-recorded op, so their gradient is the
gather's (a scatter to the index each running extreme came from, as in PyTorch).
The rest is composed.
"""
import math
from collections import namedtuple

from .. import _dtype as D
from .registry import op, apply
from ._dims import wrap_dim, norm_dims
from . import statistics as S
from . import reduction as R
from .inplace import _inplace
from .graph_math import backend_array, lift
from . import _jvp


def _rcumsum(F, g, axis):
    """The reversed cumulative sum ``sum_{i >= j} g_i``: cumsum's VJP."""
    return F.flip(F.cumsum(F.flip(g, axis), axis), axis)


# ----------------------------------------------------------------- primitives

@op("cumsum", promote=None, tensors=1)
def cumsum_op(be, x, axis):
    return be.cumsum(x, axis)


@cumsum_op.vjp
def _(F, ctx, g, axis):
    return _rcumsum(F, g, axis)


cumsum_op.jvp(_jvp.linear(cumsum_op))


@op("cumprod", save=("x", "out"), promote=None, tensors=1)
def cumprod_op(be, x, axis):
    return be.cumprod(x, axis)


@cumprod_op.vjp
def _(F, ctx, g, x, out, axis):
    # Note [cumprod with zeros]: d out_i / d x_j (i >= j) is the product of
    # x_0..x_i without x_j. Without zeros that is out_i / x_j, so the gradient
    # is a reversed cumsum divided by x. With a zero in the input the quotient
    # fails, and (as PyTorch's differentiable path) each j gets its own cumprod
    # of x with x_j replaced by 1: O(n^2) per line, exact at any order, since
    # every term stays a recorded product of the other inputs.
    if not F.any(x == 0):
        return _rcumsum(F, g * out, axis) / x
    be, xa = backend_array(x)
    n, nd = xa.shape[axis], xa.ndim
    k = be.arange(0, n, 1, D.int64.np)
    j_at = be.reshape(k, (n,) + (1,) * nd)                 # the dropped position j, on a new dim 0
    k_at = be.reshape(k, (n,) + (1,) * (nd - axis - 1))    # the position along the scanned axis
    drop = lift(F, j_at == k_at, like=x)
    later = lift(F, j_at <= k_at, like=x)                  # terms i >= j
    lead = (1,) + tuple(xa.shape)
    cp = F.cumprod(F.where(drop, 1.0, F.reshape(x, lead)), axis + 1)
    per_j = F.sum(F.where(later, F.reshape(g, lead) * cp, 0.0), axis + 1, True)   # (n, ..., 1, ...)
    perm = list(range(nd + 1))
    perm[0], perm[axis + 1] = axis + 1, 0
    return F.reshape(F.transpose(per_j, tuple(perm)), tuple(xa.shape))


@op("logcumsumexp", save=("x", "out"), promote=None, tensors=1)
def logcumsumexp_op(be, x, axis):
    return be.logcumsumexp(x, axis)


@logcumsumexp_op.vjp
def _(F, ctx, g, x, out, axis):
    # d/dx_j = sum_{i >= j} g_i exp(x_j - out_i), summed in log space (PyTorch's
    # formula): split g by sign, take log|g| - out, and a reversed logcumsumexp.
    # Where out is -inf (a prefix of -inf inputs) or g is 0 the term is exactly
    # 0; the masks keep -inf - -inf (nan) out of both this and the next order.
    live = out != -math.inf

    def part(mask, mag):
        mask = F.logical_and(mask, live)
        lg = F.where(mask, F.log(F.where(mask, mag, 1.0)) - F.where(mask, out, 0.0), -math.inf)
        return F.exp(F.flip(F.logcumsumexp(F.flip(lg, axis), axis), axis) + x)
    return part(g > 0, g) - part(g < 0, -g)


@op("cum_extreme_index", promote=None, tensors=1)
def cum_extreme_index(be, x, axis, largest):
    """Never recorded: where each running max (``largest``) or min of ``x`` along ``axis`` was last attained.

    PyTorch's rule: an element at least as large (small) as the running extreme
    takes over, so ties take the later index; a nan takes over and stays, and
    each later nan takes over again.
    """
    vals = be.cummax(x, axis) if largest else be.cummin(x, axis)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    pos = be.reshape(be.arange(0, x.shape[axis], 1, D.int64.np), tuple(shape))
    hit = x == vals
    if x.dtype.kind in "fc":
        isn = be.isnan(x)
        hit = be.logical_or(be.logical_and(hit, be.cumsum(isn, axis) == 0), isn)
    return be.cummax(be.where(hit, pos, 0), axis)


# ----------------------------------------------------------------- scans

def _scan_input(input, dtype, opname):
    if dtype is not None:
        return input.to(dtype)
    return input.to(D.int64) if input.dtype._category < 2 else input


def _scan(opdef, input, dim, opname):
    axis = wrap_dim(dim, input.ndim, opname)
    if input.ndim == 0:
        return apply(opdef, input.reshape(1), axis=0).reshape(())
    return apply(opdef, input, axis=axis)


def cumsum(input, dim, *, dtype=None):
    """The cumulative sum along ``dim``; bool and integer inputs accumulate as int64.

    Example:
        >>> import tapegrad
        >>> tapegrad.cumsum(tapegrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), dim=1)
        tensor([[ 1.,  3.,  6.],
                [ 4.,  9., 15.]])
    """
    return _scan(cumsum_op, _scan_input(input, dtype, "cumsum"), dim, "cumsum")


def cumprod(input, dim, *, dtype=None):
    """The cumulative product along ``dim``; its gradient is exact at zeros (PyTorch's formula).

    Example:
        >>> import tapegrad
        >>> tapegrad.cumprod(tapegrad.tensor([2.0, 3.0, 0.5]), dim=0)
        tensor([2., 6., 3.])
    """
    return _scan(cumprod_op, _scan_input(input, dtype, "cumprod"), dim, "cumprod")


def logcumsumexp(input, dim):
    """``log(cumsum(exp(input)))`` along ``dim``, computed without overflow.

    Example:
        >>> import tapegrad
        >>> tapegrad.logcumsumexp(tapegrad.tensor([0.0, 0.0, 1000.0]), dim=0) - tapegrad.tensor([0.0, 0.0, 1000.0])
        tensor([0.0000, 0.6931, 0.0000])
    """
    if not input.is_floating_point():
        raise RuntimeError(f"logcumsumexp(): expected a floating point input, got {input.dtype}")
    return _scan(logcumsumexp_op, input, dim, "logcumsumexp")


_ReturnCummax = namedtuple("cummax", ("values", "indices"))
_ReturnCummin = namedtuple("cummin", ("values", "indices"))
for _cls in (_ReturnCummax, _ReturnCummin):
    _cls.__repr__ = lambda self: (f"tapegrad.return_types.{type(self).__name__}(\n"
                                  f"values={self.values!r},\nindices={self.indices!r})")
    _cls.__module__ = "tapegrad.return_types"


def _cum_extreme(input, dim, largest):
    from .indexing import gather
    name = "cummax" if largest else "cummin"
    axis = wrap_dim(dim, input.ndim, name)
    x = input.reshape(1) if input.ndim == 0 else input
    if input.dtype is D.bool:
        x = x.to(D.uint8)
    idx = apply(cum_extreme_index, x, axis=axis if input.ndim else 0, largest=largest)
    values = gather(input.reshape(1) if input.ndim == 0 else input, axis if input.ndim else 0, idx)
    if input.ndim == 0:
        values, idx = values.reshape(()), idx.reshape(())
    return (_ReturnCummax if largest else _ReturnCummin)(values, idx)


def cummax(input, dim):
    """``(values, indices)``: the running maximum along ``dim`` and where it was (last) attained.

    The gradient goes to those indices; a nan takes over from where it appears.

    Example:
        >>> import tapegrad
        >>> r = tapegrad.cummax(tapegrad.tensor([1.0, 3.0, 2.0, 3.0]), dim=0)
        >>> r.values, r.indices
        (tensor([1., 3., 3., 3.]), tensor([0, 1, 1, 3]))
    """
    return _cum_extreme(input, dim, True)


def cummin(input, dim):
    """``(values, indices)``: the running minimum along ``dim`` and where it was (last) attained.

    Example:
        >>> import tapegrad
        >>> tapegrad.cummin(tapegrad.tensor([2.0, 1.0, 3.0]), dim=0).values
        tensor([2., 1., 1.])
    """
    return _cum_extreme(input, dim, False)


def cumsum_(self, dim, *, dtype=None):
    """In-place :func:`cumsum` along ``dim``; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.tensor([1.0, 2.0, 3.0]).cumsum_(0)
        tensor([1., 3., 6.])
    """
    return _inplace("cumsum_", self, lambda s: cumsum(s, dim, dtype=dtype), False)


def cumprod_(self, dim, *, dtype=None):
    """In-place :func:`cumprod` along ``dim``; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.tensor([1.0, 2.0, 3.0]).cumprod_(0)
        tensor([1., 2., 6.])
    """
    return _inplace("cumprod_", self, lambda s: cumprod(s, dim, dtype=dtype), True)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim``, after concatenating ``prepend``/``append``.

    Bool tensors take ``!=`` (logical xor) of neighbours, as in PyTorch.

    Example:
        >>> import tapegrad
        >>> tapegrad.diff(tapegrad.tensor([1.0, 4.0, 9.0, 16.0]))
        tensor([3., 5., 7.])
        >>> tapegrad.diff(tapegrad.tensor([1.0, 4.0, 9.0]), n=2, prepend=tapegrad.tensor([0.0]))
        tensor([2., 2.])
    """
    from .joining import cat
    if input.ndim == 0:
        raise RuntimeError("diff(): expects input to be at least one-dimensional")
    if not isinstance(n, int) or n < 0:
        raise RuntimeError(f"diff(): order must be non-negative but got {n}")
    axis = wrap_dim(dim, input.ndim, "diff")
    parts = []
    for name, t in (("prepend", prepend), ("input", input), ("append", append)):
        if t is None:
            continue
        if t.ndim != input.ndim or any(a != b for d, (a, b) in enumerate(zip(t.shape, input.shape)) if d != axis):
            raise RuntimeError(f"diff(): {name} of shape {tuple(t.shape)} must match input {tuple(input.shape)} "
                               f"in every dim but {axis}")
        parts.append(t)
    x = cat(parts, axis) if len(parts) > 1 else input
    for _ in range(n):
        m = x.shape[axis]
        if m == 0:
            break
        hi, lo = x.narrow(axis, 1, m - 1), x.narrow(axis, 0, m - 1)
        x = hi != lo if x.dtype is D.bool else hi - lo
    return x


# ----------------------------------------------------------------- nan-aware and paired reductions

def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """The sum over ``dim`` treating nan as zero (its gradient there is zero).

    Example:
        >>> import tapegrad
        >>> tapegrad.nansum(tapegrad.tensor([1.0, float("nan"), 2.0]))
        tensor(3.)
    """
    x = input if not input.is_floating_point() else input.masked_fill(input != input, 0)
    return R.sum(x, dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean over ``dim`` of the elements that are not nan (nan when there are none).

    Example:
        >>> import tapegrad
        >>> tapegrad.nanmean(tapegrad.tensor([[1.0, float("nan")], [2.0, 4.0]]), dim=1)
        tensor([1., 3.])
    """
    if dtype is not None:
        input = input.to(dtype)
    if not input.is_floating_point():
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got {input.dtype}")
    count = R.sum(input == input, dim, keepdim).to(input.dtype)
    return nansum(input, dim, keepdim) / count


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim``, with :func:`var`'s arguments.

    Example:
        >>> import tapegrad
        >>> tapegrad.var_mean(tapegrad.tensor([1.0, 2.0, 3.0, 4.0]))
        (tensor(1.6667), tensor(2.5000))
    """
    if isinstance(dim, bool):           # var_mean(x, False): the legacy (input, unbiased) overload
        dim, unbiased = None, dim
    return (S.var(input, dim, unbiased, keepdim, correction=correction), R.mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``, with :func:`std`'s arguments.

    Example:
        >>> import tapegrad
        >>> tapegrad.std_mean(tapegrad.tensor([[1.0, 3.0], [2.0, 2.0]]), dim=1, correction=0)
        (tensor([1., 0.]), tensor([2., 2.]))
    """
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return (S.std(input, dim, unbiased, keepdim, correction=correction), R.mean(input, dim, keepdim))


_ReturnAminmax = namedtuple("aminmax", ("min", "max"))
_ReturnAminmax.__module__ = "tapegrad.return_types"
_ReturnAminmax.__repr__ = lambda self: f"tapegrad.return_types.aminmax(\nmin={self.min!r},\nmax={self.max!r})"


def aminmax(input, *, dim=None, keepdim=False):
    """``(min, max)`` over ``dim`` (an int, or None for all); ties share each gradient evenly.

    Example:
        >>> import tapegrad
        >>> r = tapegrad.aminmax(tapegrad.tensor([[1.0, 5.0], [4.0, 2.0]]), dim=1)
        >>> r.min, r.max
        (tensor([1., 2.]), tensor([5., 4.]))
    """
    if dim is not None and not isinstance(dim, int):
        raise TypeError(f"aminmax(): dim must be an int or None, got {dim!r}")
    if dim is None and keepdim:
        shape = (1,) * input.ndim
        return _ReturnAminmax(R.amin(input).reshape(shape), R.amax(input).reshape(shape))
    d = () if dim is None else dim
    return _ReturnAminmax(R.amin(input, d, keepdim), R.amax(input, d, keepdim))


def count_nonzero(input, dim=None):
    """The number of non-zero elements over ``dim`` (an int, a tuple, or None for all), as int64.

    Example:
        >>> import tapegrad
        >>> tapegrad.count_nonzero(tapegrad.tensor([[0, 1, 2], [0, 0, 3]]), dim=1)
        tensor([2, 1])
    """
    axis = norm_dims(dim, input.ndim, "count_nonzero")
    return R.sum(input != 0, axis if axis else None)


__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "diff", "nansum", "nanmean", "var_mean",
           "std_mean", "aminmax", "count_nonzero"]
METHODS = {n: globals()[n] for n in __all__ if n not in ("var_mean", "std_mean")}
METHODS.update(cumsum_=cumsum_, cumprod_=cumprod_)
