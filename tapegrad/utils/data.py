"""``Dataset``, ``TensorDataset`` and ``DataLoader``, as in ``torch.utils.data``.

A ``DataLoader`` over a ``TensorDataset`` takes each batch with one gather per
tensor instead of fetching samples one by one and stacking them: the
per-batch cost is independent of the batch size in Python terms.
"""
import numpy as np

from .. import backend as B
from .._tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "DataLoader", "default_collate"]


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
    """Rows ``idx`` of ``t`` as a new tensor (a data copy: batches never alias the dataset)."""
    be = B.BY_TYPE[type(t._data)]
    if isinstance(idx, slice):
        return Tensor._make(be.copy(be.getitem(t._data, idx)), None)
    return Tensor._make(be.take(t._data, be.from_numpy(idx), axis=0), None)


def default_collate(batch):
    """Stack a list of samples into a batch, recursing through tuples, lists and dicts.

    Tensors are stacked along a new first dimension; Python ints become int64,
    floats the default float dtype, bools bool.

    Example:
        >>> import tapegrad
        >>> from tapegrad.utils.data import default_collate
        >>> default_collate([(tapegrad.ones(2), 0), (tapegrad.zeros(2), 1)])
        [tensor([[1., 1.],
                [0., 0.]]), tensor([0, 1])]
    """
    if not batch:
        raise ValueError("default_collate: cannot collate an empty batch")
    first = batch[0]
    if isinstance(first, Tensor):
        arrays = [b._data for b in batch]
        be = B.BY_TYPE[type(arrays[0])]
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1:
            raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, got {sorted(shapes)}")
        return Tensor._make(be.stack(arrays, axis=0), None)
    if isinstance(first, (bool, int, float, np.generic, np.ndarray)):
        from .._creation import tensor
        return tensor(np.asarray(batch) if isinstance(first, np.ndarray) else batch)
    if isinstance(first, dict):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, (tuple, list)):
        if len({len(b) for b in batch}) != 1:
            raise RuntimeError("default_collate: each element in the batch should be of equal size")
        return [default_collate(list(col)) for col in zip(*batch)]
    if isinstance(first, str):
        return list(batch)
    raise TypeError(f"default_collate: batch must contain tensors, numbers, dicts or lists; found "
                    f"{type(first).__name__}")


class DataLoader:
    """Iterate over a dataset in (optionally shuffled) minibatches.

    Args:
        dataset: a ``Dataset`` (anything with ``__getitem__`` and ``__len__``).
        batch_size: samples per batch (default 1); None yields unbatched samples.
        shuffle: draw a new random order every epoch.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        collate_fn: merges a list of samples (default ``default_collate``).
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
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, generator=None, *, seed=None):
        if batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool)
                                       or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size!r}")
        if sampler is not None or batch_sampler is not None:
            raise NotImplementedError("DataLoader: custom samplers are not supported; use shuffle= and generator=")
        if num_workers:
            raise NotImplementedError("DataLoader: num_workers > 0 is not supported (batches come from one process)")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: pass either generator= or seed=, not both")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = generator
        self._rng = _make_rng(generator if generator is not None else seed)
        self._fast = isinstance(dataset, TensorDataset) and collate_fn is None and batch_size is not None

    def __len__(self):
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self, n):
        if not self.shuffle:
            return None
        if self._rng is not None:
            return self._rng.permutation(n)
        from .._creation import randperm
        return randperm(n).numpy()

    def __iter__(self):
        n = len(self.dataset)
        order = self._order(n)
        if self.batch_size is None:
            for i in (range(n) if order is None else order):
                yield self.dataset[int(i)]
            return
        bs = self.batch_size
        stop = n - n % bs if self.drop_last else n
        collate = self.collate_fn or default_collate
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
