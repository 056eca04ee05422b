"""tapegrad.amp on device='cuda': GradScaler on CUDA parameters (scale, unscale_, inf/nan checks, skipped
steps, growth and backoff) against the same steps on the CPU; autocast("cuda") in float16 with torch's CUDA
op lists, and with the scaler against torch; a bfloat16 region is refused by name (no bfloat16 on CUDA)."""
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


def test_cuda_autocast_bfloat16_says_the_device_lacks_the_dtype_and_stays_float32():
    x = tapegrad.ones(2, 2, device="cuda")
    with pytest.warns(UserWarning, match=r"CUDA backend has no bfloat16 tensors"):
        region = tapegrad.autocast("cuda", dtype=tapegrad.bfloat16)
    with region:
        assert not tapegrad.amp.is_autocast_enabled("cuda")
        assert (x @ x).dtype is tapegrad.float32 and (x @ x).device.type == "cuda"


def _regions():
    return [lambda: tapegrad.autocast("cuda"), lambda: tapegrad.autocast("cuda", dtype=tapegrad.float16),
            lambda: tapegrad.amp.autocast("cuda"), lambda: tapegrad.cuda.amp.autocast()]


@pytest.mark.parametrize("make", range(4), ids=["autocast", "autocast-float16", "amp.autocast",
                                                 "cuda.amp.autocast"])
def test_cuda_autocast_runs_torch_cuda_op_lists(make):
    torch = pytest.importorskip("torch")
    F = tapegrad.nn.functional
    x = tapegrad.randn(3, 4, device="cuda")
    w = tapegrad.randn(2, 4, device="cuda", requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        region = _regions()[make]()
    with region:
        assert tapegrad.amp.is_autocast_enabled("cuda") and not tapegrad.amp.is_autocast_enabled("cpu")
        y = F.linear(x, w)
        mm = x @ x.t()
        got = {"linear": y.dtype, "matmul": mm.dtype, "bmm": tapegrad.bmm(x[None], x.t()[None]).dtype,
               "softmax": F.softmax(y, 1).dtype, "log_softmax": F.log_softmax(y, 1).dtype,
               "layer_norm": F.layer_norm(y, (2,)).dtype, "exp": y.exp().dtype, "log": y.abs().log().dtype,
               "sum": y.sum().dtype, "cumsum": y.cumsum(1).dtype, "relu": F.relu(y).dtype,
               "add": (y + y).dtype, "mse_loss": F.mse_loss(y, y.detach() * 0).dtype,
               "cross_entropy": F.cross_entropy(y, tapegrad.tensor([0, 1, 1], device="cuda")).dtype,
               "cpu matmul": (x.cpu() @ x.cpu().t()).dtype}
        loss = y.float().sum()
    # torch's CUDA autocast on the same ops (read from its op lists; torch here has no CUDA to run them)
    h, f = tapegrad.float16, tapegrad.float32
    want = {"linear": h, "matmul": h, "bmm": h, "softmax": f, "log_softmax": f, "layer_norm": f, "exp": f,
            "log": f, "sum": f, "cumsum": f, "relu": h, "add": h, "mse_loss": f, "cross_entropy": f,
            "cpu matmul": f}
    assert got == want
    assert y.device.type == "cuda"
    loss.backward()
    assert w.grad.dtype is tapegrad.float32 and w.grad.device.type == "cuda"
    want = np.repeat(x.cpu().numpy().sum(0, keepdims=True), 2, 0)      # d sum(x @ w.T) / dw
    np.testing.assert_allclose(w.grad.cpu().numpy(), want, rtol=5e-3, atol=5e-3)
    assert (x @ x.t()).dtype is tapegrad.float32                 # outside the region


def _mlp_steps(lib, device, autocast, scaler, data, params, steps=4):
    """A two-layer MLP trained with SGD under a float16 region (or by hand-written casts for torch)."""
    w1, b1, w2, b2 = [lib.tensor(p, device=device, requires_grad=True) for p in params]
    opt = lib.optim.SGD([w1, b1, w2, b2], lr=0.5)
    F = lib.nn.functional
    losses = []
    for xb, yb in data:
        x, y = lib.tensor(xb, device=device), lib.tensor(yb, device=device)
        with autocast():
            if lib is tapegrad:
                h = lib.tanh(F.linear(x, w1, b1))       # smooth: no relu kink for rounding to flip
                out = F.linear(h, w2, b2)
            else:                    # torch CUDA autocast's casts, written out on the CPU
                h = lib.tanh(F.linear(x.half(), w1.half(), b1.half()))
                out = F.linear(h, w2.half(), b2.half())
            loss = F.cross_entropy(out.float() if lib is not tapegrad else out, y)
        opt.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
    return losses, [p.detach().cpu().numpy() for p in (w1, b1, w2, b2)], scaler.get_scale()


def test_mlp_under_cuda_autocast_and_grad_scaler_matches_torch_float16_matmuls_on_cpu():
    torch = pytest.importorskip("torch")
    import contextlib
    rng = np.random.default_rng(0)
    params = [(rng.standard_normal(s) * 0.5).astype(np.float32) for s in ((8, 5), (8,), (3, 8), (3,))]
    data = [(rng.standard_normal((6, 5)).astype(np.float32), rng.integers(0, 3, 6))] * 4     # one batch, 4 steps
    ours = _mlp_steps(tapegrad, "cuda", lambda: tapegrad.autocast("cuda"),
                      tapegrad.amp.GradScaler("cuda", init_scale=2.0 ** 10, growth_interval=2), data, params)
    ref = _mlp_steps(torch, "cpu", contextlib.nullcontext,
                     torch.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=2), data, params)
    np.testing.assert_allclose(ours[0], ref[0], rtol=5e-3, atol=5e-3)
    for a, b in zip(ours[1], ref[1]):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=5e-3, atol=5e-3)
    assert ours[2] == ref[2]
    assert ours[0][-1] < ours[0][0]              # it trains
