"""CUDA tests: ``test_sim_*`` files need kernels to run, on a GPU or under numba's simulator.

They are collected only when ``NUMBA_ENABLE_CUDASIM=1`` (set before numba is
imported, so in their own process: tests/test_cuda_simulator.py launches it)
or when a real GPU is present — the same files then run unchanged on it.
"""
import os

import pytest


def _kernels_can_run():
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"):
        return True
    import tapegrad
    return tapegrad.cuda.is_available()


collect_ignore_glob = [] if _kernels_can_run() else ["test_sim_*.py"]


@pytest.fixture
def be():
    import tapegrad.cuda
    return tapegrad.cuda._backend_or_raise()
