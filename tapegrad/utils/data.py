"""``Dataset``, ``TensorDataset`` and ``DataLoader``, as in ``torch.utils.data``.

A ``DataLoader`` over a ``TensorDataset`` takes each batch with one gather per
tensor instead of fetching samples one by one and stacking them: the
per-batch cost is independent of the batch size in Python terms.
"""
import collections.abc
import copy

import numpy as np

from .._tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "DataLoader", "default_collate", "default_convert"]


class Dataset:
    """A map-style dataset: subclasses implement ``__getitem__(i)`` and ``__len__()``.

    Example:
        >>> from tapegrad.utils.data import Dataset
        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 3
        ...     def __getitem__(self, i):
        ...         return i * i
        >>> [Squares()[i] for i in range(3)]
        [0, 1, 4]
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


class TensorDataset(Dataset):
    """Samples are the i-th rows of each tensor (all tensors share the first dimension).

    Example:
        >>> import tapegrad
        >>> from tapegrad.utils.data import TensorDataset
        >>> ds = TensorDataset(tapegrad.arange(6.0).reshape(3, 2), tapegrad.tensor([0, 1, 0]))
        >>> len(ds), ds[1]
        (3, (tensor([2., 3.]), tensor(1)))
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: expected Tensors, got {type(t).__name__}")
            if t.ndim == 0:
                raise ValueError("TensorDataset: tensors need a first (sample) dimension, got a 0-d tensor")
        n = tensors[0].shape[0]
        if any(t.shape[0] != n for t in tensors):
            raise ValueError("Size mismatch between tensors: first dimensions are "
                             f"{[t.shape[0] for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


def _take(t, idx):
    """Rows ``idx`` of ``t`` as a new tensor (a data copy: batches never alias the dataset).

    A dataset tensor that requires grad is indexed through the recorded op, so the batch keeps its history
    (as a PyTorch batch, stacked from ``t[i]``, does).
    """
    if t.requires_grad:
        from .._creation import arange, tensor
        rows = arange(idx.start, idx.stop) if isinstance(idx, slice) else tensor(np.asarray(idx, dtype=np.int64))
        return t[rows.to(t.device)]
    be = t._backend
    if isinstance(idx, slice):
        return Tensor._make(be.copy(be.getitem(t._data, idx)), None)
    return Tensor._make(be.take(t._data, be.from_numpy(idx), axis=0), None)


_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def default_collate(batch):
    """Merge a list of samples into a batch, recursing through mappings, namedtuples and sequences (PyTorch's rules).

    Tensors are stacked along a new first dimension with the differentiable ``stack`` (a batch of samples that
    require grad keeps their history); NumPy arrays and NumPy scalars become tensors of their dtype; Python
    floats become float64, ints int64, bools bool; strings and bytes come back as given. A mapping keeps its type,
    a namedtuple its type, a tuple becomes a list.

    Example:
        >>> import tapegrad
        >>> from tapegrad.utils.data import default_collate
        >>> default_collate([(tapegrad.ones(2), 0), (tapegrad.zeros(2), 1)])
        [tensor([[1., 1.],
                [0., 0.]]), tensor([0, 1])]
        >>> default_collate([0.5, 1.5]).dtype
        tapegrad.float64
    """
    if not batch:
        raise ValueError("default_collate: cannot collate an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        from ..ops.joining import stack
        return stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "SaUO":           # PyTorch refuses arrays of strings and objects
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        from .._creation import as_tensor
        return default_collate([as_tensor(b) for b in batch])
    if isinstance(elem, (np.bool_, np.number, np.object_)):
        from .._creation import tensor
        return tensor(np.asarray(batch))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, float):
        from .._creation import tensor
        return tensor(batch, dtype=np.float64)
    if isinstance(elem, int):                   # bools included: a batch of bools is a bool tensor
        from .._creation import tensor
        return tensor(batch)
    if isinstance(elem, collections.abc.Mapping):
        return _same_mapping(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):      # namedtuple
        return type(elem)(*(default_collate(col) for col in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        n = len(elem)
        if any(len(b) != n for b in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size, got "
                               f"lengths {[len(b) for b in batch]}")
        cols = [default_collate(col) for col in zip(*batch)]
        return cols if isinstance(elem, tuple) else _same_sequence(elem, cols)
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_convert(data):
    """Turn NumPy arrays and scalars inside ``data`` into tensors, keeping the structure (PyTorch's rules).

    This is what an unbatched ``DataLoader`` (``batch_size=None``) applies to each sample: tensors stay as
    they are, mappings and namedtuples keep their type, tuples become lists, anything else is returned as is.

    Example:
        >>> import numpy as np
        >>> from tapegrad.utils.data import default_convert
        >>> default_convert((np.zeros(2, dtype=np.float32), 3, "a"))
        [tensor([0., 0.]), 3, 'a']
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)) and not isinstance(data, (np.str_, np.bytes_)):
        if isinstance(data, np.ndarray) and data.dtype.kind in "SaUO":
            return data
        from .._creation import as_tensor
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _same_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _same_sequence(data, [default_convert(d) for d in data])
    return data


def _same_mapping(elem, items):
    """``items`` in a mapping of ``elem``'s type where that type allows it (OrderedDict, defaultdict...)."""
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(items)
            return clone
        return type(elem)(items)
    except TypeError:
        return items


def _same_sequence(elem, items):
    """``items`` in a sequence of ``elem``'s type where that type allows it, else a list."""
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, v in enumerate(items):
                clone[i] = v
            return clone
        return type(elem)(items)
    except TypeError:
        return items


class DataLoader:
    """Iterate over a dataset in (optionally shuffled) minibatches, in this process.

    Args:
        dataset: a ``Dataset`` (anything with ``__getitem__`` and ``__len__``).
        batch_size: samples per batch (default 1); None yields unbatched samples, each passed through
            ``collate_fn`` (default ``default_convert``), as in PyTorch.
        shuffle: draw a new random order every epoch.
        sampler: an iterable of dataset indices (instead of ``shuffle``).
        batch_sampler: an iterable of lists of indices, one list per batch (instead of ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``).
        num_workers: must be 0 (batches come from this process).
        collate_fn: merges a list of samples (default ``default_collate``).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        timeout, worker_init_fn, multiprocessing_context, prefetch_factor, persistent_workers, pin_memory,
            pin_memory_device, in_order: accepted for PyTorch compatibility and checked as PyTorch does; the
            worker options need ``num_workers > 0`` there, so they are refused here.
        generator: an int seed, a ``numpy.random.Generator``, or an object with
            ``initial_seed()`` (what ``tapegrad.manual_seed`` returns); the
            shuffle order then depends only on it. Without it, shuffling uses
            tapegrad's global generator (``tapegrad.manual_seed``).
        seed: the same as an int ``generator``.

    Example:
        >>> import tapegrad
        >>> from tapegrad.utils.data import TensorDataset, DataLoader
        >>> ds = TensorDataset(tapegrad.arange(5.0), tapegrad.arange(5))
        >>> [y.tolist() for _, y in DataLoader(ds, batch_size=2)]
        [[0, 1], [2, 3], [4]]
        >>> len(DataLoader(ds, batch_size=2, drop_last=True))
        2
        >>> [y.tolist() for _, y in DataLoader(ds, batch_sampler=[[4, 0], [2]])]
        [[4, 0], [2]]
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True, seed=None):
        # PyTorch's checks, in its order, with its messages
        if num_workers < 0:
            raise ValueError("DataLoader: num_workers option should be non-negative; use num_workers=0 to disable "
                             f"multiprocessing (got num_workers={num_workers})")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got timeout={timeout}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified in multiprocessing; "
                             "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None:
            if drop_last:
                raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually "
                                 "exclusive with drop_last")
        if shuffle:
            n = len(dataset)        # PyTorch's RandomSampler needs a sized, non-empty dataset up front
            if n <= 0:
                raise ValueError(f"DataLoader: num_samples should be a positive integer value, but got "
                                 f"num_samples={n} (shuffle=True over an empty dataset)")
        if batch_size is not None:
            if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
                raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size!r}")
            if not isinstance(drop_last, bool):
                raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last!r}")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError("multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                             f"but got num_workers={num_workers}")
        if num_workers:
            raise NotImplementedError("DataLoader: num_workers > 0 is not supported (batches come from one process)")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: pass either generator= or seed=, not both")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self._rng = _make_rng(generator if generator is not None else seed)
        self._fast = isinstance(dataset, TensorDataset) and collate_fn is None and batch_size is not None

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _indices(self):
        if self.sampler is not None:
            return np.fromiter((int(i) for i in self.sampler), dtype=np.int64)
        n = len(self.dataset)
        if not self.shuffle:
            return None
        if self._rng is not None:
            return self._rng.permutation(n)
        from .._creation import randperm
        return randperm(n).numpy()

    def __iter__(self):
        collate = self.collate_fn or default_collate
        if self.batch_sampler is not None:
            for ids in self.batch_sampler:
                yield collate([self.dataset[int(i)] for i in ids])
            return
        order = self._indices()
        n = len(self.dataset) if order is None else len(order)
        if self.batch_size is None:
            convert = self.collate_fn or default_convert      # PyTorch applies it to each sample
            for i in (range(n) if order is None else order):
                yield convert(self.dataset[int(i)])
            return
        bs = self.batch_size
        stop = n - n % bs if self.drop_last else n
        for start in range(0, stop, bs):
            end = min(start + bs, n)
            if self._fast:
                idx = slice(start, end) if order is None else order[start:end]
                yield [_take(t, idx) for t in self.dataset.tensors]
            else:
                ids = range(start, end) if order is None else order[start:end]
                yield collate([self.dataset[int(i)] for i in ids])


def _make_rng(gen):
    if gen is None:
        return None
    if isinstance(gen, np.random.Generator):
        return gen
    if hasattr(gen, "initial_seed"):
        return np.random.default_rng(int(gen.initial_seed()))
    if isinstance(gen, (int, np.integer)) and not isinstance(gen, bool):
        return np.random.default_rng(int(gen))
    raise TypeError(f"DataLoader: generator must be an int seed, a numpy Generator or a tapegrad generator, "
                    f"got {type(gen).__name__}")
