"""CPU-only check: every kernel family compiles to PTX for sm_90 (no GPU needed, only the NVVM wheels).

It catches typing errors the simulator misses (it does no type inference), float64 instructions
leaking into float32 kernels (a bare Python float literal), and local-memory spills.

Compiling is CPU-bound and the large matmul tile alone takes about half the time, so the
signatures are compiled by two forked workers, slowest first; every signature is still compiled
and checked.
"""
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor

import pytest

pytestmark = pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"),
                                reason="compile_ptx needs the real CUDA target, not the simulator")

_SIGNATURES = []        # filled before forking: generated kernels cannot be pickled, indices can


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


def test_every_kernel_compiles_for_sm90_without_f64_or_spills():
    from tapegrad.cuda.kernels.signatures import all_signatures
    _SIGNATURES[:] = all_signatures()
    # The biggest generated kernels (the matmul tiles) first, so the two workers finish together.
    order = sorted(range(len(_SIGNATURES)), key=lambda i: not _SIGNATURES[i][0].startswith("matmul"))
    if "fork" in multiprocessing.get_all_start_methods():
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_check, order))
    else:
        results = [_check(i) for i in order]
    problems = [p for r in results for p in r]
    assert len(results) == len(_SIGNATURES)
    assert not problems, "\n".join(problems)
