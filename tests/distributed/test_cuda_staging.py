"""Collectives and DDP on CUDA tensors (staged through host memory), on 2 ranks under numba's CUDA simulator."""
import importlib.util

import pytest

from ._mpirun import mpirun_ok


def test_cuda_tensors_are_staged_through_the_host(tmp_path):
    if importlib.util.find_spec("numba_cuda") is None:
        pytest.skip("the cuda extra (numba-cuda) is not installed")
    results = mpirun_ok("cuda_staging", tmp_path, env={"NUMBA_ENABLE_CUDASIM": "1"}, timeout=90)
    for rank, res in enumerate(results):
        assert res["cuda"] is None, f"rank {rank}: {res['cuda']}"
