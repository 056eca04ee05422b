"""OpSpecs for tapegrad/ops/sparse_coo.py: sparse COO tensors built from dense values at fixed index columns
(duplicates included), multiplied, summed and turned back into dense results, so the harnesses see dense
inputs and outputs while the gradients pass through the sparse primitives (Note [sparse primitives]).

Sparse VJPs run on arrays only: no spec checks second derivatives (gradgrad=False)."""
import numpy as np
from hypothesis import strategies as st

import tapegrad

from . import Example, OpSpec, add


def _cols(nnz, rows, cols):
    """Fixed index columns with repeats: entry k at (k % rows, (3 k + 1) % cols)."""
    k = np.arange(nnz)
    return [(k % rows).tolist(), ((3 * k + 1) % cols).tolist()]


def _dense(v, indices, size):
    out = np.zeros(size, v.dtype)
    np.add.at(out, tuple(np.asarray(i, np.int64) for i in indices), v)
    return out


def _coo_kwargs(shapes):
    nnz = shapes[0][0]
    return st.tuples(st.integers(1, 3), st.integers(1, 4)).map(
        lambda rc: {"indices": _cols(nnz, *rc), "size": rc})


def _values_shapes(max_nnz=6):
    return st.integers(0, max_nnz).map(lambda n: ((n,),))


def _to_dense(v, indices, size):
    return tapegrad.sparse_coo_tensor(indices, v, size).to_dense()


add(OpSpec("sparse_coo_to_dense", _to_dense, _dense, _values_shapes(), _coo_kwargs,
           covers=("sparse_coo", "sparse_to_dense"), gradgrad=False,
           torch_fn=lambda torch, v, indices, size: torch.sparse_coo_tensor(indices, v, size).to_dense(),
           examples=(Example([np.array([1.0, 2.0, 3.0])], {"indices": [[0, 0, 1], [1, 1, 0]], "size": (2, 2)}),)))


def _coalesced_values(v, indices, size):
    return tapegrad.sparse_coo_tensor(indices, v, size).coalesce().values()


def _np_coalesced_values(v, indices, size):
    d = _dense(v, indices, size)
    lin = sorted(set(int(r) * size[1] + int(c) for r, c in zip(*indices)))
    return np.array([d.reshape(-1)[i] for i in lin], v.dtype)


add(OpSpec("sparse_coalesce_values", _coalesced_values, _np_coalesced_values, _values_shapes(), _coo_kwargs,
           covers=("sparse_coo", "sparse_values", "index_put_add"), gradgrad=False,
           torch_fn=lambda torch, v, indices, size: torch.sparse_coo_tensor(indices, v, size).coalesce().values()))


def _mm_shapes():
    return st.tuples(st.integers(0, 6), st.integers(1, 3)).map(lambda nk: ((nk[0],), (4, nk[1])))


def _mm_kwargs(shapes):
    nnz = shapes[0][0]
    return st.integers(1, 3).map(lambda r: {"indices": _cols(nnz, r, 4), "rows": r})


def _mm(v, d, indices, rows):
    return tapegrad.sparse.mm(tapegrad.sparse_coo_tensor(indices, v, (rows, 4)), d)


add(OpSpec("sparse_mm", _mm, lambda v, d, indices, rows: _dense(v, indices, (rows, 4)) @ d, _mm_shapes(), _mm_kwargs,
           covers=("sparse_coo", "sparse_mm"), gradgrad=False,
           torch_fn=lambda torch, v, d, indices, rows: torch.sparse.mm(torch.sparse_coo_tensor(indices, v, (rows, 4)), d)))


def _mm_dense_op(v, d, indices, rows):
    return tapegrad.sparse_coo_tensor(indices, v, (rows, 4)).t().t() @ d


add(OpSpec("sparse_matmul_operator", _mm_dense_op, lambda v, d, indices, rows: _dense(v, indices, (rows, 4)) @ d,
           _mm_shapes(), _mm_kwargs, covers=("sparse_coo", "matmul", "transpose"), gradgrad=False,
           torch_fn=lambda torch, v, d, indices, rows: torch.sparse_coo_tensor(indices, v, (rows, 4)).t().t() @ d))


def _emb_shapes():
    return st.tuples(st.integers(1, 5), st.integers(1, 3)).map(lambda s: (s,))


def _emb_index(shapes, kwargs):
    n = shapes[0][0]
    return st.tuples(st.lists(st.integers(0, n - 1), min_size=0, max_size=4).map(lambda v: np.array(v, np.int64)))


def _embedding(w, idx, padding_idx=None):
    # through to_sparse/to_dense so that the sparse weight gradient reaches the harness's dense input
    return tapegrad.nn.functional.embedding(idx, w.to_sparse(1).to_dense(), padding_idx=padding_idx, sparse=True)


def _np_embedding(w, idx, padding_idx=None):
    return w[idx]


def _torch_embedding(torch, w, idx, padding_idx=None):
    return torch.nn.functional.embedding(idx, w.to_sparse(1).to_dense(), padding_idx=padding_idx, sparse=True)


add(OpSpec("embedding_sparse", _embedding, _np_embedding, _emb_shapes(), domain=(0.5, 2.0),
           int_args=(1,), index_args=_emb_index, covers=("embedding_sparse", "sparse_coo", "sparse_to_dense", "getitem"),
           gradgrad=False, torch_fn=_torch_embedding,
           examples=(Example([np.arange(1.0, 7.0).reshape(3, 2), np.array([2, 0, 2])], {"padding_idx": 0}, kink=True),)))
