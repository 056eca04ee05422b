"""Sparse COO tensors: ``sparse_coo_tensor``, ``to_sparse``, ``to_dense``, ``coalesce``, ``indices``/``values``,
the sparse product ``sparse_mm`` and the lookup with a sparse gradient ``embedding_sparse``.

A sparse tensor is a Tensor whose storage is a ``CooArray`` (Note [sparse COO storage] in
ops/_sparse_array.py). The primitives here move between the two layouts, each with its VJP:

# Note [sparse primitives]
- ``sparse_coo`` (values -> sparse, the indices a param): its VJP reads the gradient's values at
  the indices (the gradient's own values when it has the same indices, a gather otherwise).
- ``sparse_values`` (sparse -> values, in ops/_sparse_accessors.py with ``values()``): its VJP is the sparse gradient with the input's indices
  (at its coalesced indices when it has duplicates, each the mean of the duplicates' gradients: a
  sparse gradient is dL/d(dense) at its entries, as PyTorch's, and PyTorch reports one per index).
- ``sparse_to_dense``: its VJP is PyTorch's ``sparse_mask``: the dense gradient at the input's
  coalesced indices, a sparse gradient.
- ``sparse_mm`` (``torch.sparse.mm``): one gather/scale/scatter-add forward; the gradient of
  the sparse operand is sparse, at its coalesced indices (PyTorch's), the dense one's is
  ``S^T g``. ``torch.mm``/``@``/``matmul`` instead run the dense matmul op on the CooArray
  (its VJP gives the sparse operand a dense gradient, as PyTorch's ``mm`` does).
- ``embedding_sparse``: ``weight[indices]`` whose weight gradient is an uncoalesced sparse
  tensor with one row per looked-up index (``nn.Embedding(sparse=True)``).
Everything else is composed: ``coalesce`` is an ``index_add`` of the values, ``to_sparse`` a
``getitem`` at the nonzeros, ``+``, ``*``, ``t()`` the dense ops on the CooArray. These VJPs
run on arrays: ``create_graph=True`` through them raises NotImplementedError.
"""
import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ._sparse_array import CooArray, coo_type, spmm as _spmm, LAYOUT_ERROR
from .registry import apply, op
from ._sparse_accessors import (sparse_values_op, _no_graph, layout, strided, sparse_coo, check_sparse as _check_sparse, is_coalesced,  # noqa: F401
                                _indices, _values, indices, values, sparse_dim, dense_dim, _nnz, is_sparse,
                                tensor_layout)

__all__ = ["sparse_coo_tensor", "spmm"]


def _key(be, indices):
    return tuple(be.getitem(indices, i) for i in range(indices.shape[0]))


@op("sparse_coo", promote=None, math=None)
def sparse_coo_op(be, values, indices, shape, coalesced=False):
    return coo_type(be)(indices, values, shape, coalesced)


@sparse_coo_op.vjp
def _(F, ctx, g, indices, shape, coalesced=False):
    _no_graph("sparse_coo", g)
    if isinstance(g, CooArray):
        return g.values if g.indices is indices else g.gather(indices)
    return F.getitem(g, _key(F, indices))


def _mask(F, g, s):
    """The dense gradient ``g`` at ``s``'s coalesced indices, as a sparse gradient (PyTorch's sparse_mask)."""
    c = s.coalesce() if not s.coalesced else s
    vals = g.gather(c.indices) if isinstance(g, CooArray) else F.getitem(g, _key(F, c.indices))
    return s.like(vals, c.indices, coalesced=True)


@op("sparse_to_dense", save="s", promote=None, math=None)
def sparse_to_dense_op(be, s):
    return s.to_dense()


@sparse_to_dense_op.vjp
def _(F, ctx, g, s):
    _no_graph("sparse_to_dense", g)
    return _mask(F, g, s)


@op("sparse_mm", save=("s", "d"), tensors=2, math=None)
def sparse_mm_op(be, s, d):
    if not isinstance(s, CooArray):
        raise NotImplementedError("the first argument must be a sparse COO matrix")
    return _spmm(s, d)


@sparse_mm_op.vjp
def _(F, ctx, g, s, d):
    _no_graph("sparse_mm", g)
    gs = gd = None
    if ctx.needs[0]:
        c = s.coalesce() if not s.coalesced else s
        rows, cols = F.getitem(c.indices, 0), F.getitem(c.indices, 1)
        gr, dr = F.getitem(g, (rows,)), F.getitem(d, (cols,))
        vals = gr * dr if d.ndim == 1 else F.sum(gr * dr, axis=-1)
        gs = s.like(vals, c.indices, coalesced=True)
    if ctx.needs[1]:
        gd = _spmm(s.transpose(), g)
    return gs, gd


@op("embedding_sparse", save="indices", tensors=2, promote=None, math=None)
def embedding_sparse_op(be, weight, indices, keep=None, scale_grad_by_freq=False):
    return be.getitem(weight, (indices,))


@embedding_sparse_op.vjp
def _(F, ctx, g, indices, keep=None, scale_grad_by_freq=False):
    _no_graph("embedding_sparse", g)
    if scale_grad_by_freq:
        raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
    shape = ctx.shapes[0]
    flat = F.reshape(indices, (1, -1))
    vals = F.reshape(g, (-1, shape[1]))
    if keep is not None:        # padding_idx (and embedding_bag's fillers) get no entry, as PyTorch
        sel = F.asarray(np.flatnonzero(keep).astype(np.int64))
        flat, vals = F.getitem(flat, (slice(None), sel)), F.getitem(vals, (sel,))
    return coo_type(F)(F.astype(flat, np.int64), F.copy(vals), shape, False), None


def embedding_sparse(input, weight, padding_idx=None, keep=None, scale_grad_by_freq=False):
    """``weight[input]`` whose gradient to ``weight`` is an uncoalesced sparse tensor with one row per
    looked-up index, leaving out ``padding_idx`` and the entries where the flat bool ``keep`` is False
    (``nn.Embedding(sparse=True)``).

    Example:
        >>> import tapegrad
        >>> w = tapegrad.ones(4, 2, requires_grad=True)
        >>> embedding_sparse(tapegrad.tensor([3, 1, 3]), w).sum().backward()
        >>> w.grad._indices(), w.grad.to_dense()[3]
        (tensor([[3, 1, 3]]), tensor([2., 2.]))
    """
    be = weight._backend
    idx = be.astype(input._data, np.int64)
    if padding_idx is not None:
        flat = np.asarray(be.to_numpy(idx)).reshape(-1) != padding_idx
        keep = flat if keep is None else keep & flat
    return apply(embedding_sparse_op, weight, Tensor._make(idx, None), keep=keep,
                 scale_grad_by_freq=bool(scale_grad_by_freq))


# ------------------------------------------------------------------ public functions
def _as_tensor(x, dtype=None, device=None):
    from .._creation import tensor, as_tensor
    if isinstance(x, Tensor):
        return x
    return as_tensor(x, dtype=dtype, device=device) if isinstance(x, np.ndarray) else tensor(x, dtype=dtype,
                                                                                              device=device)


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, requires_grad=False,
                      check_invariants=None, is_coalesced=None):
    """A sparse COO tensor with ``values[k]`` at the index column ``indices[:, k]`` (duplicates add up).

    Args:
        indices: ``(sparse_dim, nnz)`` integer indices (a tensor or nested lists).
        values: ``(nnz, *dense_sizes)`` values.
        size: the tensor's size; by default the smallest that holds the indices.
        dtype, device: of the values (by default those of ``values``).
        requires_grad: make the result a leaf that requires grad.
        check_invariants: accepted (the indices are always checked against ``size``).
        is_coalesced: declare the indices sorted and distinct.

    Example:
        >>> import tapegrad
        >>> s = tapegrad.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3.0, 4.0, 5.0], (2, 3))
        >>> s.to_dense()
        tensor([[0., 0., 3.],
                [4., 0., 5.]])
    """
    v = _as_tensor(values, dtype, device)
    if dtype is not None and v.dtype != D.to_dtype(dtype):
        v = v.to(D.to_dtype(dtype))
    if device is not None:
        v = v.to(device)
    i = _as_tensor(indices, D.int64 if not isinstance(indices, Tensor) else None, device=v.device)
    if i.device != v.device:
        i = i.to(v.device)
    if i.is_sparse or v.is_sparse:
        raise TypeError("sparse_coo_tensor: indices and values must be dense tensors")
    if i.dtype.is_floating_point or i.dtype is D.bool:
        raise RuntimeError(f"indices must be an int64 tensor, got {i.dtype}")
    if i.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(i.shape)}")
    if v.ndim == 0:
        raise RuntimeError("values must have at least one dimension (nnz), got a 0-d tensor")
    sd, nnz = i.shape
    if v.shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: {nnz}, nnz from "
                           f"values: {v.shape[0]}")
    be = v._backend
    host = np.asarray(be.to_numpy(i._data)).reshape(sd, nnz).astype(np.int64)
    if nnz and host.min() < 0:
        raise RuntimeError(f"found negative index {int(host.min())} for a sparse COO tensor")
    if size is None:
        size = tuple(int(m) + 1 for m in (host.max(1) if nnz else np.full(sd, -1))) + tuple(v.shape[1:])
    size = tuple(int(s) for s in size)
    if len(size) != sd + v.ndim - 1:
        raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(size)}, "
                           f"sparse_dim = {sd}, dense_dim = {v.ndim - 1}")
    if tuple(v.shape[1:]) != size[sd:]:
        raise RuntimeError(f"values has incorrect size, expected {[nnz] + list(size[sd:])}, got {list(v.shape)}")
    for d in range(sd):
        if nnz and host[d].max() >= size[d]:
            raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is {size[d]} but found index "
                               f"{int(host[d].max())}")
    idx = be.asarray(host)
    if requires_grad:
        v = v.detach()
    out = apply(sparse_coo_op, v, indices=idx, shape=size, coalesced=bool(is_coalesced))
    if requires_grad:
        out.requires_grad_(True)
    return out


def to_sparse(self, sparse_dim=None):
    """This tensor in the sparse COO layout: the nonzero entries of its first ``sparse_dim`` dims.

    Example:
        >>> import tapegrad
        >>> s = tapegrad.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse()
        >>> s.indices(), s.values()
        (tensor([[0, 1],
                [1, 0]]), tensor([1., 2.]))
    """
    if isinstance(self._data, CooArray):
        if sparse_dim is not None and sparse_dim != self._data.sparse_dim:
            raise RuntimeError(f"to_sparse: conversion from Sparse to Sparse with sparse_dim={sparse_dim} is not "
                               "supported")
        return self
    sd = self.ndim if sparse_dim is None else int(sparse_dim)
    if not 0 < sd <= self.ndim:
        raise RuntimeError(f"to_sparse: sparse_dim argument must be in [1, {self.ndim}] but got {sparse_dim}")
    be = self._backend
    a = np.asarray(be.to_numpy(self._data))
    nz = a != 0
    if a.ndim > sd:
        nz = nz.reshape(a.shape[:sd] + (-1,)).any(-1)
    host = np.array(np.nonzero(nz), dtype=np.int64).reshape(sd, -1)
    idx = be.asarray(host)
    vals = self[tuple(Tensor._make(be.getitem(idx, d), None) for d in range(sd))]
    return apply(sparse_coo_op, vals, indices=idx, shape=tuple(self.shape), coalesced=True)


def to_dense(self, dtype=None, *, masked_grad=None):
    """A dense tensor with this sparse tensor's values (duplicates summed); a dense tensor itself.

    Example:
        >>> import tapegrad
        >>> tapegrad.sparse_coo_tensor([[1, 1]], [2.0, 3.0], (3,)).to_dense()
        tensor([0., 5., 0.])
    """
    out = apply(sparse_to_dense_op, self) if isinstance(self._data, CooArray) else self
    return out if dtype is None else out.to(dtype)


def coalesce(self):
    """The coalesced sparse tensor: sorted distinct indices, the values of duplicates summed.

    Example:
        >>> import tapegrad
        >>> s = tapegrad.sparse_coo_tensor([[1, 0, 1]], [1.0, 2.0, 3.0], (2,)).coalesce()
        >>> s.indices(), s.values(), s.is_coalesced()
        (tensor([[0, 1]]), tensor([2., 4.]), True)
    """
    s = _check_sparse(self, "coalesce")
    if s.coalesced:
        return self
    from .._creation import zeros
    from .indexing import index_add
    uniq, inv = s.coalesce_map()
    vals = apply(sparse_values_op, self)
    acc = zeros((int(uniq.shape[1]),) + tuple(s.values.shape[1:]), dtype=self.dtype, device=self.device)
    summed = index_add(acc, 0, Tensor._make(inv, None), vals)
    return apply(sparse_coo_op, summed, indices=uniq, shape=s.shape, coalesced=True)


def spmm(input, mat2):
    """The product of a sparse COO matrix and a dense matrix (``tapegrad.sparse.mm``); the sparse operand's
    gradient is sparse.

    Example:
        >>> import tapegrad
        >>> s = tapegrad.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2))
        >>> tapegrad.spmm(s, tapegrad.ones(2, 1))
        tensor([[2.],
                [3.]])
    """
    if not isinstance(input._data, CooArray):
        if isinstance(mat2._data, CooArray):
            raise NotImplementedError(f"sparse.mm: a dense matrix times a sparse one {LAYOUT_ERROR}")
        from .linalg import mm
        return mm(input, mat2)
    return apply(sparse_mm_op, input, mat2)


METHODS = {"to_sparse": to_sparse, "to_dense": to_dense, "coalesce": coalesce, "is_coalesced": is_coalesced,
           "_indices": _indices, "_values": _values, "indices": indices, "values": values,
           "sparse_dim": sparse_dim, "dense_dim": dense_dim, "_nnz": _nnz}
PROPERTIES = {"is_sparse": is_sparse, "layout": tensor_layout}
