"""The dtypes the CUDA kernels do not cover (float16, uint8, int8, int16) are refused by name on
device='cuda', never computed under a wrong label."""
import numpy as np
import pytest

import tapegrad

NARROW = [tapegrad.float16, tapegrad.uint8, tapegrad.int8, tapegrad.int16]


@pytest.mark.parametrize("dtype", NARROW, ids=str)
def test_narrow_dtypes_are_refused_on_cuda_naming_dtype_and_op(dtype):
    with pytest.raises(NotImplementedError, match=rf"zeros: dtype {dtype.name} .*supported there"):
        tapegrad.zeros(2, dtype=dtype, device="cuda")
    with pytest.raises(NotImplementedError, match=rf"tensor: dtype {dtype.name} .*supported there"):
        tapegrad.tensor([1, 2], dtype=dtype, device="cuda")
    cpu = tapegrad.ones(2, dtype=dtype)
    with pytest.raises(NotImplementedError, match=rf"to_device.*{dtype.name}"):
        cpu.to("cuda")
    x = tapegrad.ones(2, device="cuda")
    with pytest.raises(NotImplementedError, match=rf"astype.*{dtype.name}"):
        x.to(dtype)
    assert x.dtype is tapegrad.float32 and x.tolist() == [1.0, 1.0]


def test_supported_dtypes_still_work_on_cuda():
    for dtype in (tapegrad.float32, tapegrad.float64, tapegrad.int32, tapegrad.int64, tapegrad.bool):
        t = tapegrad.tensor(np.array([1, 0]), dtype=dtype, device="cuda")
        assert t.dtype is dtype and t.cpu().numpy().dtype == dtype.np
    # PyTorch's promotion on the device too: an int tensor with a float32 tensor is float32
    out = tapegrad.tensor([1, 2], device="cuda") * tapegrad.ones(2, device="cuda")
    assert out.dtype is tapegrad.float32 and out.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        tapegrad.tensor([1, 2], device="cuda") // tapegrad.tensor([1, 0], device="cuda")
