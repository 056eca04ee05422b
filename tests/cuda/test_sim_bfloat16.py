"""bfloat16 on device='cuda': numba has no bfloat16 kernels, so every way of making one there raises
NotImplementedError naming bfloat16 and the dtypes the device supports (never a silent float32)."""
import pytest

import tapegrad

BF16 = "bfloat16 .*supported there: .*float32"


def test_bfloat16_is_refused_on_cuda_by_name():
    cpu = tapegrad.ones(2, dtype=tapegrad.bfloat16)
    for make in (lambda: cpu.to("cuda"), lambda: cpu.cuda(),
                 lambda: tapegrad.zeros(2, dtype=tapegrad.bfloat16, device="cuda"),
                 lambda: tapegrad.tensor([1.0], dtype=tapegrad.bfloat16, device="cuda"),
                 lambda: tapegrad.randn(2, dtype=tapegrad.bfloat16, device="cuda"),
                 lambda: tapegrad.ones(2, device="cuda").to(tapegrad.bfloat16),
                 lambda: tapegrad.ones(2, device="cuda").bfloat16()):
        with pytest.raises(NotImplementedError, match=BF16):
            make()
    assert cpu.dtype is tapegrad.bfloat16 and cpu.device.type == "cpu"
