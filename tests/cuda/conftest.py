"""CUDA tests: ``test_sim_*`` files need kernels to run, on a GPU or under numba's simulator.

They are collected only when ``NUMBA_ENABLE_CUDASIM=1`` (set before numba is
imported, so in their own process: tests/test_cuda_simulator.py launches it)
or when a real GPU is present — the same files then run unchanged on it.
"""
import os
import sys

import pytest


def _kernels_can_run():
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"):
        return True
    import tapegrad
    return tapegrad.cuda.is_available()


collect_ignore_glob = [] if _kernels_can_run() else ["test_sim_*.py"]

if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"):
    # The simulator runs each CUDA thread as a Python thread and polls them while they wait at
    # syncthreads; with the default 5 ms GIL switch interval every barrier round costs milliseconds.
    # A 0.5 ms interval makes the simulated suite about 4x faster (this process only runs these tests).
    sys.setswitchinterval(5e-4)


@pytest.fixture
def be():
    import tapegrad.cuda
    return tapegrad.cuda._backend_or_raise()
