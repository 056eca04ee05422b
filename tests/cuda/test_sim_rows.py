"""The fused row kernels on CUDA (Note [fused rows on CUDA] in tapegrad/cuda/kernels/rows.py): one launch
each, equal to the CPU backend's kernels; the conformance rows in tests/backend_cases.py cover the values."""
import numpy as np
import pytest

import tapegrad
import tapegrad.nn.functional as F
from tapegrad.backend import CPU_BACKEND as CPU


def _launches(fn, *args):
    a = tapegrad.cuda.launch_count()
    r = fn(*args)
    return r, tapegrad.cuda.launch_count() - a


def _x(shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).uniform(-3, 3, shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ce_rows_is_one_launch_and_equals_the_cpu(be, dtype):
    x, t = _x((6, 11), dtype), np.array([3, -100, 0, 10, 10, 4])
    xd, td = be.from_numpy(x), be.from_numpy(t)
    (loss, count), n = _launches(be.ce_rows, xd, td, -100)
    assert n == 1
    want, want_count = CPU.ce_rows(x, t, -100)
    assert count == want_count == 5 and loss.dtype == x.dtype
    np.testing.assert_allclose(be.to_numpy(loss), want, rtol=1e-5, atol=1e-6)


def test_ce_rows_grad_takes_a_broadcast_scale_in_one_launch(be):
    x, t = _x((5, 9)), np.array([8, 0, -1, 2, 2])
    g = be.from_numpy(np.array(0.25, np.float32))
    scale = be.broadcast_to(g, (5,))                  # stride 0, as the cross-entropy VJP passes it
    got, n = _launches(be.ce_rows_grad, be.from_numpy(x), be.from_numpy(t), -1, scale)
    assert n == 1
    want = CPU.ce_rows_grad(x, t, -1, np.full(5, 0.25, np.float32))
    np.testing.assert_allclose(be.to_numpy(got), want, rtol=1e-5, atol=1e-7)
    assert not be.to_numpy(got)[2].any()              # the ignored row


def test_float16_rows_compute_in_float32(be):
    x = _x((4, 10), np.float16)
    t = np.array([1, 9, 0, 5])
    ref = x.astype(np.float32)
    loss, count = be.ce_rows(be.from_numpy(x), be.from_numpy(t), -100)
    assert loss.dtype == np.float16 and count == 4
    np.testing.assert_allclose(be.to_numpy(loss), CPU.ce_rows(ref, t, -100)[0].astype(np.float16), rtol=2e-3)
    sm, n = _launches(be.softmax_rows, be.from_numpy(x))
    assert n == 1 and sm.dtype == np.float16
    np.testing.assert_allclose(be.to_numpy(sm), CPU.softmax_rows(ref).astype(np.float16), rtol=2e-3, atol=1e-4)
    gr = be.ce_rows_grad(be.from_numpy(x), be.from_numpy(t), -100, be.from_numpy(np.ones(4, np.float16)))
    np.testing.assert_allclose(be.to_numpy(gr), CPU.ce_rows_grad(ref, t, -100, np.ones(4, np.float32))
                               .astype(np.float16), rtol=2e-3, atol=1e-3)


def test_a_class_out_of_range_raises_naming_it(be):
    x = be.from_numpy(_x((3, 4)))
    with pytest.raises(IndexError, match=r"Target 7 is out of bounds for 4 classes \(input shape \(3, 4\)\)"):
        be.ce_rows(x, be.from_numpy(np.array([0, 7, 1])), -100)


def test_cross_entropy_and_softmax_on_cuda_launch_few_kernels_and_equal_the_cpu():
    x, t = _x((5, 7)), np.array([0, 6, 3, 3, 1])
    xc = tapegrad.tensor(x, requires_grad=True)
    xg = tapegrad.tensor(x, device="cuda", requires_grad=True)
    lc = F.cross_entropy(xc, tapegrad.tensor(t))
    lg, n_fwd = _launches(F.cross_entropy, xg, tapegrad.tensor(t, device="cuda"))
    assert n_fwd == 3                                 # the rows, their sum, the mean's division
    lc.backward()
    _, n_bwd = _launches(lg.backward)
    # the gradient seed, the mean's count (!=, sum, maximum, cast, divide) and one kernel for the rows
    assert n_bwd == 7
    np.testing.assert_allclose(lg.item(), lc.item(), rtol=1e-6)
    np.testing.assert_allclose(xg.grad.cpu().numpy(), xc.grad.numpy(), rtol=1e-5, atol=1e-7)
    sg, n = _launches(F.softmax, tapegrad.tensor(x, device="cuda"), -1)
    assert n == 1
    np.testing.assert_allclose(sg.cpu().numpy(), F.softmax(tapegrad.tensor(x), -1).numpy(), rtol=1e-6, atol=1e-7)
