"""``F.embedding`` with PyTorch's extras (``max_norm``, ``scale_grad_by_freq``) and ``F.embedding_bag``.

``embedding`` re-declares the plain lookup of ``nn/functional.py`` (which it
calls, Note [base definitions] in loss.py) with PyTorch's full signature; the re-export at the end of
``nn/functional.py`` replaces the name there.
"""
import numpy as np

from ... import _creation as C
from ... import _dtype as D
from ...autograd.grad_mode import no_grad
from ...ops import elementwise as _E
from ...ops.statistics import norm

__all__ = ["embedding", "embedding_bag"]

# the plain lookup of nn/functional.py, handed over as it re-exports this file (Note [base definitions]
# in loss.py)
BASE = {}


def _LOOKUP(input, weight, padding_idx=None):
    return BASE["embedding"](input, weight, padding_idx)


def _sparse_lookup(input, weight, padding_idx=None, keep=None, scale_grad_by_freq=False):
    """The lookup whose weight gradient is a sparse COO tensor (``sparse=True``, ops/sparse_coo.py)."""
    from ...ops.indexing import check_index_range
    from ...ops.sparse_coo import embedding_sparse
    if input.dtype not in (D.int64, D.int32):
        raise RuntimeError(f"embedding: expected indices of dtype int64 or int32, got {input.dtype}")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: sparse=True needs a 2-D weight, got shape {tuple(weight.shape)}")
    check_index_range("embedding", input, weight.shape[0], 0, IndexError)
    return embedding_sparse(input, weight, padding_idx, keep, scale_grad_by_freq)


def _renorm_(weight, input, max_norm, norm_type):
    """Rescale, in place and without recording, each row of ``weight`` used by ``input`` whose
    ``norm_type``-norm exceeds ``max_norm`` to norm ``max_norm`` (PyTorch's ``embedding_renorm_``)."""
    rows = sorted(set(int(v) for v in input.reshape((-1,)).tolist()))
    if not rows:
        return
    n = weight.shape[0]
    if rows[0] < -n or rows[-1] >= n:
        raise IndexError(f"embedding: index out of range in self (indices {rows[0]}..{rows[-1]}, {n} rows)")
    with no_grad():
        idx = C.tensor(rows, dtype=D.int64, device=weight.device)
        picked = weight[idx]
        nrm = norm(picked, norm_type, dim=1, keepdim=True)
        # PyTorch's scale max_norm / (norm + 1e-7), applied only to rows over the limit
        scale = _E.where(nrm > max_norm, max_norm / (nrm + 1e-7), 1.0)
        weight[idx] = picked * scale


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of ``weight`` at the integer indices ``input``.

    Args:
        input: integer indices of any shape.
        weight: the ``(num_embeddings, embedding_dim)`` table.
        padding_idx: a row that gets no gradient.
        max_norm: before the lookup, the rows ``input`` uses whose ``norm_type``-norm exceeds it are
            rescaled to norm ``max_norm``, in place (``weight`` changes, as in PyTorch).
        norm_type: the p of that norm.
        scale_grad_by_freq: divide each row's gradient by how often it occurs in ``input``.
        sparse: make ``weight``'s gradient a sparse COO tensor (one uncoalesced row per looked-up index;
            ``scale_grad_by_freq`` is refused in backward, as PyTorch).

    Example:
        >>> import tapegrad
        >>> w = tapegrad.tensor([[3.0, 4.0], [0.3, 0.4]])
        >>> tapegrad.nn.functional.embedding(tapegrad.tensor([0, 1]), w, max_norm=1.0)
        tensor([[0.6000, 0.8000],
                [0.3000, 0.4000]])
        >>> w[0]
        tensor([0.6000, 0.8000])
    """
    if padding_idx is not None:
        n = weight.shape[0]
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding: padding_idx={padding_idx} must be within num_embeddings ({n})")
        padding_idx %= n
    if max_norm is not None:
        if input.dtype not in (D.int64, D.int32):
            raise RuntimeError(f"embedding: expected indices of dtype int64 or int32, got {input.dtype}")
        _renorm_(weight, input, max_norm, norm_type)
    if sparse:
        return _sparse_lookup(input, weight, padding_idx, scale_grad_by_freq=scale_grad_by_freq)
    out = _LOOKUP(input, weight, padding_idx)
    if scale_grad_by_freq and input.numel():
        flat = [int(v) for v in input.reshape((-1,)).tolist()]
        _scale_by_freq(out, flat, flat, tuple(input.shape))
    return out


def _scale_by_freq(out, flat, looked_up, shape):
    """Divide the gradient reaching each looked-up row by its row's count in ``flat`` (the caller's input):
    PyTorch's ``scale_grad_by_freq``, as a hook on the lookup's result (the values stay as they are)."""
    if not out.requires_grad:
        return
    counts = {}
    for v in flat:
        counts[v] = counts.get(v, 0) + 1
    inv = C.tensor([1.0 / counts.get(v, 1) for v in looked_up], dtype=out.dtype, device=out.device)
    inv = inv.reshape(shape + (1,))
    out.register_hook(lambda g: g * inv)


def _bags(input, offsets, include_last_offset, n_input):
    """``(starts, ends)`` of each bag from 1-D ``offsets`` (PyTorch's rules)."""
    offs = [int(v) for v in offsets.tolist()]
    if offs and offs[0] != 0:
        raise ValueError(f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence in the mini-batch has "
                         f"to start from position 0. However, got {offs[0]}")
    if any(b < a for a, b in zip(offs, offs[1:])) or (offs and offs[-1] > n_input):
        raise ValueError(f"embedding_bag: offsets must be non-decreasing and at most the input length {n_input}, "
                         f"got {offs}")
    if include_last_offset:
        if not offs:
            raise ValueError("embedding_bag: include_last_offset=True needs at least one offset")
        return offs[:-1], offs[1:]
    return offs, offs[1:] + [n_input]


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embedding rows, without the intermediate ``(bags, len, dim)`` lookup.

    Args:
        input: ``(B, L)`` indices (B bags of L each), or 1-D indices cut into bags by ``offsets``.
        weight: the ``(num_embeddings, embedding_dim)`` table.
        offsets: with a 1-D ``input``, the start of each bag.
        max_norm, norm_type: rows over the norm are rescaled in place first (as ``embedding``).
        scale_grad_by_freq: scale gradients by the inverse frequency of the rows (not with ``max``).
        mode: ``"sum"``, ``"mean"`` or ``"max"`` (elementwise over the bag). Empty bags give zeros.
        sparse: make ``weight``'s gradient a sparse COO tensor (not with ``mode="max"``, as PyTorch).
        per_sample_weights: weights of each index (``input``'s shape), only with ``mode="sum"``.
        include_last_offset: ``offsets`` has one more entry, the end of the last bag.
        padding_idx: entries equal to it are left out of their bag (not counted in a mean).

    Example:
        >>> import tapegrad
        >>> w = tapegrad.arange(6.0).reshape(3, 2)
        >>> F = tapegrad.nn.functional
        >>> F.embedding_bag(tapegrad.tensor([0, 2, 1]), w, tapegrad.tensor([0, 2]), mode="sum")
        tensor([[4., 6.],
                [2., 3.]])
    """
    if sparse and mode == "max":
        raise ValueError("max mode does not support sparse weights")
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) is not None, "
                         f"then it must have the same shape as the input ({tuple(input.shape)})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    if input.dtype not in (D.int64, D.int32):
        raise RuntimeError(f"embedding_bag: expected indices of dtype int64 or int32, got {input.dtype}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}')")
    flat = [int(v) for v in input.reshape((-1,)).tolist()]
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        b, l = input.shape
        starts, ends = [i * l for i in range(b)], [(i + 1) * l for i in range(b)]
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError(f"offsets has to be a 1D Tensor, got shape {tuple(offsets.shape)}")
        starts, ends = _bags(input, offsets, include_last_offset, len(flat))
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    n = weight.shape[0]
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding_bag: padding_idx={padding_idx} must be within num_embeddings ({n})")
        padding_idx %= n
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    nb, width = len(starts), max([e - s for s, e in zip(starts, ends)], default=0)
    # each bag's entries as a padded (bags, width) lookup; pos indexes the flat input, -1 for padding
    pos = [[s + j if s + j < e and flat[s + j] != padding_idx else -1 for j in range(width)]
           for s, e in zip(starts, ends)]
    keep = C.tensor([[p >= 0 for p in row] for row in pos], dtype=D.bool, device=weight.device)
    keep = keep.reshape((nb, width))
    idx = C.tensor([[flat[p] if p >= 0 else 0 for p in row] for row in pos], dtype=D.int64, device=weight.device)
    idx = idx.reshape((nb, width))
    if sparse:      # the fillers of short bags and padding entries get no entry in the sparse gradient
        kept = [p >= 0 for row in pos for p in row]
        rows = _sparse_lookup(idx, weight, keep=np.array(kept, dtype=bool), scale_grad_by_freq=scale_grad_by_freq)
    else:
        rows = _LOOKUP(idx, weight)                                               # (bags, width, dim)
    if scale_grad_by_freq and flat and not sparse:
        _scale_by_freq(rows, flat, [int(v) for v in idx.reshape((-1,)).tolist()], (nb, width))
    mask = keep.reshape((nb, width, 1))
    if mode == "max":
        vals = _E.where(mask, rows, float("-inf")).max(dim=1).values if width else rows.sum(1)
        return _E.where(keep.any(1, keepdim=True), vals, 0.0) if width else vals
    if per_sample_weights is not None:
        psw = per_sample_weights.reshape((-1,))
        wsel = C.tensor([[p if p >= 0 else 0 for p in row] for row in pos], dtype=D.int64, device=weight.device)
        rows = rows * psw[wsel.reshape((nb, width))].reshape((nb, width, 1))
    total = _E.where(mask, rows, 0.0).sum(1)
    if mode == "sum":
        return total
    count = keep.sum(1, keepdim=True).clamp(min=1).to(total.dtype)
    return total / count
