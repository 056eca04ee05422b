"""tapegrad.amp on device='cuda': GradScaler on CUDA parameters (scale, unscale_, inf/nan checks, skipped
steps, growth and backoff) against the same steps on the CPU; autocast("cuda") names what it cannot do yet
(the CUDA backend has no float16 or bfloat16 tensors) and leaves the region in float32."""
import warnings

import numpy as np
import pytest

import tapegrad


def _train(device, coeffs):
    w = tapegrad.tensor([1.0, -2.0, 0.5], device=device, requires_grad=True)
    opt = tapegrad.optim.SGD([w], lr=0.1)
    scaler = tapegrad.amp.GradScaler(device, init_scale=4.0, growth_interval=2)
    trace = []
    for c in coeffs:
        loss = (w * tapegrad.tensor(c, device=device)).sum()
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        grad = w.grad.cpu().numpy().copy()
        scaler.step(opt)
        scaler.update()
        opt.zero_grad()
        trace.append((scaler.get_scale(), w.detach().cpu().numpy().copy(), grad))
    return trace


def test_grad_scaler_on_cuda_parameters_matches_the_cpu():
    inf = float("inf")
    coeffs = [[1.0, 2.0, 3.0], [inf, 1.0, 1.0], [0.5, 0.5, 0.5], [1.0, 1.0, 1.0], [float("nan"), 0.0, 0.0],
              [2.0, 2.0, 2.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # the simulated device counts as CUDA: the scaler stays enabled
        cuda = _train("cuda", coeffs)
    cpu = _train("cpu", coeffs)
    for (s1, w1, g1), (s2, w2, g2) in zip(cuda, cpu):
        assert s1 == s2
        np.testing.assert_array_equal(w1, w2)
        np.testing.assert_array_equal(g1, g2)
    assert [s for s, _, _ in cuda] == [4.0, 2.0, 2.0, 4.0, 2.0, 2.0]     # backoff on inf/nan, growth every 2


def test_cuda_amp_grad_scaler_alias_runs_on_cuda_parameters():
    w = tapegrad.ones(2, device="cuda", requires_grad=True)
    opt = tapegrad.optim.SGD([w], lr=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # torch.cuda.amp.GradScaler is deprecated in torch too
        scaler = tapegrad.cuda.amp.GradScaler(init_scale=8.0)
    scaler.scale((w * 3).sum()).backward()
    assert w.grad.device.type == "cuda" and w.grad.tolist() == [24.0, 24.0]
    scaler.step(opt)
    assert w.detach().tolist() == [-2.0, -2.0]


@pytest.mark.parametrize("dtype", [None, tapegrad.float16, tapegrad.bfloat16], ids=str)
def test_cuda_autocast_says_the_device_lacks_the_dtype_and_stays_float32(dtype):
    x = tapegrad.ones(2, 2, device="cuda")
    with pytest.warns(UserWarning, match=r"CUDA backend has no (float16|bfloat16) tensors"):
        region = tapegrad.autocast("cuda", dtype=dtype)
    with region:
        assert not tapegrad.amp.is_autocast_enabled("cuda")
        assert (x @ x).dtype is tapegrad.float32 and (x @ x).device.type == "cuda"
