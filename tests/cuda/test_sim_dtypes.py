"""The dtypes on device='cuda' keep their labels (float16, uint8, int8, int16 too), and PyTorch's promotion
holds there."""
import numpy as np
import pytest

import tapegrad

NARROW = [tapegrad.float16, tapegrad.uint8, tapegrad.int8, tapegrad.int16]


@pytest.mark.parametrize("dtype", NARROW, ids=str)
def test_narrow_dtypes_are_stored_on_cuda_under_their_own_label(dtype):
    # (they used to be refused; tests/cuda/test_sim_dtypes_small.py checks their values against torch)
    t = tapegrad.ones(2, dtype=dtype).to("cuda")
    assert t.device.type == "cuda" and t.dtype is dtype and t.cpu().numpy().dtype == dtype.np
    x = tapegrad.ones(2, device="cuda").to(dtype)
    assert x.dtype is dtype and x.tolist() == [1, 1]


def test_supported_dtypes_still_work_on_cuda():
    for dtype in (tapegrad.float32, tapegrad.float64, tapegrad.int32, tapegrad.int64, tapegrad.bool):
        t = tapegrad.tensor(np.array([1, 0]), dtype=dtype, device="cuda")
        assert t.dtype is dtype and t.cpu().numpy().dtype == dtype.np
    # PyTorch's promotion on the device too: an int tensor with a float32 tensor is float32
    out = tapegrad.tensor([1, 2], device="cuda") * tapegrad.ones(2, device="cuda")
    assert out.dtype is tapegrad.float32 and out.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        tapegrad.tensor([1, 2], device="cuda") // tapegrad.tensor([1, 0], device="cuda")
