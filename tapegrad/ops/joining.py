"""Ops that broadcast, copy, join or split tensors: expand, repeat/tile, flip, clone, cat/stack, narrow/split/chunk.

Most of them are in PyTorch's "joining, slicing" group. They declare no op of
their own: each is composed of the primitives declared in ops/shape.py, which
this module imports (shape.py never imports it back).
"""
from .registry import apply
from . import registry as _reg
from ._dims import wrap_dim, norm_dims, shape_arg, varargs_or_keyword
from ._alias import alias
from .shape import (reshape_op, broadcast_to_op, narrow_op, cat_op, tile_op, flip_op, copy_op,
                    contiguous_op)
from .split_node import split_views as _split_views


def _expand_shape(in_shape, sizes, opname):
    lead = len(sizes) - len(in_shape)
    if lead < 0:
        raise RuntimeError(f"{opname}: the number of sizes provided ({len(sizes)}) must be greater or equal "
                           f"to the number of dimensions in the tensor ({len(in_shape)}); sizes "
                           f"{list(sizes)}, tensor shape {tuple(in_shape)}")
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"{opname}: the size -1 is not allowed in a leading, non-existing "
                                   f"dimension {i}; sizes {list(sizes)}, tensor shape {tuple(in_shape)}")
            out.append(s)
            continue
        old = in_shape[i - lead]
        if s == -1:
            s = old
        elif s != old and old != 1:
            raise RuntimeError(f"{opname}: the expanded size of the tensor ({s}) must match the existing size "
                               f"({old}) at non-singleton dimension {i}. Target sizes: {list(sizes)}. "
                               f"Tensor sizes: {list(in_shape)}")
        out.append(s)
    return tuple(out)


def expand(input, *sizes, size=None):
    """A broadcast view with ``sizes`` (-1 keeps a dim; new dims go in front); no copy.

    Example:
        >>> import tapegrad
        >>> tapegrad.tensor([[1.0], [2.0]]).expand(2, 3)
        tensor([[1., 1., 1.],
                [2., 2., 2.]])
    """
    if size is not None:
        sizes = varargs_or_keyword(sizes, size, "size", "expand")
    shape = _expand_shape(tuple(input.shape), shape_arg(sizes, "expand"), "expand")
    return apply(broadcast_to_op, input, shape=shape)


def expand_as(input, other):
    """``input.expand(other.shape)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(3).expand_as(tapegrad.zeros(2, 3)).shape
        tapegrad.Size([2, 3])
    """
    return expand(input, tuple(other.shape))


def broadcast_to(input, size):
    """Broadcast ``input`` to ``shape`` (a view; -1 keeps a dim).

    Example:
        >>> import tapegrad
        >>> tapegrad.broadcast_to(tapegrad.tensor([1.0, 2.0]), (2, 2))
        tensor([[1., 2.],
                [1., 2.]])
    """
    return apply(broadcast_to_op, input,
                 shape=_expand_shape(tuple(input.shape), shape_arg((size,), "broadcast_to"), "broadcast_to"))


def broadcast_shapes(*shapes):
    """The shape that all ``shapes`` broadcast to.

    Example:
        >>> import tapegrad
        >>> tapegrad.broadcast_shapes((2, 1), (3,))
        tapegrad.Size([2, 3])
    """
    from .._tensor import Size
    nd = 0
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    for s in shapes:
        nd = nd if nd > len(s) else len(s)
    out = [1] * nd
    for s in shapes:
        for i, d in enumerate(s, nd - len(s)):
            if d != 1 and out[i] != 1 and d != out[i]:
                raise RuntimeError(f"broadcast_shapes: shapes {', '.join(str(x) for x in shapes)} cannot be "
                                   f"broadcast together (mismatch at dim {i}: {out[i]} vs {d})")
            if d != 1:
                out[i] = d
    return Size(out)


def broadcast_tensors(*tensors):
    """Broadcast all tensors to one shape (views), returned as a tuple.

    Example:
        >>> import tapegrad
        >>> a, b = tapegrad.broadcast_tensors(tapegrad.zeros(2, 1), tapegrad.zeros(3))
        >>> a.shape, b.shape
        (tapegrad.Size([2, 3]), tapegrad.Size([2, 3]))
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = tuple(broadcast_shapes(*(tuple(t.shape) for t in tensors)))
    return tuple(t if tuple(t.shape) == shape else apply(broadcast_to_op, t, shape=shape) for t in tensors)


def repeat(input, *sizes):
    """Tile the tensor ``sizes[i]`` times along dim i (NumPy's ``tile``); a copy.

    Example:
        >>> import tapegrad
        >>> tapegrad.tensor([1.0, 2.0]).repeat(2, 2)
        tensor([[1., 2., 1., 2.],
                [1., 2., 1., 2.]])
    """
    reps = shape_arg(sizes, "repeat")
    shape = tuple(input.shape)
    if len(reps) < len(shape):
        raise RuntimeError(f"repeat: the number of repeat dims ({len(reps)}) can not be smaller than the "
                           f"number of dims of the tensor ({len(shape)}); tensor shape {shape}")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"repeat: repeats can not be negative, got {list(reps)}")
    full = (1,) * (len(reps) - len(shape)) + shape
    if full != shape:
        input = apply(reshape_op, input, shape=full)
    return apply(tile_op, input, reps=reps)


def tile(input, dims):
    """Like ``repeat``, but ``dims`` shorter than the tensor's ndim is padded with ones in front.

    Example:
        >>> import tapegrad
        >>> tapegrad.tile(tapegrad.tensor([[1.0, 2.0]]), (2,))
        tensor([[1., 2., 1., 2.]])
    """
    reps = shape_arg((dims,), "tile")
    return repeat(input, (1,) * (input.ndim - len(reps)) + reps)


def flip(input, *args, dims=None):
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch).

    Example:
        >>> import tapegrad
        >>> tapegrad.flip(tapegrad.tensor([[1, 2], [3, 4]]), [1])
        tensor([[2, 1],
                [4, 3]])
    """
    dims = varargs_or_keyword(args, dims, "dims", "flip")
    dims = shape_arg(dims, "flip") if dims else ()
    axis = norm_dims(dims, input.ndim, "flip") if dims else ()
    return apply(flip_op, input, axis=axis)


def contiguous(input):
    """The tensor itself when its data are C-contiguous, else a contiguous copy.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.zeros(2, 3)
        >>> x.contiguous() is x
        True
    """
    out = apply(contiguous_op, input)
    return input if out._data is input._data else out


def clone(input):
    """A copy with its own storage; the gradient flows back to ``input``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2, requires_grad=True)
        >>> y = x.clone(); y.sum().backward(); x.grad
        tensor([1., 1.])
    """
    return apply(copy_op, input)


def _devices(tensors):
    return sorted({str(t.device) for t in tensors})


def cat(tensors, dim=0):
    """Join tensors along an existing dim; the other dims must match.

    Example:
        >>> import tapegrad
        >>> tapegrad.cat([tapegrad.zeros(2, 3), tapegrad.ones(1, 3)]).shape
        tapegrad.Size([3, 3])
    """
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, _reg.Tensor):
            raise TypeError(f"cat: expected a sequence of Tensors, but element {i} is {type(t).__name__}")
    if len(_devices(tensors)) > 1:
        raise RuntimeError(f"cat: expected all tensors on the same device, found {', '.join(_devices(tensors))}")
    # PyTorch's legacy rule: 1-D empty tensors are skipped whatever the others' shapes.
    kept = [(i, t) for i, t in enumerate(tensors) if tuple(t.shape) != (0,)] or [(0, tensors[0])]
    ref = tuple(kept[0][1].shape)
    if not ref:
        raise RuntimeError("cat: zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, len(ref), "cat")
    for i, t in kept:
        s = tuple(t.shape)
        if len(s) != len(ref):
            raise RuntimeError(f"cat: tensors must have the same number of dimensions: got {len(ref)} and "
                               f"{len(s)} (shapes {ref} and {s})")
        if s[:d] + s[d + 1:] != ref[:d] + ref[d + 1:]:
            raise RuntimeError(f"cat: sizes of tensors must match except in dimension {d}; got shapes {ref} "
                               f"and {s} (tensor number {i} in the list)")
    kept = [t for _, t in kept]
    if len(kept) == 1:
        return apply(copy_op, kept[0])
    return apply(cat_op, *kept, axis=d, sizes=tuple(t.shape[d] for t in kept))


concat = alias(cat, "concat", "tapegrad.concat([tapegrad.ones(1), tapegrad.zeros(1)])", "tensor([1., 0.])")
concatenate = alias(cat, "concatenate", "tapegrad.concatenate([tapegrad.ones(1), tapegrad.zeros(1)])",
                    "tensor([1., 0.])")


def stack(tensors, dim=0):
    """Join tensors of one shape along a new dim ``dim``.

    Example:
        >>> import tapegrad
        >>> tapegrad.stack([tapegrad.zeros(2), tapegrad.ones(2)], dim=1)
        tensor([[0., 1.],
                [0., 1.]])
    """
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of Tensors")
    ref = tuple(tensors[0].shape)
    for i, t in enumerate(tensors):
        if not isinstance(t, _reg.Tensor):
            raise TypeError(f"stack: expected a sequence of Tensors, but element {i} is {type(t).__name__}")
        if tuple(t.shape) != ref:
            raise RuntimeError(f"stack: expects each tensor to be equal size, but got {ref} at entry 0 and "
                               f"{tuple(t.shape)} at entry {i}")
    d = wrap_dim(dim, len(ref) + 1, "stack")
    shape = ref[:d] + (1,) + ref[d:]
    parts = [apply(reshape_op, t, shape=shape) for t in tensors]
    if len(parts) == 1:
        return apply(copy_op, parts[0])
    return apply(cat_op, *parts, axis=d, sizes=(1,) * len(parts))


def narrow(input, dim, start, length):
    """The view of ``length`` elements from ``start`` along ``dim``.

    Example:
        >>> import tapegrad
        >>> tapegrad.narrow(tapegrad.arange(5), 0, 1, 3)
        tensor([1, 2, 3])
    """
    d = wrap_dim(dim, input.ndim, "narrow")
    n = input.shape[d]
    if start < 0:
        start += n
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}) of dim {d} "
                         f"for shape {tuple(input.shape)}")
    return apply(narrow_op, input, axis=d, start=start, length=length)


def _split_sizes(n, split_size_or_sections, opname):
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0 and not (s == 0 and n == 0):
            raise RuntimeError(f"{opname}: split_size must be a positive integer, got {s}")
        if n == 0:
            return [0]
        return [s if i + s <= n else n - i for i in range(0, n, s)]
    sizes = [int(s) for s in split_size_or_sections]
    if any(s < 0 for s in sizes) or builtin_sum(sizes) != n:
        raise RuntimeError(f"{opname}: split_with_sizes expects split_sizes to sum exactly to {n} (the size "
                           f"of the dim) and be non-negative, but got split_sizes={sizes}")
    return sizes


def builtin_sum(xs):
    total = 0
    for x in xs:
        total += x
    return total


def split(tensor, split_size_or_sections, dim=0):
    """Split into chunks of ``split_size`` (the last may be smaller) or of the listed sizes; views.

    Example:
        >>> import tapegrad
        >>> [t.tolist() for t in tapegrad.arange(5).split(2)]
        [[0, 1], [2, 3], [4]]
        >>> [t.tolist() for t in tapegrad.arange(5).split([1, 4])]
        [[0], [1, 2, 3, 4]]
    """
    d = wrap_dim(dim, tensor.ndim, "split")
    sizes = _split_sizes(tensor.shape[d], split_size_or_sections, "split")
    return _split_views(tensor, d, sizes, False,
                        "Split" if isinstance(split_size_or_sections, int) else "SplitWithSizes")


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` near-equal views (possibly fewer), as ``torch.chunk``.

    Example:
        >>> import tapegrad
        >>> [t.tolist() for t in tapegrad.arange(6).chunk(4)]
        [[0, 1], [2, 3], [4, 5]]
    """
    if not isinstance(chunks, int) or chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be a positive integer, got {chunks!r}")
    d = wrap_dim(dim, input.ndim, "chunk")
    n = input.shape[d]
    if not n:                       # as PyTorch: ``chunks`` empty pieces, from a split with sizes
        return _split_views(input, d, [0] * chunks, False, "SplitWithSizes")
    return split(input, -(-n // chunks), d)


def unbind(input, dim=0):
    """The slices along ``dim``, each without that dim, as a tuple of views.

    Example:
        >>> import tapegrad
        >>> [t.tolist() for t in tapegrad.tensor([[1, 2], [3, 4]]).unbind(1)]
        [[1, 3], [2, 4]]
    """
    d = wrap_dim(dim, input.ndim, "unbind")
    return _split_views(input, d, [1] * input.shape[d], True, "Unbind")


_METHOD_ONLY = ("expand", "expand_as", "repeat", "contiguous")
__all__ = ["broadcast_to", "broadcast_shapes", "broadcast_tensors", "tile", "flip", "clone", "cat", "concatenate",
           "concat", "stack", "narrow", "split", "chunk", "unbind"]
_NOT_METHODS = ("broadcast_shapes", "broadcast_tensors", "cat", "concatenate", "concat", "stack")
METHODS = {n: globals()[n] for n in __all__ + list(_METHOD_ONLY) if n not in _NOT_METHODS}


def _split_method(self, split_size, dim=0):
    """Split into chunks of ``split_size`` (an int or a list of sizes); views. As ``tapegrad.split``,
    but with ``Tensor.split``'s keyword name (``torch.split`` calls it ``split_size_or_sections``).

    Example:
        >>> import tapegrad
        >>> [t.tolist() for t in tapegrad.arange(5).split(split_size=[1, 4])]
        [[0], [1, 2, 3, 4]]
    """
    return split(self, split_size, dim)


_split_method.__name__ = _split_method.__qualname__ = "split"
METHODS["split"] = _split_method
