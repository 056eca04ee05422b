"""``CooArray``: the storage of a sparse COO tensor, an (indices, values) pair on one backend.

# Note [sparse COO storage]
A sparse tensor is an ordinary ``Tensor`` whose ``_data`` is a ``CooArray``
instead of a backend array: ``indices`` (a ``(sparse_dim, nnz)`` int64 array
of the backend), ``values`` (a ``(nnz, *dense_shape)`` array of the backend),
the logical ``shape`` and a ``coalesced`` flag. Each backend gets its own
subclass (``coo_type(be)``), registered in ``backend.BY_TYPE``, so a sparse
tensor has a device, ``apply`` dispatches on it, a Node records it and the
engine carries sparse gradients with no special case: a gradient is "an
array", and a CooArray is one.

A CooArray supports only the array operations that are right for it, and
raises NotImplementedError, naming the sparse layout, for everything else
(``apply`` adds the op's name and inputs, Note [the primitives]):

- ``+``/``-`` with another CooArray (indices and values concatenated: an
  uncoalesced result, as PyTorch's sparse gradient accumulation);
  ``dense + sparse`` and ``dense += sparse`` give the dense sum (the engine
  adds a sparse and a dense gradient of one leaf so; ``sparse + dense``
  does too, where PyTorch refuses it);
- ``*`` and ``/`` by a scalar, ``*`` by a dense array that broadcasts to its shape (a sparse result
  at the same entries, as PyTorch's), unary ``-``, ``astype``;
- ``matmul`` of a 2-D sparse matrix with a dense one (either side), and
  ``transpose`` of the sparse dims: so ``torch.mm``, ``@`` and ``t()``
  run the dense ops' own forwards and VJPs (matmul's VJP transposes the
  sparse operand and multiplies again).

Any other ufunc, NumPy function or conversion (``np.asarray``) raises, so a
dense op never computes on a sparse tensor as if it were dense. Indices are
integer bookkeeping: coalescing sorts them on the host (NumPy), as indexing
keys are handled (ops/_index_key.py); the values stay on their device and
move only through backend methods (getitem, scatter_add), so the CUDA
backend runs ``to_dense``, ``coalesce`` and ``sparse.mm`` unchanged.
"""
import math

import numpy as np

from .. import backend as B

__all__ = ["CooArray", "coo_type", "is_coo"]

LAYOUT_ERROR = ("is not supported for sparse tensors (layout=tapegrad.sparse_coo); sparse tensors support "
                "to_dense, coalesce, indices/values, sparse.mm/mm/@ with a dense matrix, sparse.sum, t/transpose, "
                "+/- of sparse tensors and * or / by a scalar")
_TYPES = {}


def coo_type(be):
    """The CooArray subclass of backend ``be`` (made and registered in ``BY_TYPE`` on first use)."""
    t = _TYPES.get(be)
    if t is None:
        t = type(f"SparseCooArray_{be.device_type}", (CooArray,), {"__slots__": (), "backend": be})
        _TYPES[be] = t
        B.BY_TYPE[t] = be
    return t


def is_coo(a):
    return isinstance(a, CooArray)


def _is_scalar(x):
    return isinstance(x, (int, float, np.generic)) and not isinstance(x, bool) or \
        (isinstance(x, np.ndarray) and x.ndim == 0)


class CooArray:
    """Sparse COO storage (Note [sparse COO storage]); use ``coo_type(be)(indices, values, shape)``."""
    __slots__ = ("indices", "values", "shape", "coalesced", "_cmap")
    backend = None
    base = None                   # never a view (the engine asks before keeping a gradient)
    __array_priority__ = 2000

    def __init__(self, indices, values, shape, coalesced=False):
        self.indices = indices
        self.values = values
        self.shape = tuple(int(s) for s in shape)
        self.coalesced = bool(coalesced)
        self._cmap = None

    # ------------------------------------------------------------ metadata
    @property
    def dtype(self):
        return self.values.dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def nnz(self):
        return int(self.indices.shape[1])

    @property
    def sparse_dim(self):
        return int(self.indices.shape[0])

    @property
    def dense_dim(self):
        return self.values.ndim - 1

    def like(self, values, indices=None, shape=None, coalesced=None):
        """A CooArray of the same backend with these parts (the others kept)."""
        return type(self)(self.indices if indices is None else indices, values,
                          self.shape if shape is None else shape, self.coalesced if coalesced is None else coalesced)

    # ------------------------------------------------------------ conversions
    def _key(self, indices=None):
        be = self.backend
        idx = self.indices if indices is None else indices
        return tuple(be.getitem(idx, i) for i in range(int(idx.shape[0])))

    def to_dense(self):
        """The dense array (duplicates summed)."""
        return self.backend.scatter_add(self.shape, self._key(), self.values, self.values.dtype)

    def coalesce_map(self):
        """``(unique_indices, inverse)``: the sorted distinct index columns and, for each stored entry,
        the position of its column among them (host-side bookkeeping, cached)."""
        if self._cmap is None:
            be = self.backend
            idx = be.to_numpy(self.indices).astype(np.int64).reshape(self.sparse_dim, -1)
            sshape = self.shape[:self.sparse_dim]
            if idx.shape[1] == 0:
                uniq, inv = idx, np.zeros(0, np.int64)
            else:
                lin = np.ravel_multi_index(tuple(idx), sshape) if sshape else np.zeros(idx.shape[1], np.int64)
                u, inv = np.unique(lin, return_inverse=True)
                uniq = np.array(np.unravel_index(u, sshape), dtype=np.int64).reshape(len(sshape), -1)
            self._cmap = (be.asarray(uniq, np.int64), be.asarray(inv.reshape(-1).astype(np.int64)), len(uniq[0]))
        return self._cmap[:2]

    def coalesce(self):
        """The coalesced CooArray (sorted distinct indices, duplicates summed); self if already coalesced."""
        if self.coalesced:
            return self
        uniq, inv = self.coalesce_map()
        n = int(uniq.shape[1])
        vals = self.backend.scatter_add((n,) + tuple(self.values.shape[1:]), (inv,), self.values,
                                        self.values.dtype)
        return self.like(vals, uniq, coalesced=True)

    def gather(self, indices):
        """The values of this (logically dense) array at the index columns ``indices``, zero where absent."""
        be = self.backend
        if int(indices.shape[0]) != self.sparse_dim:      # another split into sparse and dense dims
            return be.getitem(self.to_dense(), self._key(indices))
        c = self.coalesce()
        cu = be.to_numpy(c.indices).astype(np.int64).reshape(self.sparse_dim, -1)
        want = be.to_numpy(indices).astype(np.int64).reshape(self.sparse_dim, -1)
        sshape = self.shape[:self.sparse_dim]
        lin_c = np.ravel_multi_index(tuple(cu), sshape) if cu.shape[1] else np.zeros(0, np.int64)
        lin_w = np.ravel_multi_index(tuple(want), sshape) if want.shape[1] else np.zeros(0, np.int64)
        pos = np.searchsorted(lin_c, lin_w)
        hit = pos < len(lin_c)
        hit[hit] = lin_c[pos[hit]] == lin_w[hit]
        # one zero row appended: every absent column reads it
        zero = be.zeros((1,) + tuple(self.values.shape[1:]), self.values.dtype)
        padded = be.concatenate([c.values, zero], 0)
        sel = np.where(hit, pos, len(lin_c)).astype(np.int64)
        return be.getitem(padded, (be.asarray(sel),))

    def __array__(self, *args, **kwargs):
        raise NotImplementedError("converting to a dense array implicitly " + LAYOUT_ERROR + "; call .to_dense()")

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise NotImplementedError(f"'{name}' {LAYOUT_ERROR}")

    def __getitem__(self, key):
        raise NotImplementedError("indexing " + LAYOUT_ERROR)

    def __iter__(self):
        raise NotImplementedError("iteration " + LAYOUT_ERROR)

    def __len__(self):
        return self.shape[0]

    def __bool__(self):
        raise NotImplementedError("truth value " + LAYOUT_ERROR)

    def __setitem__(self, key, value):
        # ``zero_grad(set_to_none=False)`` zeroes a gradient with ``g[...] = 0``: a sparse zero has no entries
        if key is Ellipsis and _is_scalar(value) and value == 0:
            be = self.backend
            self.indices = be.getitem(self.indices, (slice(None), slice(0, 0)))
            self.values = be.getitem(self.values, (slice(0, 0),))
            self.coalesced, self._cmap = True, None
            return
        raise NotImplementedError("assigning into entries " + LAYOUT_ERROR)

    def astype(self, dtype, copy=True):
        return self.like(self.backend.astype(self.values, dtype))

    def copy(self):
        return self.like(self.backend.copy(self.values), self.backend.copy(self.indices))

    def transpose(self, axes=None):
        nd = self.ndim
        axes = tuple(reversed(range(nd))) if axes is None else tuple(a % nd for a in axes)
        sd = self.sparse_dim
        if sorted(axes[:sd]) != list(range(sd)) or tuple(axes[sd:]) != tuple(range(sd, nd)):
            raise NotImplementedError("transposing a dense dim with a sparse one " + LAYOUT_ERROR)
        be = self.backend
        perm = be.asarray(np.array(axes[:sd], np.int64))
        idx = be.getitem(self.indices, (perm,))
        keep = axes[:sd] == tuple(range(sd))
        return self.like(self.values, idx, tuple(self.shape[a] for a in axes), self.coalesced and keep)

    # ------------------------------------------------------------ arithmetic
    def _cat(self, other, sign):
        if other.shape != self.shape:
            raise RuntimeError(f"add: sparse tensors of sizes {list(self.shape)} and {list(other.shape)} "
                               "must have the same size")
        if other.sparse_dim != self.sparse_dim:
            raise NotImplementedError("adding sparse tensors of different sparse_dim " + LAYOUT_ERROR)
        be = self.backend
        ov = other.values if sign > 0 else -other.values
        vals = be.concatenate([self.values, be.astype(ov, self.values.dtype)], 0)
        out = self.like(vals, be.concatenate([self.indices, other.indices], 1), coalesced=False)
        # as PyTorch: two coalesced operands give a coalesced sum
        return out.coalesce() if self.coalesced and other.coalesced else out

    def _dense_plus(self, dense, sign, out=None):
        """``dense + sign * self`` as a dense array (into ``out`` when given)."""
        d = self.to_dense()
        if out is not None:
            if sign > 0:
                out += d
            else:
                out -= d
            return out
        return dense + d if sign > 0 else dense - d

    def _scale(self, c):
        return self.like(self.values * c)

    def __add__(self, other):
        if isinstance(other, CooArray):
            return self._cat(other, 1)
        if _is_scalar(other):
            raise NotImplementedError("adding a scalar " + LAYOUT_ERROR)
        return self._dense_plus(other, 1)

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, CooArray):
            return self._cat(other, -1)
        raise NotImplementedError("sparse - dense " + LAYOUT_ERROR)

    def __rsub__(self, other):
        if isinstance(other, CooArray):
            return other._cat(self, -1)
        if _is_scalar(other):
            raise NotImplementedError("subtracting from a scalar " + LAYOUT_ERROR)
        return self._dense_plus(other, -1)

    def __iadd__(self, other):
        if not isinstance(other, CooArray):
            raise NotImplementedError("adding a dense array into a sparse one in place " + LAYOUT_ERROR +
                                      " (accumulating a dense gradient into a sparse .grad: zero the grad first)")
        r = self._cat(other, 1)
        self.indices, self.values, self.coalesced, self._cmap = r.indices, r.values, r.coalesced, None
        return self

    def __mul__(self, other):
        if _is_scalar(other):
            return self._scale(other)
        if isinstance(other, CooArray):
            raise NotImplementedError("sparse * sparse " + LAYOUT_ERROR)
        if np.broadcast_shapes(tuple(other.shape), self.shape) != self.shape:
            raise NotImplementedError(f"multiplying by a dense array of shape {tuple(other.shape)} that broadcasts "
                                      f"the sparse shape {self.shape} " + LAYOUT_ERROR)
        # sparse * dense: sparse, at these entries (as PyTorch)
        be = self.backend
        full = other if tuple(other.shape) == self.shape else be.broadcast_to(other, self.shape)
        return self.like(self.values * be.getitem(full, self._key()))

    __rmul__ = __mul__

    def __truediv__(self, other):
        if _is_scalar(other):
            return self.like(self.values / other)
        raise NotImplementedError("division by a tensor " + LAYOUT_ERROR)

    def __neg__(self):
        return self.like(-self.values)

    def __matmul__(self, other):
        return spmm(self, other)

    def __rmatmul__(self, other):
        return self.backend.transpose(spmm(self.transpose(), self.backend.transpose(other, (1, 0))), (1, 0))

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        name = ufunc.__name__
        if method == "__call__" and not kwargs and len(inputs) == 2:
            a, b = inputs
            if out is not None and name in ("add", "subtract") and len(out) == 1 and out[0] is a \
                    and isinstance(b, CooArray) and not isinstance(a, CooArray):
                return b._dense_plus(a, 1 if name == "add" else -1, out=a)     # dense += sparse
            if out is None:
                ops = {"add": lambda x, y: x + y, "subtract": lambda x, y: x - y, "multiply": lambda x, y: x * y,
                       "true_divide": lambda x, y: x / y, "divide": lambda x, y: x / y,
                       "matmul": lambda x, y: x @ y}
                if name in ops:
                    f = ops[name]
                    if isinstance(a, CooArray):
                        return f(a, b)
                    if name == "add":
                        return b.__radd__(a)
                    if name == "subtract":
                        return b.__rsub__(a)
                    if name == "multiply":
                        return b.__rmul__(a)
                    if name == "matmul":
                        return b.__rmatmul__(a)
        if method == "__call__" and name == "negative" and len(inputs) == 1 and out is None:
            return -inputs[0]
        raise NotImplementedError(f"the ufunc '{name}' {LAYOUT_ERROR}")

    def __array_function__(self, func, types, args, kwargs):
        if func is np.transpose:
            return args[0].transpose(*args[1:], **kwargs)
        raise NotImplementedError(f"numpy.{func.__name__} {LAYOUT_ERROR}")

    def __repr__(self):
        return f"CooArray(shape={self.shape}, nnz={self.nnz}, dtype={self.dtype}, coalesced={self.coalesced})"


def spmm(s, d):
    """The dense product of a 2-D sparse CooArray ``s`` and a dense 1-D or 2-D backend array ``d``
    (backend methods only: a gather of ``d``'s rows, a scale and a scatter-add into the result's rows)."""
    if isinstance(d, CooArray):
        raise NotImplementedError("sparse @ sparse " + LAYOUT_ERROR)
    if s.ndim != 2 or s.sparse_dim != 2 or d.ndim not in (1, 2):
        raise NotImplementedError(f"matmul of a sparse tensor of size {list(s.shape)} (sparse_dim {s.sparse_dim}) "
                                  f"and a dense one of size {list(d.shape)}: only a 2-D sparse matrix times a "
                                  "dense matrix or vector " + "is supported")
    if s.shape[1] != d.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({s.shape[0]}x{s.shape[1]} and "
                           f"{'x'.join(str(n) for n in d.shape)})")
    be = s.backend
    dtype = np.result_type(s.dtype, d.dtype)
    rows, cols = be.getitem(s.indices, 0), be.getitem(s.indices, 1)
    picked = be.getitem(d, (cols,))
    vals = s.values if d.ndim == 1 else be.reshape(s.values, (-1, 1))
    prod = be.astype(picked * vals, dtype)
    return be.scatter_add((s.shape[0],) + tuple(d.shape[1:]), (rows,), prod, dtype)
