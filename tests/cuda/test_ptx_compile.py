"""CPU-only check: every kernel family compiles to PTX for sm_90 (no GPU needed, only the NVVM wheels).

It catches typing errors the simulator misses (it does no type inference), float64 instructions
leaking into float32 kernels (a bare Python float literal), and local-memory spills.
"""
import os
import re

import pytest

pytestmark = pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"),
                                reason="compile_ptx needs the real CUDA target, not the simulator")


def _signatures():
    from tapegrad.cuda.kernels.signatures import all_signatures
    return all_signatures()


def test_every_kernel_compiles_for_sm90_without_f64_or_spills():
    from numba import cuda
    from tapegrad.cuda.kernels.signatures import LIBDEVICE_TRIG
    problems = []
    for name, fn, args, is_f32 in _signatures():
        if name.split()[1] in LIBDEVICE_TRIG:
            cuda.compile_ptx(fn, args, cc=(9, 0))       # must still compile
            continue
        ptx, _ = cuda.compile_ptx(fn, args, cc=(9, 0))
        body = "\n".join(line for line in ptx.splitlines() if not line.lstrip().startswith("//"))
        if is_f32 and re.search(r"\.f64\b", body):
            problems.append(f"{name}: float64 instructions in a float32 kernel")
        if re.search(r"\.local\b", body):
            problems.append(f"{name}: local-memory spill")
    assert not problems, "\n".join(problems)
