"""The CPU LSTM scan kernels (Note [LSTM scan kernels]) against the backend-generic loop of ``LSTMScan``."""
import numpy as np
import pytest

import tapegrad
from tapegrad.nn.modules import _rnn_scan


def _run(monkeypatch, kernels, dtype, reverse, seed=0):
    if not kernels:
        monkeypatch.setattr(_rnn_scan, "_cpu_kernels", lambda *a: None)
    rng = np.random.default_rng(seed)
    T, B, H = 5, 3, 4
    xp = tapegrad.tensor(rng.standard_normal((T, B, 4 * H)).astype(dtype), requires_grad=True)
    w = tapegrad.tensor((0.5 * rng.standard_normal((4 * H, H))).astype(dtype), requires_grad=True)
    b = tapegrad.tensor(rng.standard_normal(4 * H).astype(dtype), requires_grad=True)
    h0 = tapegrad.tensor(rng.standard_normal((B, H)).astype(dtype), requires_grad=True)
    c0 = tapegrad.tensor(rng.standard_normal((B, H)).astype(dtype), requires_grad=True)
    out, h, c = _rnn_scan.LSTMScan.apply(xp, w, b, h0, c0, reverse)
    # a broadcast gradient for out (its sum) and dense ones for the states
    loss = out.sum() + (h * tapegrad.tensor(rng.standard_normal((B, H)).astype(dtype))).sum() + (c * c).sum()
    loss.backward()
    monkeypatch.undo()
    return [t.detach().numpy() for t in (out, h, c)] + [t.grad.numpy() for t in (xp, w, b, h0, c0)]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernels_match_the_generic_loop(monkeypatch, dtype, reverse):
    got = _run(monkeypatch, True, dtype, reverse)
    want = _run(monkeypatch, False, dtype, reverse)
    tol = 1e-12 if dtype == np.float64 else 2e-5
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def test_kernels_are_used_for_numpy_floats():
    x = np.zeros((2, 3), np.float32)
    assert _rnn_scan._cpu_kernels(tapegrad.backend.CPU_BACKEND, x, x) is not None
    assert _rnn_scan._cpu_kernels(tapegrad.backend.CPU_BACKEND, x, x.astype(np.float64)) is None
    assert _rnn_scan._cpu_kernels(tapegrad.backend.CPU_BACKEND, x.astype(np.float16)) is None
