"""Padding and packing variable-length sequences, as ``torch.nn.utils.rnn``.

A ``PackedSequence`` holds a batch of sequences sorted by decreasing length,
time step by time step: ``data`` stacks, for each step ``t``, the ``t``-th
element of the ``batch_sizes[t]`` sequences still running. ``nn.RNN``,
``nn.LSTM`` and ``nn.GRU`` accept one and return one. Everything here is made
of recorded ops (narrow, cat, stack, index_select), so gradients flow through
packing and padding.
"""
from collections import namedtuple

import numpy as np

from .. import _creation as C
from .._tensor import Tensor
from ..ops import joining as _J

__all__ = ["PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
           "invert_permutation"]


def invert_permutation(permutation):
    """The inverse of an int64 permutation tensor (None stays None).

    Example:
        >>> import tapegrad
        >>> invert_permutation(tapegrad.tensor([2, 0, 1]))
        tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    p = np.asarray(permutation.tolist(), dtype=np.int64)
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size, dtype=np.int64)
    return C.tensor(inv.tolist(), dtype=permutation.dtype, device=permutation.device)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Sequences packed step by step: ``(data, batch_sizes, sorted_indices, unsorted_indices)``.

    Build one with ``pack_padded_sequence`` or ``pack_sequence`` rather than by hand.

    Example:
        >>> import tapegrad
        >>> p = pack_sequence([tapegrad.tensor([1., 2., 3.]), tapegrad.tensor([4., 5.])])
        >>> p.data, p.batch_sizes
        (tensor([1., 4., 2., 5., 3.]), tensor([2, 2, 1]))
    """
    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:
            raise ValueError("PackedSequence: batch_sizes is required; build packed sequences with "
                             "pack_padded_sequence or pack_sequence")
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """``data`` moved/cast by ``Tensor.to``; the indices follow it to its device."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        idx = [None if t is None else t.to(data.device) for t in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *idx)

    def cpu(self):
        """The same sequence with ``data`` on the CPU."""
        return self.to("cpu")

    def cuda(self, device=None):
        """The same sequence with ``data`` on a CUDA device."""
        return self.to("cuda" if device is None else device)

    @property
    def is_cuda(self):
        """Whether ``data`` lives on a CUDA device."""
        return self.data.is_cuda


def _lengths_list(lengths, opname):
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise ValueError(f"{opname}: lengths must be a 1-D tensor or list, got shape {tuple(lengths.shape)}")
        lengths = lengths.tolist()
    out = [int(v) for v in lengths]
    if any(v <= 0 for v in out):
        raise RuntimeError(f"{opname}: Length of all samples has to be greater than 0, but found an element in "
                           f"'lengths' that is <= 0 (lengths {out})")
    return out


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes ``(L_i, *)`` into ``(max L, B, *)`` (``(B, max L, *)`` with ``batch_first``).

    Args:
        sequences: a list of tensors that agree in every dim but the first.
        padding_value: the value of the added elements.
        padding_side: ``"right"`` (after each sequence) or ``"left"``.

    Example:
        >>> import tapegrad
        >>> pad_sequence([tapegrad.tensor([1., 2.]), tapegrad.tensor([3.])], batch_first=True)
        tensor([[1., 2.],
                [3., 0.]])
    """
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    rest = tuple(sequences[0].shape[1:])
    for s in sequences:
        if s.ndim < 1 or tuple(s.shape[1:]) != rest:
            raise RuntimeError(f"pad_sequence: every sequence must have shape (L, *{rest}), got "
                               f"{[tuple(q.shape) for q in sequences]}")
    T = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        extra = T - s.shape[0]
        if extra:
            pad = C.full((extra,) + rest, padding_value, dtype=s.dtype, device=s.device)
            s = _J.cat([s, pad] if padding_side == "right" else [pad, s])
        rows.append(s)
    return _J.stack(rows, dim=0 if batch_first else 1)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of the given lengths.

    With ``enforce_sorted=False`` the batch may be in any order: it is sorted by
    decreasing length and ``sorted_indices`` records how.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[1., 2., 3.], [4., 5., 0.]])
        >>> pack_padded_sequence(x, [3, 2], batch_first=True).data
        tensor([1., 4., 2., 5., 3.])
    """
    lens = _lengths_list(lengths, "pack_padded_sequence")
    if batch_first:
        input = input.transpose(0, 1)
    if len(lens) != input.shape[1]:
        raise ValueError(f"pack_padded_sequence: got {len(lens)} lengths for a batch of {input.shape[1]}")
    if enforce_sorted:
        if any(a < b for a, b in zip(lens, lens[1:])):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
                               "to sidestep this requirement if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-np.asarray(lens), kind="stable")
        sorted_indices = C.tensor(order.tolist(), dtype="int64", device=input.device)
        input = input.index_select(1, sorted_indices)
        lens = [lens[i] for i in order]
    if lens[0] > input.shape[0]:
        raise RuntimeError(f"pack_padded_sequence: a length of {lens[0]} exceeds the padded length "
                           f"{input.shape[0]}")
    batch_sizes = [sum(1 for n in lens if n > t) for t in range(lens[0])]
    parts = [_J.narrow(input[t], 0, 0, b) for t, b in enumerate(batch_sizes)]
    data = _J.cat(parts) if len(parts) > 1 else parts[0]
    return PackedSequence(data, C.tensor(batch_sizes, dtype="int64"), sorted_indices,
                          invert_permutation(sorted_indices))


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo ``pack_padded_sequence``: ``(padded, lengths)``, in the batch's original order.

    Args:
        total_length: pad to this many steps (at least the longest sequence), not just the longest.

    Example:
        >>> import tapegrad
        >>> p = pack_sequence([tapegrad.tensor([1., 2.]), tapegrad.tensor([3.])])
        >>> pad_packed_sequence(p, batch_first=True)
        (tensor([[1., 2.],
                [3., 0.]]), tensor([2, 1]))
    """
    data, batch_sizes_t, _, unsorted = sequence
    bs = [int(b) for b in batch_sizes_t.tolist()]
    T, n = len(bs), bs[0]
    if total_length is not None:
        if total_length < T:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {T}")
    rest = tuple(data.shape[1:])
    steps = []
    off = 0
    for b in bs:
        step = _J.narrow(data, 0, off, b)
        if b < n:
            step = _J.cat([step, C.full((n - b,) + rest, padding_value, dtype=data.dtype, device=data.device)])
        steps.append(step)
        off += b
    if total_length is not None and total_length > T:
        steps += [C.full((n,) + rest, padding_value, dtype=data.dtype, device=data.device)] * (total_length - T)
    out = _J.stack(steps)
    lengths = [sum(1 for b in bs if b > i) for i in range(n)]
    if unsorted is not None:
        out = out.index_select(1, unsorted)
        lengths = [lengths[i] for i in unsorted.tolist()]
    if batch_first:
        out = out.transpose(0, 1)
    return out, C.tensor(lengths, dtype="int64")


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors ``(L_i, *)``; with ``enforce_sorted`` they must come longest first.

    Example:
        >>> import tapegrad
        >>> pack_sequence([tapegrad.tensor([1.]), tapegrad.tensor([2., 3.])], enforce_sorted=False).batch_sizes
        tensor([2, 1])
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)
