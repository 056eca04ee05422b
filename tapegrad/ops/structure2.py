"""Strided views and diagonals: ``diagonal``, ``Tensor.unfold``, ``as_strided``, ``diag``, ``diag_embed``,
``diagflat``, ``trace``, ``fill_diagonal_``.

# Note [strided views]
``diagonal``, ``Tensor.unfold`` and ``as_strided`` are one primitive,
``strided_view``: new element strides over the input's memory (the backend's
``as_strided``), so the result shares memory and the version counter with its
input, as PyTorch's views do. Its ``geom`` parameter says which view; the
layout is computed from the input's actual strides in the forward (a
diagonal of a transposed tensor is still a view) and from the contiguous
strides of the input's shape in the VJP, where the gradient is scattered
back by flat position (``index_put_add``, repeated positions of overlapping
windows accumulating). ``index_put_add``'s VJP is ``getitem``, so every order
of derivative works.
"""
from .. import _dtype as D
from .registry import op, apply
from .graph_math import backend_array
from ._dims import wrap_dim, shape_arg
from .indexing import index_put_add_op
from . import elementwise as E
from .inplace import _inplace
from . import _jvp

__all__ = ["diagonal", "diag", "diag_embed", "diagflat", "trace", "as_strided"]


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _contig(shape):
    st, s = [], 1
    for n in reversed(shape):
        st.append(s)
        s *= max(n, 1)
    return tuple(reversed(st))


def _diag_len(n1, n2, offset):
    return max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))


def _layout(geom, shape, st):
    """``(shape, strides, offset)`` of the view ``geom`` of an array of ``shape`` with element strides ``st``."""
    kind = geom[0]
    if kind == "diagonal":
        _, off, a, b = geom
        n = _diag_len(shape[a], shape[b], off)
        keep = [d for d in range(len(shape)) if d not in (a, b)]
        start = (off * st[b] if off >= 0 else -off * st[a]) if n else 0
        return tuple(shape[d] for d in keep) + (n,), tuple(st[d] for d in keep) + (st[a] + st[b],), start
    if kind == "window":
        _, d, size, step = geom
        out = list(shape)
        out[d] = (shape[d] - size) // step + 1
        ost = list(st)
        ost[d] = st[d] * step
        return tuple(out) + (size,), tuple(ost) + (st[d],), 0
    _, size, stride, off = geom           # "raw": as_strided on a contiguous input
    return tuple(size), tuple(stride), off


@op("strided_view", promote=None, view=True, tensors=1, math=None)
def strided_view_op(be, x, geom):
    it = x.itemsize
    shape, st, off = _layout(geom, x.shape, tuple(s // it for s in x.strides))
    return be.as_strided(x, shape, st, off)


@strided_view_op.vjp
def _(F, ctx, g, geom):
    shape0 = tuple(ctx.shapes[0])
    n = _prod(shape0)
    be, _a = backend_array(g)
    shape, st, off = _layout(geom, shape0, _contig(shape0))
    flat = be.arange(0, max(n, 1), 1, D.int64.np)
    idx = be.ascontiguousarray(be.as_strided(flat, shape, st, off))
    return F.reshape(F.scatter_add((n,), (idx,), g, g.dtype), shape=shape0)


strided_view_op.jvp(_jvp.linear(strided_view_op))


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of ``input`` over dims ``dim1``, ``dim2`` (appended as the last dim); a view.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.arange(9.0).reshape(3, 3)
        >>> tapegrad.diagonal(x)
        tensor([0., 4., 8.])
        >>> x.diagonal(offset=1)
        tensor([1., 5.])
    """
    nd = input.ndim
    a, b = wrap_dim(dim1, nd, "diagonal"), wrap_dim(dim2, nd, "diagonal")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(strided_view_op, input, geom=("diagonal", int(offset), a, b))


def _diag_index(be, out_shape, offset, a, b):
    n = _prod(out_shape)
    flat = be.arange(0, max(n, 1), 1, D.int64.np)
    shape, st, off = _layout(("diagonal", offset, a, b), out_shape, _contig(out_shape))
    return be.ascontiguousarray(be.as_strided(flat, shape, st, off))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose diagonals (over ``dim1``, ``dim2``) are ``input``'s last dim; zeros elsewhere.

    Example:
        >>> import tapegrad
        >>> tapegrad.diag_embed(tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor([[[1., 0.],
                 [0., 2.]],
        <BLANKLINE>
                [[3., 0.],
                 [0., 4.]]])
    """
    nd = input.ndim + 1
    a, b = wrap_dim(dim1, nd, "diag_embed"), wrap_dim(dim2, nd, "diag_embed")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    offset = int(offset)
    shape = list(input.shape)
    n = (shape.pop() if shape else 1) + abs(offset)
    out = []
    for d in range(nd):
        out.append(n if d in (a, b) else shape.pop(0))
    out = tuple(out)
    src = input.reshape(1) if input.ndim == 0 else input
    key = (_diag_index(input._backend, out, offset, a, b),)
    return apply(index_put_add_op, src, shape=(_prod(out),), key=key).reshape(out)


def diagflat(input, offset=0):
    """A 2-D tensor with the flattened ``input`` on its ``offset`` diagonal.

    Example:
        >>> import tapegrad
        >>> tapegrad.diagflat(tapegrad.tensor([[1, 2]]), offset=-1)
        tensor([[0, 0, 0],
                [1, 0, 0],
                [0, 2, 0]])
    """
    return diag_embed(input.reshape(-1), offset, 0, 1)


def diag(input, diagonal=0):
    """A 1-D input as the ``diagonal`` of a square matrix, or a copy of a 2-D input's ``diagonal``.

    Example:
        >>> import tapegrad
        >>> tapegrad.diag(tapegrad.tensor([1.0, 2.0]))
        tensor([[1., 0.],
                [0., 2.]])
        >>> tapegrad.diag(tapegrad.arange(4).reshape(2, 2))
        tensor([0, 3])
    """
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return apply(strided_view_op, input, geom=("diagonal", int(diagonal), 0, 1)).clone()
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D (shape {tuple(input.shape)})")


def trace(input):
    """The sum of a matrix's main diagonal (integer inputs sum to int64).

    Example:
        >>> import tapegrad
        >>> tapegrad.trace(tapegrad.arange(9.0).reshape(3, 3))
        tensor(12.)
    """
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim} "
                           f"(shape {tuple(input.shape)})")
    return diagonal(input).sum()


def as_strided(input, size, stride, storage_offset=None):
    """A view of a contiguous ``input``'s elements with the given sizes, element strides and start offset.

    Offsets count from ``input``'s first element; a non-contiguous input raises.

    Example:
        >>> import tapegrad
        >>> tapegrad.as_strided(tapegrad.arange(6), (2, 2), (1, 2), 1)
        tensor([[1, 3],
                [2, 4]])
    """
    size = tuple(int(s) for s in shape_arg((size,), "as_strided"))
    stride = tuple(int(s) for s in shape_arg((stride,), "as_strided"))
    off = 0 if storage_offset is None else int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: size {list(size)}, stride {list(stride)}")
    if any(s < 0 for s in size) or any(s < 0 for s in stride) or off < 0:
        raise RuntimeError(f"as_strided: negative sizes {list(size)}, strides {list(stride)} or storage offset "
                           f"{off} are not supported")
    if not input.is_contiguous():
        raise NotImplementedError(f"as_strided: only a contiguous input is supported here (got shape "
                                  f"{tuple(input.shape)} with strides {input.stride()}); call .contiguous() first")
    need = 0 if 0 in size else off + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if need > input.numel():
        raise RuntimeError(f"as_strided: sizes {list(size)}, strides {list(stride)} and storage offset {off} "
                           f"need {need} elements, out of bounds for an input of {input.numel()} elements")
    return apply(strided_view_op, input, geom=("raw", size, stride, off))


def unfold(self, dimension, size, step):
    """The windows of ``size`` elements, ``step`` apart, along ``dimension`` (a new last dim); a view.

    Example:
        >>> import tapegrad
        >>> tapegrad.arange(5.0).unfold(0, 2, 2)
        tensor([[0., 1.],
                [2., 3.]])
    """
    nd = self.ndim
    d = wrap_dim(dimension, max(nd, 1), "unfold")
    n = self.shape[d] if nd else 1
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0 or size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if nd == 0:
        return self.reshape(1)
    return apply(strided_view_op, self, geom=("window", d, int(size), int(step)))


def fill_diagonal_(self, fill_value, wrap=False):
    """In-place: set the main diagonal (all dims of equal length beyond 2-D) to ``fill_value``; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 3).fill_diagonal_(5.0)
        tensor([[5., 0., 0.],
                [0., 5., 0.]])
    """
    shape = tuple(self.shape)
    if len(shape) < 2:
        raise RuntimeError(f"dimensions must larger than 1 (got shape {shape})")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError(f"all dimensions of input must be of equal length (got shape {shape})")
    be = self._backend
    n = _prod(shape)
    flat = be.arange(0, max(n, 1), 1, D.int64.np)
    if len(shape) == 2:
        rows, cols = shape
        length = min(rows, cols)
        if wrap and rows > cols:
            length = (n - 1) // (cols + 1) + 1 if n else 0
        idx = be.as_strided(flat, (length,), (cols + 1,), 0)
    else:
        idx = be.as_strided(flat, (shape[0],), (sum(_contig(shape)),), 0)
    mask = be.zeros((max(n, 1),), D.bool.np)
    be.setitem(mask, (be.ascontiguousarray(idx),), True)
    mask = self.__class__._make(be.reshape(be.narrow(mask, 0, 0, n), shape), None)
    return _inplace("fill_diagonal_", self, lambda s: E.where(mask, fill_value, s), False, (fill_value,),
                    cast_check=False)


METHODS = {"diagonal": diagonal, "diag": diag, "diag_embed": diag_embed, "diagflat": diagflat, "trace": trace,
           "as_strided": as_strided, "unfold": unfold, "fill_diagonal_": fill_diagonal_}
