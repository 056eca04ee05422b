"""DataLoader with worker processes: same batches as in-process loading, torch's seeding, errors, deaths,
timeouts, shutdown, persistent workers, iterable datasets, and the spawn start method.

Every test runs under a SIGALRM guard (a hang fails the test instead of stalling the suite), and loaders that
are expected to fail pass ``timeout=`` as well. Two workers and tiny datasets keep each test quick.
"""
import gc
import os
import signal
import time

import numpy as np
import pytest

import tapegrad
from tapegrad.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info

GUARD_S = 40


@pytest.fixture(autouse=True)
def _hang_guard():
    def fail(signum, frame):
        raise TimeoutError(f"test still running after {GUARD_S} s: a DataLoader hang")
    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(GUARD_S)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


class Rows(Dataset):
    """Sample i: (a float32 row, i, a float64 scalar, a bool), the same in every process."""

    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return tapegrad.full((3,), float(i)), i, 0.5 * i, i % 2 == 0


class WhoAmI(Dataset):
    """Sample i: i, the worker's id, num_workers, seed, a tapegrad draw and a NumPy draw made in the worker."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        info = get_worker_info()
        return (i, info.id, info.num_workers, info.seed, type(info.dataset).__name__,
                float(tapegrad.rand(1).item()), float(np.random.rand()))


class Failing(Dataset):
    def __init__(self, how):
        self.how = how

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            if self.how == "raise":
                raise ValueError(f"bad sample {i}")
            if self.how == "exit":
                os._exit(3)
            if self.how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.how == "sleep":
                time.sleep(5)
            if self.how == "non-leaf":
                w = tapegrad.ones(1, requires_grad=True)
                return w * 2
        return tapegrad.tensor(float(i))


def _flat(batches):
    out = []
    for b in batches:
        out.append([x.tolist() if hasattr(x, "tolist") else x for x in b])
    return out


# ------------------------------------------------------------------ results
@pytest.mark.parametrize("kw", [dict(batch_size=3), dict(batch_size=4, drop_last=True),
                                dict(batch_size=3, shuffle=True, generator=tapegrad.Generator().manual_seed(1)),
                                dict(batch_size=None)], ids=["batched", "drop_last", "shuffle", "unbatched"])
def test_worker_batches_equal_single_process_batches(kw):
    def run(workers):
        if "generator" in kw:
            kw["generator"].manual_seed(1)
        loader = DataLoader(Rows(), num_workers=workers, **kw)
        return list(loader) + list(loader)          # two epochs: the shuffle does not depend on num_workers
    single, multi = run(0), run(2)
    assert _flat(single) == _flat(multi)
    b0, m0 = single[0], multi[0]
    if kw.get("batch_size"):
        assert [x.dtype for x in m0] == [x.dtype for x in b0] == [tapegrad.float32, tapegrad.int64,
                                                                  tapegrad.float64, tapegrad.bool]


def test_tensor_dataset_in_workers_and_order_is_kept_under_uneven_work():
    class Slow(Rows):
        def __getitem__(self, i):
            if i < 3:
                time.sleep(0.15)        # worker 0 finishes after worker 1: results must still come in order
            return super().__getitem__(i)
    assert _flat(DataLoader(Slow(12), batch_size=3, num_workers=2)) == _flat(DataLoader(Slow(12), batch_size=3))
    x = tapegrad.arange(20.0).reshape(10, 2)
    ds = TensorDataset(x, tapegrad.arange(10))
    got = [b for b in DataLoader(ds, batch_size=4, num_workers=2)]
    assert [b[1].tolist() for b in got] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert np.array_equal(got[1][0].numpy(), x.numpy()[4:8])


def test_out_of_order_mode_returns_every_batch():
    batches = list(DataLoader(Rows(9), batch_size=2, num_workers=2, in_order=False))
    assert sorted(i for b in batches for i in b[1].tolist()) == list(range(9))


# ------------------------------------------------------------------ seeding and worker info
def test_worker_info_and_per_worker_seeds_follow_torch():
    from tapegrad.utils.data._utils.worker import generate_state
    inits = []
    loader = DataLoader(WhoAmI(), batch_size=None, num_workers=2, generator=tapegrad.Generator().manual_seed(3),
                        worker_init_fn=lambda wid: inits.append(wid))
    rows = list(loader)
    assert [r[0] for r in rows] == list(range(6))
    assert {r[1] for r in rows} == {0, 1} and {r[2] for r in rows} == {2}
    assert {r[4] for r in rows} == {"WhoAmI"}
    seeds = {r[1]: r[3] for r in rows}
    base = seeds[0]
    assert seeds[1] == base + 1                                 # torch: base_seed + worker_id
    # the base seed is the first int64 drawn from the loader's generator, as torch draws it
    g = tapegrad.Generator().manual_seed(3)
    assert base == int(tapegrad.randint(0, 2 ** 63 - 1, (), generator=g).item())
    # each worker's tapegrad and NumPy streams start from its seed
    for wid in (0, 1):
        first = next(r for r in rows if r[1] == wid)
        tapegrad.manual_seed(base + wid)
        assert first[5] == float(tapegrad.rand(1).item())
        np.random.seed(generate_state(base, wid))
        assert first[6] == np.random.rand()
    assert inits == []                                          # worker_init_fn ran in the workers, not here
    assert get_worker_info() is None


def test_worker_init_fn_runs_once_in_each_worker():
    class InitSeen(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return get_worker_info().dataset.init_id

    def init(wid):
        get_worker_info().dataset.init_id = 100 + wid
    got = [int(b) for b in DataLoader(InitSeen(), batch_size=None, num_workers=2, worker_init_fn=init)]
    assert got == [100, 101, 100, 101]


def test_numpy_seeds_match_torchs_generate_state():
    torch = pytest.importorskip("torch")
    from torch.utils.data._utils.worker import _generate_state
    from tapegrad.utils.data._utils.worker import generate_state
    for base, wid in [(0, 0), (1, 3), (2 ** 40 + 7, 1), (2 ** 63 - 2, 5)]:
        assert generate_state(base, wid) == _generate_state(base, wid)
    assert torch is not None


# ------------------------------------------------------------------ errors, deaths, timeouts
def test_a_worker_error_is_raised_here_with_the_workers_traceback():
    it = iter(DataLoader(Failing("raise"), batch_size=2, num_workers=2, timeout=20))
    assert next(it).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError) as info:
        for _ in it:
            pass
    text = str(info.value)
    assert "Caught ValueError in DataLoader worker process 0" in text
    assert "Traceback (most recent call last)" in text and "bad sample 5" in text and "__getitem__" in text
    _close(it)


class Unpicklable(Dataset):
    def __init__(self, how):
        self.how = how

    def __len__(self):
        return 2

    def __getitem__(self, i):
        class LocalError(Exception):
            pass
        if self.how == "error":
            raise LocalError(f"local failure {i}")
        return lambda: i


def test_results_that_cannot_be_pickled_come_back_as_errors_not_hangs():
    with pytest.raises(RuntimeError, match="(?s)LocalError cannot be pickled.*local failure 0"):
        list(DataLoader(Unpicklable("error"), batch_size=None, num_workers=2, timeout=20))
    with pytest.raises(Exception, match="(?s)sending its batch back.*pickle"):
        list(DataLoader(Unpicklable("lambda"), batch_size=None, num_workers=2, timeout=20))


def test_a_non_leaf_tensor_that_requires_grad_cannot_cross_as_torch():
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor"):
        list(DataLoader(Failing("non-leaf"), batch_size=None, num_workers=2, timeout=20))


@pytest.mark.parametrize("how,code", [("exit", 3), ("kill", -signal.SIGKILL)])
def test_a_dead_worker_is_reported_with_its_exit_code_not_a_hang(how, code):
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly") as info:
        list(DataLoader(Failing(how), batch_size=2, num_workers=2, timeout=20))
    assert "worker 0 (pid" in str(info.value) and f"exit code {code}" in str(info.value)
    assert time.monotonic() - start < 10


def test_timeout_raises_as_torch():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.5 seconds"):
        list(DataLoader(Failing("sleep"), batch_size=2, num_workers=2, timeout=0.5))
    assert time.monotonic() - start < 8


# ------------------------------------------------------------------ lifetime
def _close(it):
    workers = list(it._workers)
    it._shutdown_workers()
    assert not any(w.is_alive() for w in workers)


def test_workers_stop_when_the_iterator_is_exhausted_or_deleted():
    it = iter(DataLoader(Rows(6), batch_size=2, num_workers=2))
    workers = list(it._workers)
    assert len(list(it)) == 3
    assert not any(w.is_alive() for w in workers)
    it = iter(DataLoader(Rows(6), batch_size=2, num_workers=2))
    next(it)
    workers = list(it._workers)
    assert all(w.is_alive() for w in workers)
    del it
    gc.collect()
    deadline = time.monotonic() + 5
    while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(w.is_alive() for w in workers)


def test_persistent_workers_serve_every_epoch():
    loader = DataLoader(Rows(7), batch_size=3, num_workers=2, persistent_workers=True)
    first = _flat(loader)
    pids = [w.pid for w in loader._iterator._workers]
    second = _flat(loader)
    assert first == second == _flat(DataLoader(Rows(7), batch_size=3))
    assert [w.pid for w in loader._iterator._workers] == pids and all(w.is_alive() for w in loader._iterator._workers)
    _close(loader._iterator)


@pytest.mark.parametrize("prefetch", [1, 3])
def test_prefetch_factor_bounds_the_tasks_in_flight(prefetch):
    it = iter(DataLoader(Rows(20), batch_size=1, num_workers=2, prefetch_factor=prefetch))
    assert it._send_idx == 2 * prefetch                       # prefetch_factor batches per worker ahead
    next(it)
    assert it._send_idx == 2 * prefetch + 1
    _close(it)


# ------------------------------------------------------------------ iterable datasets and spawn
class Stream(IterableDataset):
    def __init__(self, n, shard):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = get_worker_info()
        if self.shard and info is not None:
            return iter(range(info.id, self.n, info.num_workers))
        return iter(range(self.n))


def test_iterable_dataset_sharded_by_worker_info():
    got = [b.tolist() for b in DataLoader(Stream(9, True), batch_size=2, num_workers=2)]
    assert sorted(i for b in got for i in b) == list(range(9))
    # without sharding every worker yields the whole stream (as in torch)
    dup = [i for b in DataLoader(Stream(5, False), batch_size=2, num_workers=2) for i in b.tolist()]
    assert sorted(dup) == sorted(list(range(5)) * 2)


def test_iterable_dataset_with_persistent_workers_restarts_each_epoch():
    loader = DataLoader(Stream(5, True), batch_size=None, num_workers=2, persistent_workers=True)
    assert sorted(int(x) for x in loader) == list(range(5))
    assert sorted(int(x) for x in loader) == list(range(5))
    _close(loader._iterator)


def test_spawn_start_method_works():
    x = tapegrad.arange(8.0).reshape(4, 2)
    loader = DataLoader(TensorDataset(x, tapegrad.arange(4)), batch_size=2, num_workers=1,
                        multiprocessing_context="spawn", timeout=30)
    got = list(loader)
    assert [b[1].tolist() for b in got] == [[0, 1], [2, 3]]
    assert np.array_equal(got[1][0].numpy(), x.numpy()[2:])
