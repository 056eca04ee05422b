"""``DataLoader``, as ``torch.utils.data.dataloader``: batches from a dataset, in this process or in workers.

A loader turns its sampler's indices into batches with a fetcher (``_utils/fetch.py``): in this process when
``num_workers == 0``, else in worker processes (``_utils/multiprocessing_iter.py``, ``_utils/worker.py``).
"""
import multiprocessing
import os
import sys
import warnings

import numpy as np

from . import sampler as S
from ._utils import collate as _collate
from ._utils import worker as _worker
from ._utils.fetch import ITERABLE, MAP, create_fetcher
from .dataset import IterableDataset

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert"]

default_collate = _collate.default_collate
default_convert = _collate.default_convert
get_worker_info = _worker.get_worker_info


class _InfiniteConstantSampler(S.Sampler):
    """The sampler of an iterable dataset: None forever (the dataset decides when to stop)."""

    def __iter__(self):
        while True:
            yield None


def _as_generator(generator, seed):
    """A ``tapegrad.Generator`` from ``generator=`` (tapegrad also takes an int seed or a NumPy Generator) or
    ``seed=``; None stays None (the default generator)."""
    from ..._generator import Generator
    if generator is not None and seed is not None:
        raise ValueError("DataLoader: pass either generator= or seed=, not both")
    gen = generator if generator is not None else seed
    if gen is None or isinstance(gen, Generator):
        return gen
    if isinstance(gen, np.random.Generator):
        return Generator().manual_seed(int(gen.integers(2 ** 63)))
    if isinstance(gen, (int, np.integer)) and not isinstance(gen, bool):
        return Generator().manual_seed(int(gen))
    raise TypeError(f"DataLoader: generator must be a tapegrad.Generator, an int seed or a numpy Generator, "
                    f"got {type(gen).__name__}")


class DataLoader:
    """Iterate over a dataset in (optionally shuffled) minibatches, in this process or in worker processes.

    Args:
        dataset: a map-style ``Dataset`` (``__getitem__``/``__len__``) or an ``IterableDataset``.
        batch_size: samples per batch (default 1); None yields unbatched samples, each passed through
            ``collate_fn`` (default ``default_convert``).
        shuffle: a new random order every epoch (a ``RandomSampler``).
        sampler: an iterable of dataset indices (instead of ``shuffle``).
        batch_sampler: an iterable of lists of indices (instead of ``batch_size``, ``shuffle``, ``sampler``
            and ``drop_last``).
        num_workers: worker processes fetching batches (0: this process). Workers start with the platform's
            ``fork`` on Linux unless ``multiprocessing_context`` names another start method.
        collate_fn: merges a list of samples (default ``default_collate``).
        pin_memory, pin_memory_device: accepted for PyTorch compatibility (no pinned memory here).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        timeout: seconds to wait for a batch from the workers before a RuntimeError (0: no limit).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding it.
        multiprocessing_context: a start method name or a ``multiprocessing`` context.
        generator: the ``tapegrad.Generator`` shuffling and worker seeds draw from (tapegrad also takes an
            int seed or a ``numpy.random.Generator``); default: the global generator.
        prefetch_factor: batches each worker works ahead (default 2 with workers).
        persistent_workers: keep the workers between epochs.
        in_order: return batches in sampler order (else as the workers finish them).
        seed: tapegrad's shorthand for an int ``generator``.

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

    _DataLoader__initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True, seed=None):
        # torch's checks, in its order, with its messages
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        generator = _as_generator(generator, seed)
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        if isinstance(dataset, IterableDataset):
            self._dataset_kind = ITERABLE
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
                                 f"got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = MAP
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        if sampler is None:
            if self._dataset_kind == ITERABLE:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = S.RandomSampler(dataset, generator=generator)
            else:
                sampler = S.SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = S.BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterator = None
        self.__initialized = True
        self.check_worker_number_rationality()

    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, ctx):
        if ctx is not None:
            if self.num_workers <= 0:
                raise ValueError("multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
            if isinstance(ctx, str):
                methods = multiprocessing.get_all_start_methods()
                if ctx not in methods:
                    raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                                     f"{methods!r}, but got multiprocessing_context={ctx!r}")
                ctx = multiprocessing.get_context(ctx)
            if not isinstance(ctx, multiprocessing.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context object or a string "
                                f"specifying the start method, but got multiprocessing_context={ctx}")
        self.__multiprocessing_context = ctx

    def _mp_context(self):
        if self.multiprocessing_context is not None:
            return self.multiprocessing_context
        if sys.platform.startswith("linux"):
            return multiprocessing.get_context("fork")
        return multiprocessing.get_context()

    def __setattr__(self, attr, val):
        if self.__initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                           "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def _get_iterator(self):
        base_seed = S._random_seed(self.generator)     # drawn per iterator, as torch (workers seed from it)
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        from ._utils.multiprocessing_iter import MultiProcessingIter
        return MultiProcessingIter(self, base_seed)

    def __len__(self):
        if self._dataset_kind == ITERABLE:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)

    def check_worker_number_rationality(self):
        """Warn (as torch) when ``num_workers`` exceeds the CPUs this process may use.

        Example:
            >>> from tapegrad.utils.data import DataLoader
            >>> DataLoader(range(3), num_workers=0).check_worker_number_rationality()
        """
        if not self.num_workers:
            return
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        if cpus is None or self.num_workers > cpus:
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in total. Our suggested "
                          f"max number of worker in current system is {cpus}, which is smaller than what this "
                          "DataLoader is going to create. Please be aware that excessive worker creation might get "
                          "DataLoader running slow or even freeze, lower the worker number to avoid potential "
                          "slowness/freeze if necessary.", stacklevel=2)


class _SingleProcessIter:
    """Batches fetched in this process, one per ``next``."""

    def __init__(self, loader):
        self._index_sampler = loader._index_sampler
        self._sampler_iter = iter(self._index_sampler)
        self._fetcher = create_fetcher(loader._dataset_kind, loader.dataset, loader._auto_collation,
                                       loader.collate_fn, loader.drop_last)

    def __iter__(self):
        return self

    def __next__(self):
        return self._fetcher.fetch(next(self._sampler_iter))

    def __len__(self):
        return len(self._index_sampler)
