"""What runs inside a DataLoader worker process, and how batches cross back (torch's ``_utils.worker``).

Note [tensors across processes]: tapegrad tensors refuse ordinary pickling (``tapegrad.save`` is the file
format), but multiprocessing's own pickler (``ForkingPickler``, used for queues and for a spawned worker's
arguments) is taught here to send a tensor as its NumPy array, dtype, device and ``requires_grad``: a copy,
as torch's (shared-memory) tensors are to their receiver. A non-leaf tensor that requires grad is refused
with torch's error, since its history cannot cross. A worker pickles each result itself before putting it on
the queue, so a result that cannot be pickled comes back as that worker's error instead of being lost in the
queue's feeder thread (which would leave the main process waiting).
"""
import os
import pickle
import queue
import random
import sys
import traceback
from multiprocessing.reduction import ForkingPickler

import numpy as np

from ...._tensor import Tensor

__all__ = ["WorkerInfo", "get_worker_info"]

# How often a waiting worker checks that its parent is alive, and the main process that its workers are.
STATUS_CHECK_INTERVAL = 0.25


def _rebuild_tensor(array, device_type, requires_grad):
    from .... import backend as B
    t = Tensor._make(B.get(device_type).from_numpy(array), None)
    t._requires_grad = requires_grad
    return t


def _reduce_tensor(t):
    if t.requires_grad and t.grad_fn is not None:
        raise RuntimeError("Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd "
                           "does not support crossing process boundaries.  If you just want to transfer the "
                           "data, call detach() on the tensor before serializing (e.g., putting it on the queue).")
    return _rebuild_tensor, (t._backend.to_numpy(t._data), t.device.type, t.requires_grad)


ForkingPickler.register(Tensor, _reduce_tensor)


def dumps(obj):
    """``obj`` pickled as queues pickle it (tensors as arrays, Note [tensors across processes])."""
    return bytes(ForkingPickler.dumps(obj, pickle.HIGHEST_PROTOCOL))


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: ``id``, ``num_workers``, ``seed``, ``dataset``.

    The dataset is the worker's own copy; ``seed`` is ``base_seed + id`` (the worker's tapegrad and
    ``random`` seed). Attributes cannot be changed.

    Example:
        >>> from tapegrad.utils.data import get_worker_info
        >>> from tapegrad.utils.data._utils.worker import WorkerInfo
        >>> info = WorkerInfo(id=1, num_workers=2, seed=7, dataset=None)
        >>> info.id, info.num_workers, info.seed
        (1, 2, 7)
        >>> get_worker_info() is None      # not in a worker
        True
    """

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id, num_workers, seed, dataset):   # noqa: A002  (torch's field name)
        for k, v in (("id", id), ("num_workers", num_workers), ("seed", seed), ("dataset", dataset)):
            object.__setattr__(self, k, v)

    def __setattr__(self, key, val):
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, dataset={self.dataset!r})"


_worker_info = None


def get_worker_info():
    """Inside a DataLoader worker, its ``WorkerInfo``; None in the main process.

    An ``IterableDataset`` uses it to give each worker its own share of the samples.

    Example:
        >>> from tapegrad.utils.data import get_worker_info
        >>> print(get_worker_info())
        None
    """
    return _worker_info


class ExceptionWrapper:
    """An exception caught in a worker, carried as its type and formatted traceback (torch's)."""

    def __init__(self, exc_info=None, where="in background"):
        exc_info = exc_info or sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:       # an exception type that wants other arguments
            raise RuntimeError(msg) from None
        raise exc


class _KeyErrorMessage(str):
    """KeyError calls repr() on its argument; show the traceback readably instead (torch's workaround)."""

    def __repr__(self):
        return self


class IterableStop:
    """A worker's iterable dataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class ResumeIteration:
    """Sent to persistent workers at the start of each new epoch."""


def generate_state(base_seed, worker_id):
    """torch's NumPy seed for a worker: four 32-bit words hashed from ``base_seed`` and ``worker_id``.

    Example:
        >>> len(generate_state(0, 1))
        4
    """
    mask = 0xFFFFFFFF
    hash_a = [0x43B0D7E5]

    def hash32(value):
        value = (value ^ hash_a[0]) & mask
        hash_a[0] = (hash_a[0] * 0x931E8875) & mask
        value = (value * hash_a[0]) & mask
        return (value ^ (value >> 16)) & mask

    def mix(x, y):
        r = (((0xCA01F9DD * x) & mask) - ((0x4973F715 * y) & mask)) & mask
        return (r ^ (r >> 16)) & mask

    pool = [hash32(e) for e in (worker_id, base_seed & mask, base_seed >> 32, 0)]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hash32(pool[src]))
    hash_b, state = 0x8B51F9DD, []
    for v in pool:
        v = (v ^ hash_b) & mask
        hash_b = (hash_b * 0x58F38DED) & mask
        v = (v * hash_b) & mask
        state.append((v ^ (v >> 16)) & mask)
    return state


def _seed_worker(base_seed, worker_id):
    import tapegrad
    seed = base_seed + worker_id
    random.seed(seed)
    tapegrad.manual_seed(seed)
    np.random.seed(generate_state(base_seed, worker_id))
    return seed


def worker_loop(kind, dataset, index_queue, data_queue, done_event, auto_collation, collate_fn, drop_last,
                base_seed, init_fn, worker_id, num_workers):
    """Serve ``(task index, sampler index)`` pairs from ``index_queue`` until told to stop (None).

    Results go to ``data_queue`` as pickled ``(task index, batch or ExceptionWrapper)``; ``ResumeIteration``
    restarts the fetcher (persistent workers); the loop also ends when the parent process is gone.
    """
    from .fetch import ITERABLE, create_fetcher
    global _worker_info
    try:
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        init_error = fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = ExceptionWrapper(where=where)
        iteration_end = False
        parent = os.getppid()
        while os.getppid() == parent:
            try:
                r = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(r, ResumeIteration):
                data_queue.put(dumps((r, None)))
                iteration_end = False
                if init_error is None:
                    fetcher = create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last)
                continue
            if r is None:
                break
            if done_event.is_set() or iteration_end:
                continue
            idx, index = r
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if kind != ITERABLE:
                        data = ExceptionWrapper(where=where)
                    else:
                        data, iteration_end = IterableStop(worker_id), True
                except Exception:
                    data = ExceptionWrapper(where=where)
            try:
                payload = dumps((idx, data))
            except Exception:
                if isinstance(data, ExceptionWrapper):      # an exception class pickle cannot name: keep the text
                    data.where += f" (as RuntimeError: {data.exc_type.__qualname__} cannot be pickled)"
                    data.exc_type = RuntimeError
                else:
                    data = ExceptionWrapper(where=f"{where} (sending its batch back)")
                payload = dumps((idx, data))
            data_queue.put(payload)
            del data, r, index
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
