"""The iterator of a DataLoader with ``num_workers > 0`` (torch's ``_MultiProcessingDataLoaderIter``).

Each worker process has its own index queue; all share one result queue. The iterator keeps
``prefetch_factor * num_workers`` tasks outstanding, hands tasks to workers round robin, and with
``in_order`` buffers results that arrive early so batches come back in sampler order. While it waits it
checks every ``STATUS_CHECK_INTERVAL`` seconds that its workers are alive, so a worker that dies turns into
a RuntimeError naming it and its exit code rather than a hang; ``timeout`` bounds each wait.
"""
import itertools
import pickle
import queue

from . import worker as W
from .fetch import ITERABLE


class MultiProcessingIter:
    def __init__(self, loader, base):
        self._loader_state(loader, base)
        self._prefetch = loader.prefetch_factor
        self._in_order = loader.in_order
        ctx = loader._mp_context()
        self._result_queue = ctx.Queue()
        self._done_event = ctx.Event()
        self._shutdown = False
        self._index_queues, self._workers = [], []
        self._active = []
        try:
            for i in range(self._num_workers):
                iq = ctx.Queue()
                iq.cancel_join_thread()
                w = ctx.Process(target=W.worker_loop, args=(
                    self._kind, self._dataset, iq, self._result_queue, self._done_event, self._auto_collation,
                    self._collate_fn, self._drop_last, self._base_seed, loader.worker_init_fn, i,
                    self._num_workers))
                w.daemon = True
                self._index_queues.append(iq)
                self._active.append(True)
                self._workers.append(w)
                w.start()           # under spawn this pickles the dataset: it may fail
        except BaseException:
            self._workers = [w for w in self._workers if w.pid is not None]
            self._shutdown_workers()
            raise
        self._reset(loader, first_iter=True)

    def _loader_state(self, loader, base):
        self._dataset, self._kind = loader.dataset, loader._dataset_kind
        self._auto_collation, self._drop_last = loader._auto_collation, loader.drop_last
        self._collate_fn, self._timeout = loader.collate_fn, loader.timeout
        self._num_workers, self._persistent = loader.num_workers, loader.persistent_workers
        self._index_sampler, self._base_seed = loader._index_sampler, base

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._index_sampler)

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._send_idx = self._rcvd_idx = 0
        self._task_info = {}            # task index -> (worker id,) while outstanding, (worker id, data) when early
        self._outstanding = 0
        self._active = [True] * self._num_workers
        self._worker_tasks = [0] * self._num_workers
        self._cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            for q in self._index_queues:
                q.put(W.ResumeIteration())
            pending = self._num_workers
            while pending:
                idx, _ = self._get_data()
                if isinstance(idx, W.ResumeIteration):
                    pending -= 1
        for _ in range(self._prefetch * self._num_workers):
            self._try_put_index()

    # ---------------------------------------------------------------- receiving
    def _try_get_data(self, timeout):
        try:
            return True, pickle.loads(self._result_queue.get(timeout=timeout))
        except queue.Empty:
            dead = [(i, w) for i, w in enumerate(self._workers) if self._active[i] and not w.is_alive()]
            if dead:
                self._shutdown_workers()
                pids = ", ".join(str(w.pid) for _, w in dead)
                which = "; ".join(f"worker {i} (pid {w.pid}) exit code {w.exitcode}" for i, w in dead)
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly: {which}") from None
            return False, None

    def _get_data(self):
        if self._timeout > 0:
            deadline = _Deadline(self._timeout)
            while True:
                ok, data = self._try_get_data(min(W.STATUS_CHECK_INTERVAL, deadline.left()))
                if ok:
                    return data
                if deadline.left() <= 0:
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
        while True:
            ok, data = self._try_get_data(W.STATUS_CHECK_INTERVAL)
            if ok:
                return data

    def __next__(self):
        while True:
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info and (len(info) == 2 or self._active[info[0]]):
                    break
                self._task_info.pop(self._rcvd_idx, None)   # its worker stopped (iterable dataset ended)
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:
                worker_id, data = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process(data, worker_id)
            idx, data = self._get_data()
            self._outstanding -= 1
            if self._kind == ITERABLE and isinstance(data, W.IterableStop):
                if self._persistent:
                    self._active[data.worker_id] = False
                else:
                    self._mark_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if idx != self._rcvd_idx:
                if not self._in_order:
                    return self._process(data, self._task_info.pop(idx)[0])
                self._task_info[idx] += (data,)
            else:
                worker_id = self._task_info.pop(idx)[0]
                self._rcvd_idx += 1
                return self._process(data, worker_id)

    def _process(self, data, worker_id):
        self._worker_tasks[worker_id] -= 1
        self._try_put_index()
        if isinstance(data, W.ExceptionWrapper):
            data.reraise()
        return data

    # ---------------------------------------------------------------- sending
    def _try_put_index(self):
        max_tasks = self._prefetch * self._num_workers
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            w = next(self._cycle)
            if self._active[w] and (self._in_order or self._worker_tasks[w] < max_tasks // sum(self._active)):
                break
        else:
            return
        self._index_queues[w].put((self._send_idx, index))
        self._task_info[self._send_idx] = (w,)
        self._worker_tasks[w] += 1
        self._outstanding += 1
        self._send_idx += 1

    # ---------------------------------------------------------------- shutting down
    def _mark_unavailable(self, worker_id):
        self._index_queues[worker_id].put(None)
        self._active[worker_id] = False

    def _shutdown_workers(self):
        if self._shutdown or W is None:      # W is None while the interpreter tears modules down
            return
        self._shutdown = True
        try:
            self._done_event.set()
            for i in range(len(self._workers)):
                if self._persistent or self._active[i]:
                    self._mark_unavailable(i)
            for w in self._workers:
                w.join(timeout=W.STATUS_CHECK_INTERVAL * 4)
            for q in self._index_queues:
                q.cancel_join_thread()
                q.close()
        finally:
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=W.STATUS_CHECK_INTERVAL * 4)

    def __del__(self):
        if hasattr(self, "_workers"):
            self._shutdown_workers()

    def __getstate__(self):
        raise NotImplementedError(f"{type(self).__name__} cannot be pickled")


class _Deadline:
    def __init__(self, seconds):
        import time
        self._clock = time.monotonic
        self._end = self._clock() + seconds

    def left(self):
        return max(0.0, self._end - self._clock())

