"""Sorting and order statistics: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode,
quantile, nanquantile.

Note [order statistics by gather]: one never-recorded op finds the order (a
stable argsort, nan last ascending and first descending, as in PyTorch); every
value is then ``gather``-ed from the input at the indices chosen, so its
gradient goes to exactly the element returned (PyTorch's
value_selecting_reduction_backward) and needs no VJP here. ``median()`` and
``nanmedian()`` without a dim split the gradient evenly among the elements equal
to the result instead, as PyTorch does.
"""
import math
from collections import namedtuple

from .. import _dtype as D
from .registry import op, apply
from ._dims import wrap_dim


@op("argsort", promote=None, tensors=1)
def argsort_op(be, x, axis, descending=False):
    """Never recorded: the stable sorting order of ``x`` along ``axis`` (int64)."""
    if not descending:
        return be.argsort(x, axis)
    # Stable descending (ties keep their order, nan first): sort the reversed
    # line ascending, reverse the result, and map positions back.
    rev = be.argsort(be.flip(x, axis), axis)
    return (x.shape[axis] - 1) - be.flip(rev, axis)


def _ret(name, fields=("values", "indices")):
    cls = namedtuple(name, fields)
    cls.__module__ = "tapegrad.return_types"
    cls.__repr__ = lambda self: (f"tapegrad.return_types.{name}(\n"
                                 + ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields) + ")")
    return cls


_Sort, _Topk, _Kth, _Median, _NanMedian, _Mode = (_ret(n) for n in ("sort", "topk", "kthvalue", "median",
                                                                    "nanmedian", "mode"))


def _order(input, axis, descending=False):
    x = input.detach()
    if x.dtype is D.bool:
        x = x.to(D.uint8)
    return apply(argsort_op, x, axis=axis, descending=bool(descending))


def _gather(input, axis, idx):
    from .indexing import gather
    return gather(input, axis, idx)


def argsort(input, dim=-1, descending=False, *, stable=False):
    """The indices (int64) that sort ``input`` along ``dim``; the sort is always stable.

    Example:
        >>> import tapegrad
        >>> tapegrad.argsort(tapegrad.tensor([3.0, 1.0, 2.0]))
        tensor([1, 2, 0])
    """
    axis = wrap_dim(dim, input.ndim, "argsort")
    if input.ndim == 0:
        return apply(argsort_op, input.detach().reshape(1), axis=0).reshape(())
    return _order(input, axis, descending)


def sort(input, dim=-1, descending=False, *, stable=False):
    """``(values, indices)``: ``input`` sorted along ``dim`` (stably; nan last, or first when descending).

    Example:
        >>> import tapegrad
        >>> r = tapegrad.sort(tapegrad.tensor([[3.0, 1.0, 2.0]]), descending=True)
        >>> r.values, r.indices
        (tensor([[3., 2., 1.]]), tensor([[0, 2, 1]]))
    """
    axis = wrap_dim(dim, input.ndim, "sort")
    x = input.reshape(1) if input.ndim == 0 else input
    idx = _order(x, axis if input.ndim else 0, descending)
    values = _gather(x, axis if input.ndim else 0, idx)
    if input.ndim == 0:
        values, idx = values.reshape(()), idx.reshape(())
    return _Sort(values, idx)


def msort(input):
    """``input`` sorted along dim 0: ``sort(input, dim=0).values``.

    Example:
        >>> import tapegrad
        >>> tapegrad.msort(tapegrad.tensor([[2.0, 1.0], [1.0, 3.0]]))
        tensor([[1., 1.],
                [2., 3.]])
    """
    return sort(input, 0).values


def _check_k(opname, k, n, lo):
    if not isinstance(k, int) or isinstance(k, bool) or not lo <= k <= n:
        raise RuntimeError(f"{opname}(): selected index k={k!r} is out of range for a dim of size {n} "
                           f"(expected {lo} <= k <= {n})")


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) elements along ``dim``.

    The result is always in sorted order; ties keep the earlier index first.

    Example:
        >>> import tapegrad
        >>> tapegrad.topk(tapegrad.tensor([1.0, 4.0, 2.0, 3.0]), 2).values
        tensor([4., 3.])
    """
    dim = -1 if dim is None else dim
    axis = wrap_dim(dim, input.ndim, "topk")
    n = input.shape[axis] if input.ndim else 1
    _check_k("topk", k, n, 0)
    s = sort(input, dim, descending=largest)
    if input.ndim == 0:
        return _Topk(*s)
    return _Topk(s.values.narrow(axis, 0, k), s.indices.narrow(axis, 0, k))


def _pick(input, axis, pos, keepdim, cls, descending=False):
    """The element of each line at sorted position ``pos`` (an int, or an int64 tensor of the lines' shape)."""
    x = input.reshape(1) if input.ndim == 0 else input
    axis = axis if input.ndim else 0
    order = _order(x, axis, descending)
    if isinstance(pos, int):
        idx = order.narrow(axis, pos, 1)
    else:
        idx = _gather(order, axis, pos.unsqueeze(axis))
    values = _gather(x, axis, idx)
    if input.ndim == 0:
        return cls(values.reshape(()), idx.reshape(()))
    if not keepdim:
        values, idx = values.squeeze(axis), idx.squeeze(axis)
    return cls(values, idx)


def _nonempty(opname, input, axis):
    if input.ndim and input.shape[axis] == 0:
        raise IndexError(f"{opname}(): expected a non-empty dim {axis}, but the input has shape "
                         f"{tuple(input.shape)}")


def kthvalue(input, k, dim=-1, keepdim=False):
    """``(values, indices)``: the ``k``-th smallest element (1-based) along ``dim``.

    Example:
        >>> import tapegrad
        >>> tapegrad.kthvalue(tapegrad.tensor([3.0, 1.0, 2.0]), 2)
        tapegrad.return_types.kthvalue(
        values=tensor(2.),
        indices=tensor(2))
    """
    dim = -1 if dim is None else dim
    axis = wrap_dim(dim, input.ndim, "kthvalue")
    _check_k("kthvalue", k, input.shape[axis] if input.ndim else 1, 1)
    return _pick(input, axis, k - 1, keepdim, _Kth)


def _median(input, dim, keepdim, ignore_nan):
    from .reduction import sum as _sum
    name = "nanmedian" if ignore_nan else "median"
    if dim is None:
        if input.numel() == 0:
            return input.new_full((), math.nan) if input.is_floating_point() else input.new_zeros(())
        m = _median(input.reshape(-1).detach(), 0, False, ignore_nan).values
        # Ties (and nans, for a nan result) share the gradient evenly, as in PyTorch.
        hit = (input == m) | (input.isnan() & m.isnan()) if input.is_floating_point() else input == m
        return _sum(input.masked_fill(~hit, 0)) / _sum(hit).to(input.dtype) if input.is_floating_point() else m
    axis = wrap_dim(dim, input.ndim, name)
    _nonempty(name, input, axis)
    n = input.shape[axis] if input.ndim else 1
    if not input.is_floating_point():
        return _pick(input, axis, (n - 1) // 2, keepdim, _NanMedian if ignore_nan else _Median)
    valid = _sum(~input.detach().isnan(), axis) if input.ndim else (~input.detach().isnan()).long()
    if ignore_nan:
        pos = ((valid - 1) // 2).clamp(min=0)      # an all-nan line: k = 0 as in PyTorch (which nan is arbitrary)
    else:
        pos = valid.masked_fill(valid == n, (n - 1) // 2)     # a nan in the line: the first nan
    if input.ndim == 0:
        pos = pos.reshape(())
    return _pick(input, axis, pos, keepdim, _NanMedian if ignore_nan else _Median)


def median(input, dim=None, keepdim=False):
    """The lower median of all elements, or ``(values, indices)`` along ``dim``; nan if a nan is there.

    Example:
        >>> import tapegrad
        >>> tapegrad.median(tapegrad.tensor([4.0, 1.0, 3.0, 2.0]))
        tensor(2.)
        >>> tapegrad.median(tapegrad.tensor([[4.0, 1.0, 3.0]]), dim=1).indices
        tensor([2])
    """
    return _median(input, dim, keepdim, False)


def nanmedian(input, dim=None, keepdim=False):
    """:func:`median` ignoring nan (nan only where every element is nan).

    Example:
        >>> import tapegrad
        >>> tapegrad.nanmedian(tapegrad.tensor([4.0, float("nan"), 1.0, 3.0]))
        tensor(3.)
    """
    return _median(input, dim, keepdim, True)


def mode(input, dim=-1, keepdim=False):
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest among equally frequent
    ones) and the index of its last occurrence.

    Example:
        >>> import tapegrad
        >>> r = tapegrad.mode(tapegrad.tensor([3.0, 1.0, 3.0, 1.0, 2.0]))
        >>> r.values, r.indices
        (tensor(1.), tensor(3))
    """
    from .reduction import argmax
    from .scans import cummax
    from .joining import cat
    from .._creation import arange
    axis = wrap_dim(dim, input.ndim, "mode")
    _nonempty("mode", input, axis)
    if input.ndim == 0:
        return _Mode(_gather(input.reshape(1), 0, input.new_zeros((1,), dtype=D.int64)).reshape(()),
                     input.new_zeros((), dtype=D.int64))
    order = _order(input, axis)
    s = _gather(input.detach(), axis, order)
    n = input.shape[axis]
    # In the sorted line, a run of equal values grows by one per element: the
    # first position where the run length peaks ends the longest run of the
    # smallest value, and the stable order puts that value's last index there.
    pos = arange(n, device=input.device).reshape((n,) + (1,) * (input.ndim - 1 - axis)).expand(s.shape)
    starts = s.narrow(axis, 1, n - 1) != s.narrow(axis, 0, n - 1)
    starts = cat([starts.new_ones(starts.shape[:axis] + (1,) + starts.shape[axis + 1:]), starts], axis)
    start_pos = cummax(pos.masked_fill(~starts, 0), axis).values
    best = argmax(pos - start_pos, axis, keepdim=True)
    idx = _gather(order, axis, best)
    values = _gather(input, axis, idx)
    if not keepdim:
        values, idx = values.squeeze(axis), idx.squeeze(axis)
    return _Mode(values, idx)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    from .reduction import sum as _sum
    from .._tensor import Tensor
    from .._creation import tensor as _tensor
    name = "nanquantile" if ignore_nan else "quantile"
    if not input.is_floating_point():
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype, got {input.dtype}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of {', '.join(_INTERPOLATIONS)}, "
                           f"but got {interpolation!r}")
    scalar_q = not isinstance(q, Tensor) or q.ndim == 0
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor, got shape {tuple(q.shape)}")
        if q.dtype is not input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor "
                               f"({input.dtype}), got {q.dtype}")
        qt = q.detach().to(input.device).reshape(-1)
    else:
        qt = _tensor([float(q)], dtype=input.dtype, device=input.device)
    if qt.numel() and bool(((qt < 0) | (qt > 1)).any()):
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    if dim is None:
        x, axis = input.reshape(-1), 0
    else:
        axis = wrap_dim(dim, input.ndim, name)
        x = input.reshape(1) if input.ndim == 0 else input
    if x.shape[axis] == 0:
        raise IndexError(f"{name}() input tensor must be non-empty along dim {axis}, got shape "
                         f"{tuple(input.shape)}")
    x = x.movedim(axis, -1)                                 # lines last: (*rows, n)
    n = x.shape[-1]
    order = _order(x, x.ndim - 1)
    valid = _sum(~x.detach().isnan(), -1, keepdim=True)     # (*rows, 1)
    qs = qt.reshape((-1,) + (1,) * x.ndim)                  # (Q, 1, ..., 1)
    rank = qs * (valid - 1).clamp(min=0).to(x.dtype)        # (Q, *rows, 1)
    if not ignore_nan:
        rank = rank.masked_fill(valid < n, n - 1)           # a nan in the line: its result is nan
    if interpolation == "nearest":
        rank = rank.round()
    lo = rank.floor().long()
    hi = rank.ceil().long()
    xq = x.unsqueeze(0).expand((qt.shape[0],) + tuple(x.shape))
    oq = order.unsqueeze(0).expand(xq.shape)
    v_lo = _gather(xq, -1, _gather(oq, -1, lo))
    v_hi = _gather(xq, -1, _gather(oq, -1, hi))
    if interpolation in ("lower", "nearest"):
        out = v_lo
    elif interpolation == "higher":
        out = v_hi
    elif interpolation == "midpoint":
        out = v_lo + (v_hi - v_lo) * 0.5
    else:
        out = v_lo + (v_hi - v_lo) * (rank - lo.to(x.dtype))
    out = out.squeeze(-1)                                   # (Q, *rows)
    if keepdim:
        if dim is None:
            out = out.reshape((out.shape[0],) + (1,) * input.ndim)
        elif input.ndim:
            out = out.unsqueeze(axis + 1)
    return out.squeeze(0) if scalar_q else out


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-th quantiles along ``dim`` (all elements when None), interpolating as asked.

    ``q`` is a number or a 1-D tensor of numbers in [0, 1] (then the quantiles
    are the first dim of the result); a line holding a nan gives nan.

    Example:
        >>> import tapegrad
        >>> tapegrad.quantile(tapegrad.tensor([1.0, 2.0, 4.0, 8.0]), 0.5)
        tensor(3.)
        >>> tapegrad.quantile(tapegrad.tensor([1.0, 2.0, 4.0]), tapegrad.tensor([0.25, 1.0]))
        tensor([1.5000, 4.0000])
    """
    return _quantile(input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """:func:`quantile` ignoring nan (nan where a line is all nan).

    Example:
        >>> import tapegrad
        >>> tapegrad.nanquantile(tapegrad.tensor([1.0, float("nan"), 3.0]), 0.5)
        tensor(2.)
    """
    return _quantile(input, q, dim, keepdim, interpolation, True)


__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "quantile",
           "nanquantile"]
METHODS = {n: globals()[n] for n in __all__}
