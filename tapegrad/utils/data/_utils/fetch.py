"""Fetchers: turn one index (or list of indices) from the sampler into one batch, in this process or a worker.

A ``TensorDataset`` batched with ``default_collate`` is gathered with one ``take`` per tensor instead of
fetching rows one by one and stacking them: the per-batch cost does not grow with the batch size in Python
terms, and the result equals the generic path's.
"""
import numpy as np

from ...._tensor import Tensor
from ..dataset import TensorDataset
from .collate import default_collate

MAP, ITERABLE = 0, 1        # dataset kinds (torch's _DatasetKind.Map / Iterable)


def _take(t, idx):
    """Rows ``idx`` of ``t`` as a new tensor (a data copy: batches never alias the dataset).

    A dataset tensor that requires grad is indexed through the recorded op, so the batch keeps its history
    (as a PyTorch batch, stacked from ``t[i]``, does).
    """
    if t.requires_grad:
        from ...._creation import tensor
        return t[tensor(np.asarray(idx, dtype=np.int64)).to(t.device)]
    be = t._backend
    return Tensor._make(be.take(t._data, be.from_numpy(np.asarray(idx, dtype=np.int64)), axis=0), None)


class MapFetcher:
    """``collate_fn([dataset[i] for i in batch])``, or ``collate_fn(dataset[i])`` without auto-collation."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.gather = auto_collation and isinstance(dataset, TensorDataset) and collate_fn is default_collate

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.gather:
            return [_take(t, [int(i) for i in index]) for t in self.dataset.tensors]
        many = getattr(self.dataset, "__getitems__", None)
        data = many(index) if many else [self.dataset[i] for i in index]
        return self.collate_fn(data)


class IterableFetcher:
    """The next sample (or the next ``len(batch)`` samples) of the dataset's iterator; StopIteration at its end."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset_iter = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
    return (MapFetcher if kind == MAP else IterableFetcher)(dataset, auto_collation, collate_fn, drop_last)
