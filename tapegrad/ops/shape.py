"""Shape ops that rearrange dims: reshape/view, flatten/unflatten, squeeze/unsqueeze, transpose/permute/movedim.

Views share storage and the version counter with their input (``view=True``).
A handful of primitives (reshape, transpose, broadcast_to, narrow, pad_axis,
cat, tile, flip, copy) carry VJPs; every public function is one of them or
composed of them. The public functions that broadcast, copy, join or split
(expand, repeat, flip, clone, cat, stack, narrow, split, chunk ...) live in
ops/joining.py, which imports these primitives (never the other way).
Non-tensor arguments are passed to ops as keywords so that ``apply`` never
mistakes a shape for data.
"""
from .registry import op, apply
from ._alias import alias
from ._dims import wrap_dim, norm_dims, shape_arg, infer_shape, varargs_or_keyword
from . import _jvp


@op("reshape", promote=None, view=True, tensors=1)
def reshape_op(be, x, shape):
    return be.reshape(x, shape)


@reshape_op.vjp
def _(F, ctx, g, shape):
    return F.reshape(g, shape=ctx.shapes[0])


reshape_op.jvp(_jvp.linear(reshape_op))


@op("broadcast_to", promote=None, view=True, tensors=1)
def broadcast_to_op(be, x, shape):
    return be.broadcast_to(x, shape)


@broadcast_to_op.vjp
def _(F, ctx, g, shape):
    return g                    # Note [sum_to]: the engine sums back to the input's shape


broadcast_to_op.jvp(_jvp.linear(broadcast_to_op))


@op("transpose", promote=None, view=True, tensors=1)
def transpose_op(be, x, axes):
    return be.transpose(x, axes)


@transpose_op.vjp
def _(F, ctx, g, axes):
    inv = [0] * len(axes)
    for i, a in enumerate(axes):
        inv[a] = i
    return F.transpose(g, axes=tuple(inv))


transpose_op.jvp(_jvp.linear(transpose_op))


@op("narrow", promote=None, view=True, tensors=1)
def narrow_op(be, x, axis, start, length):
    return be.narrow(x, axis, start, length)


@narrow_op.vjp
def _(F, ctx, g, axis, start, length):
    return F.pad_axis(g, axis=axis, before=start, after=ctx.shapes[0][axis] - start - length)


narrow_op.jvp(_jvp.linear(narrow_op))


@op("pad_axis", promote=None, tensors=1)
def pad_axis_op(be, x, axis, before, after):
    return be.pad_axis(x, axis, before, after)


@pad_axis_op.vjp
def _(F, ctx, g, axis, before, after):
    return F.narrow(g, axis=axis, start=before, length=ctx.shapes[0][axis])


pad_axis_op.jvp(_jvp.linear(pad_axis_op))


@op("cat", tensors="*")
def cat_op(be, *xs, axis=0, sizes=()):
    return be.concatenate(xs, axis=axis)


@cat_op.vjp
def _(F, ctx, g, axis=0, sizes=()):
    # ``sizes`` (every input's extent along ``axis``) locates each input's slice
    # even when some inputs need no gradient.
    grads = []
    start = 0
    for n, need in zip(sizes, ctx.needs):
        grads.append(None if not need else F.narrow(g, axis=axis, start=start, length=n))
        start += n
    return tuple(grads)


cat_op.jvp(_jvp.linear(cat_op))


@op("tile", promote=None, tensors=1)
def tile_op(be, x, reps):
    return be.tile(x, reps)


@tile_op.vjp
def _(F, ctx, g, reps):
    # The output interleaves (repeat, size) pairs; sum the repeat axes away.
    pairs = ()
    for r, s in zip(reps, ctx.shapes[0]):
        pairs += (r, s)
    return F.sum(F.reshape(g, shape=pairs), axis=tuple(range(0, len(pairs), 2)), keepdims=False)


tile_op.jvp(_jvp.linear(tile_op))


@op("flip", promote=None, tensors=1)
def flip_op(be, x, axis):
    return be.copy(be.flip(x, axis))       # PyTorch's flip copies; NumPy's would be a view


@flip_op.vjp
def _(F, ctx, g, axis):
    return F.flip(g, axis=axis)


flip_op.jvp(_jvp.linear(flip_op))


@op("copy", promote=None, tensors=1)
def copy_op(be, x):
    return be.copy(x)


@copy_op.vjp
def _(F, ctx, g):
    return g


copy_op.jvp(_jvp.linear(copy_op))


@op("ascontiguousarray", promote=None, tensors=1)
def contiguous_op(be, x):
    return be.ascontiguousarray(x)


@contiguous_op.vjp
def _(F, ctx, g):
    return g


contiguous_op.jvp(_jvp.linear(contiguous_op))


# ----------------------------------------------------------------- reshape family

def reshape(input, *args, shape=None):
    """The same elements in a new shape (one dim may be -1); a view when the data allow.

    Example:
        >>> import tapegrad
        >>> tapegrad.arange(6).reshape(2, -1)
        tensor([[0, 1, 2],
                [3, 4, 5]])
    """
    if shape is not None:
        args = varargs_or_keyword(args, shape, "shape", "reshape")
    shape = infer_shape(shape_arg(args, "reshape"), input.numel(), "reshape", input.shape)
    return apply(reshape_op, input, shape=shape)


def view(input, *args, size=None):
    """A view with a new shape (one dim may be -1); shares storage and the version counter.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 3).view(-1).shape
        tapegrad.Size([6])
    """
    if size is not None:
        args = varargs_or_keyword(args, size, "size", "view")
    shape = infer_shape(shape_arg(args, "view"), input.numel(), "view", input.shape)
    return apply(reshape_op, input, shape=shape)


def view_as(input, other):
    """``input.view(other.shape)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(6).view_as(tapegrad.zeros(2, 3)).shape
        tapegrad.Size([2, 3])
    """
    return view(input, tuple(other.shape))


def reshape_as(input, other):
    """``input.reshape(other.shape)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(6).reshape_as(tapegrad.zeros(3, 2)).shape
        tapegrad.Size([3, 2])
    """
    return reshape(input, tuple(other.shape))


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim`` to ``end_dim`` into one (a 0-d tensor becomes 1-d).

    Example:
        >>> import tapegrad
        >>> tapegrad.flatten(tapegrad.zeros(2, 3, 4), 1).shape
        tapegrad.Size([2, 12])
    """
    shape = tuple(input.shape)
    if not shape:
        return apply(reshape_op, input, shape=(1,))
    s, e = wrap_dim(start_dim, len(shape), "flatten"), wrap_dim(end_dim, len(shape), "flatten")
    if s > e:
        raise RuntimeError(f"flatten: start_dim ({start_dim}) cannot come after end_dim ({end_dim}) "
                           f"for a tensor of shape {shape}")
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return apply(reshape_op, input, shape=shape[:s] + (n,) + shape[e + 1:])


def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one may be -1).

    Example:
        >>> import tapegrad
        >>> tapegrad.unflatten(tapegrad.zeros(2, 6), 1, (3, 2)).shape
        tapegrad.Size([2, 3, 2])
    """
    shape = tuple(input.shape)
    d = wrap_dim(dim, len(shape), "unflatten")
    sizes = infer_shape(shape_arg((sizes,), "unflatten"), shape[d], "unflatten", shape)
    return apply(reshape_op, input, shape=shape[:d] + sizes + shape[d + 1:])


def squeeze(input, dim=None):
    """Drop size-1 dims: all of them, or those among ``dim`` (an int or a tuple).

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 1, 3, 1).squeeze().shape
        tapegrad.Size([2, 3])
        >>> tapegrad.zeros(2, 1, 3, 1).squeeze(1).shape
        tapegrad.Size([2, 3, 1])
    """
    shape = tuple(input.shape)
    dims = () if dim == () else norm_dims(dim, len(shape), "squeeze")
    return apply(reshape_op, input, shape=tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1)))


def unsqueeze(input, dim):
    """Insert a size-1 dim at ``dim`` (in ``[-ndim-1, ndim]``).

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 3).unsqueeze(-1).shape
        tapegrad.Size([2, 3, 1])
    """
    shape = tuple(input.shape)
    d = wrap_dim(dim, len(shape) + 1, "unsqueeze")
    return apply(reshape_op, input, shape=shape[:d] + (1,) + shape[d:])


# ----------------------------------------------------------------- permutations

def permute(input, *args, dims=None):
    """Reorder the dims: ``x.permute(2, 0, 1)`` or ``tapegrad.permute(x, (2, 0, 1))``; a view.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 3, 4).permute(2, 0, 1).shape
        tapegrad.Size([4, 2, 3])
    """
    dims = shape_arg(varargs_or_keyword(args, dims, "dims", "permute"), "permute")
    nd = input.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute: the number of dims ({len(dims)}) does not match the tensor's "
                           f"ndim ({nd}); got dims {dims} for shape {tuple(input.shape)}")
    axes = tuple(wrap_dim(d, nd, "permute") for d in dims)
    if len(set(axes)) != nd:
        raise RuntimeError(f"permute: repeated dim in {dims}")
    return apply(transpose_op, input, axes=axes)


def transpose(input, dim0, dim1):
    """Swap dims ``dim0`` and ``dim1``; a view.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 3, 4).transpose(0, -1).shape
        tapegrad.Size([4, 3, 2])
    """
    nd = input.ndim
    a, b = wrap_dim(dim0, nd, "transpose"), wrap_dim(dim1, nd, "transpose")
    axes = list(range(nd))
    if nd:
        axes[a], axes[b] = axes[b], axes[a]
    return apply(transpose_op, input, axes=tuple(axes))


def swapaxes(input, axis0, axis1):
    """NumPy's name for ``transpose``: swap dims ``axis0`` and ``axis1``; a view.

    Example:
        >>> import tapegrad
        >>> tapegrad.swapaxes(tapegrad.zeros(2, 3), 0, 1).shape
        tapegrad.Size([3, 2])
    """
    return transpose(input, axis0, axis1)


swapdims = alias(transpose, "swapdims", "tapegrad.zeros(2, 3).swapdims(0, 1).shape", "tapegrad.Size([3, 2])")


def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination`` (ints or tuples); a view.

    Example:
        >>> import tapegrad
        >>> tapegrad.movedim(tapegrad.zeros(2, 3, 4), 0, -1).shape
        tapegrad.Size([3, 4, 2])
    """
    nd = input.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {src} and destination {dst} must have the same length")
    src = tuple(wrap_dim(d, nd, "movedim") for d in src)
    dst = tuple(wrap_dim(d, nd, "movedim") for d in dst)
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in source {src} or destination {dst}")
    rest = iter(d for d in range(nd) if d not in src)
    where = dict(zip(dst, src))
    return apply(transpose_op, input, axes=tuple(where[i] if i in where else next(rest) for i in range(nd)))


def _T(input):
    """All dims reversed (``x.T``); for a matrix, its transpose."""
    return apply(transpose_op, input, axes=tuple(range(input.ndim))[::-1])


def _mT(input):
    """The last two dims swapped (``x.mT``): a batch of transposed matrices."""
    if input.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices, "
                           f"got a {input.ndim}-D tensor")
    return transpose(input, -2, -1)


def t(input):
    """Transpose a tensor of at most 2 dims.

    Example:
        >>> import tapegrad
        >>> tapegrad.t(tapegrad.zeros(2, 3)).shape
        tapegrad.Size([3, 2])
    """
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return _T(input)


_METHOD_ONLY = ("view", "view_as", "reshape_as")
__all__ = ["reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "permute", "transpose", "swapaxes",
           "swapdims", "movedim", "t"]
METHODS = {n: globals()[n] for n in __all__ + list(_METHOD_ONLY)}
PROPERTIES = {"T": _T, "mT": _mT}
