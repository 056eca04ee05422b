"""Collectives across 2 MPI ranks on every dtype and reduction (one job; each check reported apart)."""
import subprocess
import sys

import pytest

from ._mpirun import ROOT, mpirun_ok
from .workers.collectives import DTYPES, OPS


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return mpirun_ok("collectives", tmp_path_factory.mktemp("collectives"))


CHECKS = ([f"all_reduce-{d}-{o}" for d in DTYPES for o in OPS] +
          [f"{c}-{d}" for d in DTYPES for c in ("broadcast", "all_gather", "gather_scatter_reduce")] +
          ["non_contiguous", "zero_d_and_async", "requires_grad_leaf_and_errors"])


@pytest.mark.parametrize("check", CHECKS)
def test_collective_on_both_ranks(results, check):
    for rank, res in enumerate(results):
        assert check in res, f"rank {rank} did not run {check}"
        assert res[check] is None, f"rank {rank}: {res[check]}"


def test_importing_tapegrad_distributed_does_not_import_mpi4py():
    code = ("import sys, tapegrad, tapegrad.distributed, tapegrad.nn.parallel\n"
            "assert tapegrad.distributed.is_available()\n"
            "print('mpi4py' in sys.modules, tapegrad.distributed.is_initialized())")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]


def test_without_mpi4py_init_names_the_extra():
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] == 'mpi4py': raise ModuleNotFoundError(name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "import tapegrad.distributed as dist\n"
            "try:\n"
            "    dist.init_process_group('mpi')\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert 'pip install "tapegrad[distributed]"' in r.stdout, r.stdout + r.stderr


def test_single_process_group_and_errors():
    pytest.importorskip("mpi4py")
    import tapegrad.distributed as dist
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="backend 'nccl' is not supported"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="init_method 'tcp://10.0.0.1:23456' is not supported"):
        dist.init_process_group("mpi", init_method="tcp://10.0.0.1:23456")
    with pytest.raises(ValueError, match="world_size=4 but MPI says 1"):
        dist.init_process_group("mpi", world_size=4)
    assert not dist.is_initialized()
    dist.init_process_group("mpi", world_size=1, rank=0)
    try:
        with pytest.raises(ValueError, match="twice"):
            dist.init_process_group("mpi")
        assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
    finally:
        dist.destroy_process_group()
