"""Tensors on device='cuda': moves, device errors, gradients through ops, an MLP step vs the CPU."""
import numpy as np
import pytest

import tapegrad


def test_moves_and_device_mixing_error():
    x = tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]], device="cuda")
    assert x.is_cuda and x.device.type == "cuda"
    assert x.cpu().device.type == "cpu" and x.to("cuda") is x
    np.testing.assert_array_equal(x.cpu().numpy(), [[1, 2], [3, 4]])
    assert tapegrad.ones(2).cuda().is_cuda
    with pytest.raises(RuntimeError, match="cpu and cuda|cuda and cpu"):
        x + tapegrad.ones(2, 2)


def test_gradients_match_cpu():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4,))
    grads = {}
    for device in ("cpu", "cuda"):
        x = tapegrad.tensor(a, device=device, requires_grad=True)
        w = tapegrad.tensor(b, device=device, requires_grad=True)
        y = ((x * w).tanh() / (1 + x.exp()) - x ** 2).sum(dim=0)
        z = (tapegrad.matmul(x, w) + y.mean()).sum()
        z.backward()
        grads[device] = (z.item(), x.grad.cpu().numpy(), w.grad.cpu().numpy())
    for c, g in zip(grads["cpu"], grads["cuda"]):
        np.testing.assert_allclose(g, c, rtol=1e-10, atol=1e-12)


def test_from_foreign_cuda_array_interface_is_zero_copy():
    src = tapegrad.tensor([1.0, 2.0, 3.0, 4.0], device="cuda")

    class Foreign:                                   # what a CuPy/PyTorch CUDA array exposes
        __cuda_array_interface__ = src._data[::2].__cuda_array_interface__
    t = tapegrad.as_tensor(Foreign())
    assert t.is_cuda and t.tolist() == [1.0, 3.0]
    src._data[0:1] += 10.0                           # shared memory: the change shows through
    assert t.tolist() == [11.0, 3.0]
    assert tapegrad.cuda.from_dlpack(Foreign()).tolist() == [11.0, 3.0]


def test_memory_stats_track_live_arrays():
    import gc
    tapegrad.cuda.empty_cache()
    base = tapegrad.cuda.memory_allocated()
    x = tapegrad.zeros(256, device="cuda")
    assert tapegrad.cuda.memory_allocated() == base + 1024
    assert tapegrad.cuda.max_memory_allocated() >= base + 1024
    del x
    gc.collect()
    assert tapegrad.cuda.memory_allocated() == base


def test_mlp_training_step_matches_cpu():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(6, 5)).astype(np.float32), rng.normal(size=(6, 2)).astype(np.float32)
    W1, W2 = rng.normal(size=(5, 7)).astype(np.float32), rng.normal(size=(7, 2)).astype(np.float32)
    out = {}
    for device in ("cpu", "cuda"):
        w1 = tapegrad.tensor(W1, device=device, requires_grad=True)
        w2 = tapegrad.tensor(W2, device=device, requires_grad=True)
        x, y = tapegrad.tensor(X, device=device), tapegrad.tensor(Y, device=device)
        losses = []
        for _ in range(3):
            h = tapegrad.matmul(x, w1)
            h = h * (h > 0)
            loss = ((tapegrad.matmul(h, w2) - y) ** 2).mean()
            loss.backward()
            with tapegrad.no_grad():
                for w in (w1, w2):
                    w -= 0.05 * w.grad
                    w.grad = None
            losses.append(loss.item())
        out[device] = (losses, w1.detach().cpu().numpy())
    np.testing.assert_allclose(out["cuda"][0], out["cpu"][0], rtol=1e-5)
    np.testing.assert_allclose(out["cuda"][1], out["cpu"][1], rtol=1e-5, atol=1e-6)
