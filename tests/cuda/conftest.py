"""CUDA tests: ``test_sim_*`` files need kernels to run, on a GPU or under numba's simulator.

They are collected only when ``NUMBA_ENABLE_CUDASIM=1`` (set before numba is
imported, so in their own processes: tests/test_cuda_simulator.py launches one
per file, or per shard of a big file) or when a real GPU is present — the same
files then run unchanged on it. Without the ``cuda`` extra (numba-cuda) none of
them is collected, and tests/test_cuda_simulator.py skips.

``TAPEGRAD_TEST_SHARD=i/n`` keeps every n-th collected test starting at the i-th
(the launcher splits a big file that way; the n shards together run all of it).
"""
import importlib.util
import os
import sys

import pytest


def _simulated():
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def _kernels_can_run():
    if importlib.util.find_spec("numba_cuda") is None:
        return False                    # no cuda extra: numba's own deprecated CUDA target is not used
    if _simulated():
        return True
    import tapegrad
    return tapegrad.cuda.is_available()


collect_ignore_glob = [] if _kernels_can_run() else ["test_sim_*.py"]

if _simulated():
    # The simulator runs each CUDA thread as a Python thread and polls them while they wait at
    # syncthreads; with the default 5 ms GIL switch interval every barrier round costs milliseconds.
    # A 0.5 ms interval makes the simulated suite about 4x faster (this process only runs these tests).
    sys.setswitchinterval(5e-4)


def pytest_collection_modifyitems(config, items):
    shard = os.environ.get("TAPEGRAD_TEST_SHARD")
    if not shard:
        return
    i, n = (int(v) for v in shard.split("/"))
    keep = [it for k, it in enumerate(items) if k % n == i]
    config.hook.pytest_deselected(items=[it for k, it in enumerate(items) if k % n != i])
    items[:] = keep


@pytest.fixture
def be():
    import tapegrad.cuda
    return tapegrad.cuda._backend_or_raise()
