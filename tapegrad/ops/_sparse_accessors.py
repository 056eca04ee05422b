"""A sparse tensor's layout and accessors: ``layout`` (``strided``, ``sparse_coo``), ``is_sparse``,
``indices``/``values`` (and the uncoalesced ``_indices``/``_values``), ``sparse_dim``, ``dense_dim``, ``_nnz``,
``is_coalesced``, and the ``sparse_values`` primitive behind ``values()`` (Note [sparse primitives] in
ops/sparse_coo.py); bound as Tensor methods and properties by ops/sparse_coo.py (Note [sparse COO storage] in
ops/_sparse_array.py)."""
import numpy as np

from .._tensor import Tensor
from ._sparse_array import CooArray
from .registry import apply, op

__all__ = []


def _no_graph(name, g):
    if isinstance(g, Tensor):
        raise NotImplementedError(f"{name}: create_graph=True (double backward) through sparse ops is not supported")


@op("sparse_values", save="s", promote=None, math=None)
def sparse_values_op(be, s):
    return s.values


@sparse_values_op.vjp
def _(F, ctx, g, s):
    _no_graph("sparse_values", g)
    if s.coalesced:
        return s.like(g)
    uniq, inv = s.coalesce_map()
    n = int(uniq.shape[1])
    if n == s.nnz:
        return s.like(g)
    # A sparse gradient means dL/d(dense) at its entries (Note [sparse primitives]): duplicates of one
    # index share one entry, the mean of theirs (exact for sums and coalescing, which treat them alike).
    counts = np.bincount(np.asarray(F.to_numpy(inv)), minlength=n).astype(g.dtype)
    summed = F.scatter_add((n,) + tuple(g.shape[1:]), (inv,), g, g.dtype)
    mean = summed / F.reshape(F.asarray(counts), (n,) + (1,) * (g.ndim - 1))
    return s.like(mean, uniq, coalesced=True)


class layout:
    """A tensor's memory layout: ``tapegrad.strided`` (dense) or ``tapegrad.sparse_coo``.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2).layout, tapegrad.ones(2).to_sparse().layout
        (tapegrad.strided, tapegrad.sparse_coo)
    """
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"tapegrad.{self.name}"


strided = layout("strided")
sparse_coo = layout("sparse_coo")


def check_sparse(t, name):
    if not isinstance(t._data, CooArray):
        raise RuntimeError(f"{name} expected sparse coordinate tensor layout but got Strided")
    return t._data


def is_coalesced(self):
    """Whether the indices are known to be sorted and distinct.

    Example:
        >>> import tapegrad
        >>> tapegrad.sparse_coo_tensor([[1, 1]], [1.0, 2.0]).is_coalesced()
        False
    """
    return check_sparse(self, "is_coalesced").coalesced


def _indices(self):
    """The ``(sparse_dim, nnz)`` indices as stored (coalesced or not).

    Example:
        >>> import tapegrad
        >>> tapegrad.sparse_coo_tensor([[1, 0]], [1.0, 2.0])._indices()
        tensor([[1, 0]])
    """
    return Tensor._make(check_sparse(self, "_indices").indices, None)


def _values(self):
    """The ``(nnz, *dense_sizes)`` values as stored (coalesced or not); differentiable.

    Example:
        >>> import tapegrad
        >>> tapegrad.sparse_coo_tensor([[1, 0]], [1.0, 2.0])._values()
        tensor([1., 2.])
    """
    check_sparse(self, "_values")
    return apply(sparse_values_op, self)


def indices(self):
    """The indices of a coalesced sparse tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.sparse_coo_tensor([[1, 0]], [1.0, 2.0]).coalesce().indices()
        tensor([[0, 1]])
    """
    if not check_sparse(self, "indices").coalesced:
        raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
    return _indices(self)


def values(self):
    """The values of a coalesced sparse tensor; differentiable.

    Example:
        >>> import tapegrad
        >>> tapegrad.sparse_coo_tensor([[1, 0]], [1.0, 2.0]).coalesce().values()
        tensor([2., 1.])
    """
    if not check_sparse(self, "values").coalesced:
        raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
    return _values(self)


def sparse_dim(self):
    """The number of sparse dims (0 for a dense tensor).

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2, 3).to_sparse(1).sparse_dim()
        1
    """
    return self._data.sparse_dim if isinstance(self._data, CooArray) else 0


def dense_dim(self):
    """The number of dense dims (all of them for a dense tensor).

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2, 3).to_sparse(1).dense_dim()
        1
    """
    return self._data.dense_dim if isinstance(self._data, CooArray) else self.ndim


def _nnz(self):
    """The number of stored entries (index columns) of a sparse tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.sparse_coo_tensor([[1, 1]], [1.0, 2.0])._nnz()
        2
    """
    return check_sparse(self, "_nnz").nnz


def is_sparse(self):
    """Whether the tensor is in the sparse COO layout.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2).is_sparse, tapegrad.ones(2).to_sparse().is_sparse
        (False, True)
    """
    return isinstance(self._data, CooArray)


def tensor_layout(self):
    """``tapegrad.sparse_coo`` for a sparse tensor, ``tapegrad.strided`` otherwise.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2).to_sparse().layout
        tapegrad.sparse_coo
    """
    return sparse_coo if isinstance(self._data, CooArray) else strided


