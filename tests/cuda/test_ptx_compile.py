"""CPU-only check: every kernel family compiles to PTX for sm_90 (no GPU needed, only the NVVM wheels).

It catches typing errors the simulator misses (it does no type inference), float64 instructions
leaking into float32 kernels (a bare Python float literal), and local-memory spills.

The signatures are dealt round-robin into ``N_SHARDS`` visible tests (the two matmul tiles, the
slowest by far, into different ones), each compiled by two forked workers; together the shards
compile and check every signature.
"""
import functools
import importlib.util
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor

import pytest

pytestmark = [
    pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"),
                       reason="compile_ptx needs the real CUDA target, not the simulator"),
    pytest.mark.skipif(importlib.util.find_spec("numba_cuda") is None,
                       reason='the cuda extra (numba-cuda) is not installed: pip install "tapegrad[cuda]"'),
]

N_SHARDS = 8
_SIGNATURES = []        # filled before forking: generated kernels cannot be pickled, indices can


@functools.lru_cache(maxsize=None)
def _ordered_signatures():
    from tapegrad.cuda.kernels.signatures import all_signatures
    # The biggest generated kernels (the matmul tiles) first, so that round-robin puts them in different shards.
    return tuple(sorted(all_signatures(), key=lambda s: not s[0].startswith("matmul")))


def _check(i):
    """Compile signature ``i``; returns the problems found (empty when the PTX is clean)."""
    from numba import cuda
    from tapegrad.cuda.kernels.signatures import LIBDEVICE_TRIG
    name, fn, args, is_f32 = _SIGNATURES[i]
    ptx, _ = cuda.compile_ptx(fn, args, cc=(9, 0))
    if name.split()[1] in LIBDEVICE_TRIG:
        return []                                   # must compile; see LIBDEVICE_TRIG for the exemption
    body = "\n".join(line for line in ptx.splitlines() if not line.lstrip().startswith("//"))
    problems = []
    if is_f32 and re.search(r"\.f64\b", body):
        problems.append(f"{name}: float64 instructions in a float32 kernel")
    if re.search(r"\.local\b", body):
        problems.append(f"{name}: local-memory spill")
    return problems


@pytest.mark.parametrize("shard", range(N_SHARDS), ids=lambda s: f"shard{s + 1}of{N_SHARDS}")
def test_kernels_compile_for_sm90_without_f64_or_spills(shard):
    _SIGNATURES[:] = _ordered_signatures()
    mine = list(range(shard, len(_SIGNATURES), N_SHARDS))    # the shards partition all signatures
    assert mine, f"shard {shard}: no signatures (only {len(_SIGNATURES)} in all)"
    if "fork" in multiprocessing.get_all_start_methods():
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_check, mine))
    else:
        results = [_check(i) for i in mine]
    problems = [p for r in results for p in r]
    assert len(results) == len(mine)
    assert not problems, "\n".join(problems)
