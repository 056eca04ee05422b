"""Note [simulated shared arrays] (tapegrad/cuda/_nb.py): under numba's simulator the threads of a block get
one shared array per source line even when the interpreter switches threads inside the look-up."""
import threading
import time

import numpy as np
import pytest

from tapegrad.cuda import _nb

pytestmark = pytest.mark.skipif(not _nb.SIMULATOR, reason="the simulator's shared arrays (tests/test_cuda_simulator.py "
                                                          "runs this file under NUMBA_ENABLE_CUDASIM=1)")


class _SlowNumpy:
    """numpy whose ``empty`` sleeps, so every thread reaches the look-up before the first store."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def empty(*args, **kwargs):
        time.sleep(0.01)
        return np.empty(*args, **kwargs)


def test_the_threads_of_a_block_share_one_array_per_line(monkeypatch):
    from numba.cuda.simulator import kernelapi
    monkeypatch.setattr(kernelapi, "np", _SlowNumpy())
    shared = kernelapi.FakeCUDAShared(0)
    got, start = [], threading.Barrier(8)

    def thread():
        start.wait()
        a = shared.array(4, np.float32)
        b = shared.array(4, np.float32)     # another line: another array
        got.append((a, b))
    ts = [threading.Thread(target=thread) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len({id(a) for a, _ in got}) == 1 and len({id(b) for _, b in got}) == 1
    assert got[0][0] is not got[0][1]


def test_a_row_softmax_reduction_in_shared_memory_is_exact_on_every_launch():
    import tapegrad
    x = tapegrad.zeros(1, 1, device="cuda")
    for _ in range(20):
        assert tapegrad.softmax(x, dim=1).cpu().numpy().tolist() == [[1.0]]
