"""Integer-valued and set-like results (never differentiable): unique, unique_consecutive, bincount,
histc, bucketize, searchsorted.

All are composed of the stable ``argsort`` op (ops/sorting.py), the backend's
``searchsorted`` and ``scatter_add``, and ordinary tensor ops, so they run on
every backend; the sizes they return depend on the data, so each reads one
number back from the device.
"""
from .. import _dtype as D
from .registry import op, apply
from .sorting import _order
from ._dims import wrap_dim


@op("searchsorted", promote=None, tensors=2)
def searchsorted_op(be, a, v, side="left"):
    return be.searchsorted(a, v, side)


@op("bincount", promote=None, tensors=2, math=None)
def bincount_op(be, x, w, length):
    """Never recorded: ``w`` (or ones) summed into ``length`` bins at ``x``."""
    return be.scatter_add((length,), (x,), w, w.dtype)


def _tensor_like(value, like):
    from .._tensor import Tensor
    from .._creation import tensor
    if isinstance(value, Tensor):
        return value
    # a Python number is compared exactly: as float64 (or int64), never rounded to float32
    return tensor(value, dtype=D.float64 if isinstance(value, float) else None, device=like.device)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, out=None, sorter=None):
    """Indices where ``input`` (the values) would be inserted into the last dim of ``sorted_sequence`` to keep it sorted.

    ``right=True`` (or ``side="right"``) returns the index after equal
    entries. ``sorted_sequence`` is 1-D or has the leading dims of ``input``;
    ``sorter`` holds indices that sort it.

    Example:
        >>> import tapegrad
        >>> seq = tapegrad.tensor([1, 3, 5, 7, 9])
        >>> tapegrad.searchsorted(seq, tapegrad.tensor([3, 6, 9]))
        tensor([1, 3, 4])
        >>> tapegrad.searchsorted(seq, tapegrad.tensor([3, 6, 9]), right=True)
        tensor([2, 3, 5])
    """
    if out is not None:
        raise TypeError("searchsorted(): out= is not supported; use the returned tensor")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side!r}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    scalar = not hasattr(input, "shape")
    v = _tensor_like(input, sorted_sequence)
    a = sorted_sequence
    if a.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           "boundaries tensor [] and input value tensor " + str(list(v.shape)))
    if a.ndim > 1 and (v.ndim != a.ndim or tuple(v.shape[:-1]) != tuple(a.shape[:-1])):
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           f"dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(a.shape)} and input value tensor {list(v.shape)}")
    if sorter is not None:
        if tuple(sorter.shape) != tuple(a.shape) or sorter.dtype is not D.int64:
            raise RuntimeError(f"torch.searchsorted(): sorter must be an int64 tensor of the boundaries' shape "
                               f"{list(a.shape)}, got {sorter.dtype} of shape {list(sorter.shape)}")
        from .indexing import gather
        a = gather(a, -1, sorter)
    ct = D.promote_types(a.dtype, v.dtype)      # a Python number compares exactly (as a 64-bit tensor)
    out = apply(searchsorted_op, a.detach().to(ct), v.detach().to(ct), side="right" if right else "left")
    if scalar:
        out = out.reshape(())
    return out.to(D.int32) if out_int32 else out


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The index of the bucket of each element of ``input`` among the sorted 1-D ``boundaries``.

    With ``right=False`` element ``x`` goes to ``i`` with ``boundaries[i-1] < x <= boundaries[i]``.

    Example:
        >>> import tapegrad
        >>> tapegrad.bucketize(tapegrad.tensor([0.5, 1.0, 4.0]), tapegrad.tensor([1.0, 2.0, 3.0]))
        tensor([0, 0, 3])
    """
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(input, weights=None, minlength=0):
    """The number of occurrences (or the sum of ``weights``) of each value in the 1-D non-negative ``input``.

    Example:
        >>> import tapegrad
        >>> tapegrad.bincount(tapegrad.tensor([1, 1, 3]))
        tensor([0, 2, 0, 1])
    """
    if input.ndim != 1 or input.dtype._category != 1 or input.dtype is D.bool:
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got {input.dtype} of "
                           f"shape {tuple(input.shape)}")
    if minlength < 0:
        raise RuntimeError(f"bincount(): minlength should be >= 0, got {minlength}")
    if weights is not None and tuple(weights.shape) != tuple(input.shape):
        raise RuntimeError(f"bincount(): weights should be 1-d and have the same length as input "
                           f"({tuple(input.shape)}), got {tuple(weights.shape)}")
    if input.numel() and int(input.min()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    length = max(int(input.max()) + 1 if input.numel() else 0, minlength)
    if weights is None or input.numel() == 0:         # PyTorch: an empty input gives int64 zeros, weights or not
        w = input.new_ones(input.shape, dtype=D.int64)
    else:
        w = weights.detach().to(weights.dtype if weights.dtype in (D.float32, D.float64) else D.float64)
    return apply(bincount_op, input.to(D.int64), w, length=length)


def histc(input, bins=100, min=0, max=0):  # noqa: A002
    """A histogram of ``input`` in ``bins`` equal bins over ``[min, max]`` (the data's range when equal).

    Elements outside the range are ignored; ``max`` itself falls in the last bin.

    Example:
        >>> import tapegrad
        >>> tapegrad.histc(tapegrad.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3)
        tensor([0., 2., 1., 0.])
    """
    if not input.is_floating_point():
        raise RuntimeError(f"histc(): expected a floating point input, got {input.dtype}")
    if bins <= 0:
        raise RuntimeError(f"histc(): bins must be > 0, but got {bins}")
    lo, hi = float(min), float(max)
    x = input.detach().reshape(-1)
    if lo == hi and x.numel():
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"histc(): max must be larger than min, got min={min} max={max}")
    keep = (x >= lo) & (x <= hi)
    x = x[keep]
    idx = ((x - lo) / (hi - lo) * bins).floor().long().clamp(max=bins - 1)     # PyTorch's order of operations
    return bincount(idx, x.new_ones(x.shape), minlength=bins)[:bins].to(input.dtype)


def _outputs(values, inverse, counts, return_inverse, return_counts):
    if return_inverse and return_counts:
        return values, inverse, counts
    if return_inverse:
        return values, inverse
    if return_counts:
        return values, counts
    return values


def _runs(rows, order, n, return_inverse, return_counts, shape):
    """Unique rows of ``rows`` (n, m) taken in ``order`` (None: as they are), consecutive duplicates merged."""
    from .joining import cat
    from .._creation import arange
    s = rows if order is None else rows[order]
    if n:
        diff = (s[1:] != s[:-1]).reshape(n - 1, -1).any(dim=1) if n > 1 else s.new_zeros((0,), dtype=D.bool)
        starts = cat([diff.new_ones((1,)), diff])
    else:
        starts = rows.new_zeros((0,), dtype=D.bool)
    values = s[starts]
    inverse = counts = None
    if return_inverse:
        gid = starts.long().cumsum(0) - 1
        if order is not None:
            gid = gid[_order(order, 0)]                    # back to the input's order
        inverse = gid.reshape(shape)
    if return_counts:
        first = arange(n, device=rows.device)[starts]
        counts = cat([first[1:], first.new_full((1,), n)]) - first
    return values, inverse, counts


def _unique(input, consecutive, return_inverse, return_counts, dim, opname):
    if dim is None:
        x = input.detach().reshape(-1)
        order = None if consecutive else _order(x, 0)
        v, inv, cnt = _runs(x, order, x.shape[0], return_inverse, return_counts, tuple(input.shape))
        return _outputs(v, inv, cnt, return_inverse, return_counts)
    axis = wrap_dim(dim, input.ndim, opname)
    x = input.detach().movedim(axis, 0)
    n = x.shape[0]
    if n and x.numel() == 0:
        raise RuntimeError(f"{opname}(): number of elements in the reduced dim is 0 for an input of shape "
                           f"{tuple(input.shape)}")
    rows = x.reshape(n, -1)
    order = None
    if not consecutive:
        from .._creation import arange
        order = arange(n, device=input.device)
        for c in reversed(range(rows.shape[1])):          # lexicographic: stable sorts, last column first
            order = order[_order(rows[order, c], 0)]
    v, inv, cnt = _runs(rows, order, n, return_inverse, return_counts, (n,))
    v = v.reshape((v.shape[0],) + tuple(x.shape[1:])).movedim(0, axis)
    return _outputs(v, inv, cnt, return_inverse, return_counts)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements of ``input`` (or slices along ``dim``), always in sorted order.

    ``return_inverse`` adds, for each element, the index of its value in the
    result; ``return_counts`` adds how often each value occurs.

    Example:
        >>> import tapegrad
        >>> tapegrad.unique(tapegrad.tensor([3, 1, 3, 2]), return_counts=True)
        (tensor([1, 2, 3]), tensor([1, 1, 2]))
    """
    return _unique(input, False, return_inverse, return_counts, dim, "unique")


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """``input`` with each run of equal consecutive elements (or slices along ``dim``) kept once.

    Example:
        >>> import tapegrad
        >>> tapegrad.unique_consecutive(tapegrad.tensor([1, 1, 2, 1]), return_inverse=True)
        (tensor([1, 2, 1]), tensor([0, 0, 1, 2]))
    """
    return _unique(input, True, return_inverse, return_counts, dim, "unique_consecutive")


__all__ = ["searchsorted", "bucketize", "bincount", "histc", "unique", "unique_consecutive"]
METHODS = {n: globals()[n] for n in ("bincount", "histc", "unique", "unique_consecutive")}
