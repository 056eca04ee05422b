"""Runs tests/cuda under numba's CUDA simulator, one process per file (or per shard of a big file).

``NUMBA_ENABLE_CUDASIM`` is read when numba is imported, so the simulated tests cannot share this
process. One visible test per file (and per shard, see tests/cuda/conftest.py) shows progress and
keeps each under a minute on the 2-core CI machine; the shards of a file together run all of it.
"""
import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CUDA_TESTS = os.path.join(ROOT, "tests", "cuda")
# Files whose simulated run takes longer than ~30 s here, and into how many shards they are cut
# (test_sim_op_db.py: about 35 s of CPU per twelfth; 78-186 s per sixth on the loaded machine).
SHARDS = {"test_sim_op_db.py": 12}

pytestmark = pytest.mark.skipif(importlib.util.find_spec("numba_cuda") is None,
                                reason='the cuda extra (numba-cuda) is not installed: pip install "tapegrad[cuda]"')


def _runs():
    # The sharded (biggest) files first: Note [long tests first] in tests/conftest.py.
    files = sorted((f for f in os.listdir(CUDA_TESTS) if f.startswith("test_sim_") and f.endswith(".py")),
                   key=lambda f: (f not in SHARDS, f))
    return [pytest.param(f, i, n, id=f"{f[:-3]}" + (f"-{i + 1}of{n}" if n > 1 else ""))
            for f in files for n in [SHARDS.get(f, 1)] for i in range(n)]


def _run_simulated(args, shard=None):
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    env.pop("TAPEGRAD_TEST_SHARD", None)
    if shard:
        env["TAPEGRAD_TEST_SHARD"] = shard
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--no-header"] + args,
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.long
@pytest.mark.parametrize("name, shard, n_shards", _runs())
def test_cuda_file_under_simulator(name, shard, n_shards):
    r = _run_simulated([os.path.join("tests", "cuda", name)], f"{shard}/{n_shards}" if n_shards > 1 else None)
    assert r.returncode == 0, f"simulated {name} failed:\n{r.stdout[-8000:]}\n{r.stderr[-4000:]}"
    assert " passed" in r.stdout, r.stdout[-4000:]       # not all skipped


def test_every_simulated_file_is_launched_and_shards_cover_it():
    sharded = [f for f in SHARDS if f not in os.listdir(CUDA_TESTS)]
    assert not sharded, f"SHARDS names files that no longer exist: {sharded}"
    # The shards of a file are disjoint and together run every test in it: count them by collection.
    name = "test_sim_tensors.py"
    counts = []
    for shard in [None, "0/2", "1/2"]:
        r = _run_simulated(["--collect-only", os.path.join("tests", "cuda", name)], shard)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        counts.append(sum(1 for line in r.stdout.splitlines() if "::" in line))
    assert counts[0] > 1 and counts[1] + counts[2] == counts[0] and min(counts[1:]) > 0, counts
