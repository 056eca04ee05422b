"""``tapegrad.sparse``: products and sums of sparse COO tensors, as ``torch.sparse``.

Sparse tensors themselves are ordinary Tensors whose storage is a ``CooArray`` (Note [sparse COO
storage] in ops/_sparse_array.py); ``tapegrad.sparse_coo_tensor`` and ``Tensor.to_sparse`` make them.

Example:
    >>> import tapegrad
    >>> a = tapegrad.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2))
    >>> tapegrad.sparse.mm(a, tapegrad.ones(2, 1))
    tensor([[2.],
            [3.]])
"""
from ..ops.sparse_coo import spmm, sparse_values_op, sparse_coo_op
from ..ops._sparse_array import CooArray
from ..ops.registry import apply

__all__ = ["mm", "sum"]


def mm(mat1, mat2):
    """The matrix product of a sparse COO matrix ``mat1`` and a dense ``mat2`` (both dense: ``tapegrad.mm``).

    The gradient of ``mat1`` is a sparse tensor at its coalesced indices; that of ``mat2`` is dense.

    Args:
        mat1: a 2-D sparse COO tensor (or a dense matrix).
        mat2: a dense matrix (or vector).

    Returns:
        A dense tensor.

    Example:
        >>> import tapegrad
        >>> s = tapegrad.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2), requires_grad=True)
        >>> tapegrad.sparse.mm(s, tapegrad.ones(2, 1)).sum().backward()
        >>> s.grad.to_dense()
        tensor([[0., 1.],
                [1., 0.]])
    """
    return spmm(mat1, mat2)


def sum(input, dim=None, dtype=None):  # noqa: A001  (torch.sparse.sum)
    """The sum of a sparse COO tensor's entries, over all dims (a dense 0-d tensor) or over ``dim``.

    Summing over every sparse dim gives a dense tensor; otherwise the result is sparse (coalesced).

    Args:
        input: a sparse COO tensor.
        dim: a dim or a tuple of dims (default: all).
        dtype: the result's dtype.

    Returns:
        A dense or sparse tensor.

    Example:
        >>> import tapegrad
        >>> s = tapegrad.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))
        >>> tapegrad.sparse.sum(s), tapegrad.sparse.sum(s, 1).to_dense()
        (tensor(12.), tensor([3., 9.]))
    """
    s = input._data
    if not isinstance(s, CooArray):
        raise RuntimeError("sparse.sum expected sparse coordinate tensor layout but got Strided")
    vals = apply(sparse_values_op, input)
    if dtype is not None:
        vals = vals.to(dtype)
    if dim is None:
        return vals.sum()
    nd = input.ndim
    dims = sorted({d % nd for d in ((dim,) if isinstance(dim, int) else dim)})
    for d in dim if not isinstance(dim, int) else (dim,):
        if not -nd <= d < nd:
            raise IndexError(f"sparse.sum: dimension out of range (expected to be in range of [{-nd}, {nd - 1}], "
                             f"but got {d})")
    sd = s.sparse_dim
    dense_red = tuple(1 + d - sd for d in dims if d >= sd)
    if dense_red:
        vals = vals.sum(dense_red)
    keep = [d for d in range(sd) if d not in dims]
    if not keep:
        return vals.sum(0)
    be = input._backend
    idx = be.getitem(s.indices, (be.asarray([*keep]),)) if len(keep) < sd else s.indices
    shape = tuple(input.shape[d] for d in range(nd) if d not in dims)
    part = apply(sparse_coo_op, vals, indices=idx, shape=shape, coalesced=False)
    return part.coalesce()
