"""Joining, splitting and picking, composed of existing ops: ``atleast_1d/2d/3d hstack vstack row_stack dstack
column_stack tensor_split hsplit vsplit dsplit moveaxis ravel select narrow_copy repeat_interleave block_diag
take masked_select``.

Splits and ``select`` are views (``narrow``/``reshape``); the rest are
composed of cat, reshape, index_select, getitem and pad_axis, whose VJPs give
every order of derivative.
"""
from .. import _creation
from .. import _dtype as D
from ._alias import alias
from ._dims import wrap_dim
from .registry import apply
from .shape import movedim, pad_axis_op
from . import joining as J
from . import indexing as X

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "row_stack", "dstack", "column_stack",
           "tensor_split", "hsplit", "vsplit", "dsplit", "moveaxis", "ravel", "select", "narrow_copy",
           "repeat_interleave", "block_diag", "take", "masked_select"]


def same_device(name, input, *others):
    """Raise, naming the op and both devices, when an index/mask/source tensor is not on ``input``'s device."""
    Tensor = X._tensor_cls()
    for o in others:
        if isinstance(o, Tensor) and o.device != input.device:
            raise RuntimeError(f"{name}(): Expected all tensors to be on the same device, but found at least two "
                               f"devices, {input.device} and {o.device}")


def _atleast(tensors, shapes):
    many = len(tensors) != 1 or isinstance(tensors[0], (list, tuple))
    ts = tuple(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tuple(tensors)
    out = tuple(t.reshape(shapes[t.ndim](tuple(t.shape))) if t.ndim in shapes else t for t in ts)
    return out if many else out[0]


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (a 0-d one becomes shape (1,)); one tensor in, one out, else a tuple.

    Example:
        >>> import tapegrad
        >>> tapegrad.atleast_1d(tapegrad.tensor(1.0))
        tensor([1.])
    """
    return _atleast(tensors, {0: lambda s: (1,)})


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims: 0-d to (1, 1), 1-d (n,) to (1, n).

    Example:
        >>> import tapegrad
        >>> tapegrad.atleast_2d(tapegrad.tensor([1, 2])).shape
        tapegrad.Size([1, 2])
    """
    return _atleast(tensors, {0: lambda s: (1, 1), 1: lambda s: (1,) + s})


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims: 0-d to (1, 1, 1), (n,) to (1, n, 1), (m, n) to (m, n, 1).

    Example:
        >>> import tapegrad
        >>> tapegrad.atleast_3d(tapegrad.zeros(2, 3)).shape
        tapegrad.Size([2, 3, 1])
    """
    return _atleast(tensors, {0: lambda s: (1, 1, 1), 1: lambda s: (1,) + s + (1,), 2: lambda s: s + (1,)})


def _seq(name, tensors):
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return tuple(tensors)


def hstack(tensors):
    """Concatenate along dim 1 (dim 0 for 1-d tensors), after ``atleast_1d``.

    Example:
        >>> import tapegrad
        >>> tapegrad.hstack([tapegrad.tensor([1, 2]), tapegrad.tensor([3])])
        tensor([1, 2, 3])
    """
    ts = atleast_1d(_seq("hstack", tensors))
    return J.cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    """Concatenate along dim 0 after ``atleast_2d`` (rows).

    Example:
        >>> import tapegrad
        >>> tapegrad.vstack([tapegrad.tensor([1, 2]), tapegrad.tensor([3, 4])])
        tensor([[1, 2],
                [3, 4]])
    """
    return J.cat(atleast_2d(_seq("vstack", tensors)), 0)


row_stack = alias(vstack, "row_stack", "tapegrad.row_stack([tapegrad.tensor([1]), tapegrad.tensor([2])]).shape",
                  "tapegrad.Size([2, 1])")


def dstack(tensors):
    """Concatenate along dim 2 after ``atleast_3d`` (depth).

    Example:
        >>> import tapegrad
        >>> tapegrad.dstack([tapegrad.zeros(2, 3), tapegrad.ones(2, 3)]).shape
        tapegrad.Size([2, 3, 2])
    """
    return J.cat(atleast_3d(_seq("dstack", tensors)), 2)


def column_stack(tensors):
    """Concatenate along dim 1, 0-d and 1-d tensors first made columns (n, 1).

    Example:
        >>> import tapegrad
        >>> tapegrad.column_stack([tapegrad.tensor([1, 2]), tapegrad.tensor([[3], [4]])])
        tensor([[1, 3],
                [2, 4]])
    """
    ts = _seq("column_stack", tensors)
    return J.cat([t.reshape(t.numel(), 1) if t.ndim <= 1 else t for t in ts], 1)


def _pick_ios(name, ios, kw):
    """PyTorch's overloads name the second argument ``sections``, ``indices`` or ``tensor_indices_or_sections``."""
    given = [v for v in kw.values() if v is not None]
    if len(given) + (ios is not None) != 1:
        raise TypeError(f"{name}(): expected exactly one of indices_or_sections, sections, indices or "
                        "tensor_indices_or_sections")
    return ios if ios is not None else given[0]


def tensor_split(input, indices_or_sections=None, dim=0, *, sections=None, indices=None,
                 tensor_indices_or_sections=None):
    """Views of ``input`` split along ``dim`` into n near-equal sections, or at the listed indices.

    Example:
        >>> import tapegrad
        >>> [t.tolist() for t in tapegrad.tensor_split(tapegrad.arange(7), 3)]
        [[0, 1, 2], [3, 4], [5, 6]]
        >>> [t.tolist() for t in tapegrad.arange(5).tensor_split([1, 4])]
        [[0], [1, 2, 3], [4]]
    """
    ios = _pick_ios("tensor_split", indices_or_sections, {"sections": sections, "indices": indices,
                                                         "tensor_indices_or_sections": tensor_indices_or_sections})
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    Tensor = X._tensor_cls()
    if isinstance(ios, Tensor):
        if ios.dtype not in (D.int64, D.int32, D.int16, D.int8, D.uint8) or ios.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have a integral dtype and be "
                               f"0-D or 1-D, but got {ios.dtype} with {ios.ndim} dims")
        ios = ios.item() if ios.ndim == 0 else ios.tolist()
    d = wrap_dim(dim, input.ndim, "tensor_split")
    n = input.shape[d]
    if isinstance(ios, int):
        if ios <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {ios}")
        q, r = divmod(n, ios)
        sizes = [q + 1] * r + [q] * (ios - r)
        bounds, s = [], 0
        for z in sizes[:-1]:
            s += z
            bounds.append(s)
    else:
        bounds = [int(i) for i in ios]
    out, start = [], 0
    for b in bounds + [n]:          # Python slices input[prev:b]: a later index may come before an earlier one
        b = min(max(b + n if b < 0 else b, 0), n)
        out.append(J.narrow(input, d, start, max(b, start) - start))
        start = b
    return tuple(out)


def _dsplit_like(name, input, ios, dim, min_dims):
    if input.ndim < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension"
                           f"{'s' if min_dims > 1 else ''}, but got a tensor with {input.ndim} dimensions!")
    if isinstance(ios, int) and (ios == 0 or input.shape[dim] % ios):
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension "
                           f"{input.shape[dim]} is not divisible by the split_size {ios}!")
    return tensor_split(input, ios, dim)


def hsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """``tensor_split`` along dim 1 (dim 0 for a 1-d tensor); an int must divide the dim.

    Example:
        >>> import tapegrad
        >>> [t.shape for t in tapegrad.hsplit(tapegrad.zeros(2, 4), 2)]
        [tapegrad.Size([2, 2]), tapegrad.Size([2, 2])]
    """
    indices_or_sections = _pick_ios("hsplit", indices_or_sections, {"sections": sections, "indices": indices})
    return _dsplit_like("hsplit", input, indices_or_sections, 0 if input.ndim == 1 else 1, 1)


def vsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """``tensor_split`` along dim 0 of a tensor of at least 2 dims; an int must divide the dim.

    Example:
        >>> import tapegrad
        >>> [t.shape for t in tapegrad.vsplit(tapegrad.zeros(4, 2), [1])]
        [tapegrad.Size([1, 2]), tapegrad.Size([3, 2])]
    """
    indices_or_sections = _pick_ios("vsplit", indices_or_sections, {"sections": sections, "indices": indices})
    return _dsplit_like("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections=None, *, sections=None, indices=None):
    """``tensor_split`` along dim 2 of a tensor of at least 3 dims; an int must divide the dim.

    Example:
        >>> import tapegrad
        >>> len(tapegrad.dsplit(tapegrad.zeros(1, 1, 4), 2))
        2
    """
    indices_or_sections = _pick_ios("dsplit", indices_or_sections, {"sections": sections, "indices": indices})
    return _dsplit_like("dsplit", input, indices_or_sections, 2, 3)


def moveaxis(input, source, destination):
    """NumPy's name for ``movedim``: move dims ``source`` to positions ``destination``; a view.

    Example:
        >>> import tapegrad
        >>> tapegrad.moveaxis(tapegrad.zeros(2, 3, 4), 0, -1).shape
        tapegrad.Size([3, 4, 2])
    """
    return movedim(input, source, destination)


def ravel(input):
    """The elements as a 1-d tensor (a view when the layout allows, else a copy).

    Example:
        >>> import tapegrad
        >>> tapegrad.ravel(tapegrad.tensor([[1, 2], [3, 4]]))
        tensor([1, 2, 3, 4])
    """
    return input.reshape(-1)


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, without that dim; a view.

    Example:
        >>> import tapegrad
        >>> tapegrad.arange(6).reshape(2, 3).select(1, -1)
        tensor([2, 5])
    """
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input.ndim, "select")
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {d}")
    i = index + n if index < 0 else index
    shape = tuple(input.shape)
    return J.narrow(input, d, i, 1).reshape(shape[:d] + shape[d + 1:])


def narrow_copy(input, dim, start, length):
    """A copy of ``narrow(input, dim, start, length)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.narrow_copy(tapegrad.arange(5), 0, 1, 2)
        tensor([1, 2])
    """
    return J.narrow(input, dim, start, length).clone()


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times along ``dim`` (flattened when None); ``repeats`` an int or tensor.

    ``repeat_interleave(counts)`` alone gives the indices ``0, 0, 1, ...`` repeated by ``counts``.

    Example:
        >>> import tapegrad
        >>> tapegrad.tensor([1, 2]).repeat_interleave(2)
        tensor([1, 1, 2, 2])
        >>> tapegrad.repeat_interleave(tapegrad.tensor([[1, 2], [3, 4]]), tapegrad.tensor([1, 2]), dim=0)
        tensor([[1, 2],
                [3, 4],
                [3, 4]])
    """
    Tensor = X._tensor_cls()
    if repeats is None:
        counts = input
        if counts.ndim > 1 or counts.dtype not in (D.int64, D.int32):
            raise RuntimeError(f"repeat_interleave only accept 1D vector as repeat, got shape "
                               f"{list(counts.shape)} of {counts.dtype}")
        vals = counts.reshape(-1).tolist()
        if any(v < 0 for v in vals):
            raise RuntimeError("repeats can not be negative")
        idx = [i for i, v in enumerate(vals) for _ in range(v)]
        return _creation.tensor(idx, dtype=counts.dtype, device=counts.device)
    if dim is None:
        input = input.reshape(-1)
        dim = 0
    d = wrap_dim(dim, input.ndim, "repeat_interleave")
    n = input.shape[d] if input.ndim else 1
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1 or repeats.dtype not in (D.int64, D.int32):
            raise RuntimeError(f"repeat_interleave only accept 1D vector as repeat, got shape "
                               f"{list(repeats.shape)} of {repeats.dtype}")
        reps = repeats.reshape(-1).tolist()
        if len(reps) == 1:
            reps = reps * n
        elif len(reps) != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{len(reps)} and input.size({d}) = {n}")
    else:
        reps = [int(repeats)] * n
    if any(r < 0 for r in reps):
        raise RuntimeError("repeats can not be negative")
    idx = [i for i, r in enumerate(reps) for _ in range(r)]
    if output_size is not None and output_size != len(idx):
        raise RuntimeError(f"repeat_interleave: output_size {output_size} does not match the {len(idx)} "
                           "repeated elements")
    src = input.reshape(1) if input.ndim == 0 else input
    return X.index_select(src, d, _creation.tensor(idx, dtype=D.int64, device=input.device))


def block_diag(*tensors):
    """The tensors (each at most 2-d; 0-d and 1-d become one row) as blocks on a diagonal; zeros elsewhere.

    Example:
        >>> import tapegrad
        >>> tapegrad.block_diag(tapegrad.tensor([[1, 2]]), tapegrad.tensor(3))
        tensor([[1, 2, 0],
                [0, 0, 3]])
    """
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.ndim} dimensions")
    if not tensors:
        return _creation.zeros(1, 0)
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = D.promote_types(dtype, t.dtype)
    mats = [t.reshape(1, -1) if t.ndim < 2 else t for t in tensors]
    cols = sum(m.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        c = m.shape[1]
        rows.append(apply(pad_axis_op, m.to(dtype), axis=1, before=left, after=cols - left - c))
        left += c
    return J.cat(rows, 0)


def take(input, index):
    """The elements of the flattened ``input`` at ``index`` (negative indices count from the end).

    Example:
        >>> import tapegrad
        >>> tapegrad.take(tapegrad.tensor([[4, 3], [5, 7]]), tapegrad.tensor([0, -1]))
        tensor([4, 7])
    """
    same_device("take", input, index)
    index = X._check_index("take", index)
    n = input.numel()
    if index.numel():
        lo, hi = int(index.min().item()), int(index.max().item())
        if lo < -n or hi >= n:
            bad = lo if lo < -n else hi
            raise IndexError(f"take(): out of range: tried to access index {bad} on a tensor of {n} elements "
                             f"(shape {list(input.shape)})")
    flat = input.reshape(-1)
    idx = index._data
    be = input._backend
    idx = be.where(idx < 0, idx + n, idx)
    return X.getitem(flat, X._tensor_cls()._make(be.astype(idx, D.int64.np), None))


def masked_select(input, mask):
    """The elements of ``input`` where the bool ``mask`` (broadcast with it) is True, as a 1-d tensor.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[1, 2], [3, 4]])
        >>> tapegrad.masked_select(x, x > 2)
        tensor([3, 4])
    """
    if mask.dtype is not D.bool:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {mask.dtype}")
    same_device("masked_select", input, mask)
    x, m = J.broadcast_tensors(input, mask)
    return X.getitem(x, m)


METHODS = {n: globals()[n] for n in ("tensor_split", "hsplit", "vsplit", "dsplit", "moveaxis", "ravel", "select",
                                     "narrow_copy", "repeat_interleave", "take", "masked_select")}
