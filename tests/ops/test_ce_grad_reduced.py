"""Cross-entropy's backward for the common case (2-D logits, class indices, no weight, no label smoothing,
'mean' or 'sum'): one backend call, ``ce_rows_grad_reduced``, whose NumPy kernel gives the composed path's
values bit for bit (the scale computed in the logits' dtype, the same row kernel)."""
import numpy as np
import pytest

import tapegrad
import tapegrad.nn.functional as F
from tapegrad.backend import CPU_BACKEND
from tapegrad.backend.base import ArrayBackend

CASES = [((32, 10), -100, "none-ignored"), ((32, 10), 3, "some-ignored"), ((7, 5), 2, "all-ignored"),
         ((0, 4), -100, "no-rows"), ((5, 1), -100, "one-class"), ((6, 4), -100, "transposed")]


def _inputs(shape, ignore_index, kind, dtype):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    t = rng.integers(0, shape[1], shape[0]) if shape[1] > 1 else np.zeros(shape[0], np.int64)
    if kind == "all-ignored":
        t[:] = ignore_index
    if kind == "some-ignored":
        t[::3] = ignore_index
    xt = tapegrad.tensor(np.ascontiguousarray(x.T)).t() if kind == "transposed" else tapegrad.tensor(x)
    return xt.requires_grad_(), tapegrad.tensor(t.astype(np.int64)), x, t


def _grad(x, t, reduction, ignore_index, scale=1.0):
    x.grad = None
    loss = F.cross_entropy(x, t, reduction=reduction, ignore_index=ignore_index)
    (loss * scale).backward()
    return x.grad.numpy().copy()


@pytest.fixture
def calls(monkeypatch):
    seen = []
    orig = type(CPU_BACKEND).ce_rows_grad_reduced

    def counted(self, *a, **k):
        seen.append(a[-1])
        return orig(self, *a, **k)
    monkeypatch.setattr(type(CPU_BACKEND), "ce_rows_grad_reduced", counted)
    return seen


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape,ignore_index,kind", CASES, ids=[c[2] for c in CASES])
def test_fused_backward_equals_the_composed_path_bit_for_bit(shape, ignore_index, kind, reduction, dtype,
                                                             calls, monkeypatch):
    x, t, _, _ = _inputs(shape, ignore_index, kind, dtype)
    fast = _grad(x, t, reduction, ignore_index, scale=0.75)
    assert calls == [reduction == "mean"]                  # one call: the scale and the gradient
    assert type(CPU_BACKEND).__dict__["ce_rows_grad_reduced"] is not ArrayBackend.ce_rows_grad_reduced
    monkeypatch.setattr(type(CPU_BACKEND), "ce_rows_grad_reduced", ArrayBackend.ce_rows_grad_reduced)
    composed = _grad(x, t, reduction, ignore_index, scale=0.75)
    assert fast.dtype == composed.dtype == dtype
    np.testing.assert_array_equal(fast, composed)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape,ignore_index,kind", CASES, ids=[c[2] for c in CASES])
def test_fused_backward_matches_torch(shape, ignore_index, kind, reduction):
    torch = pytest.importorskip("torch")
    x, t, x0, t0 = _inputs(shape, ignore_index, kind, np.float64)
    ours = _grad(x, t, reduction, ignore_index)
    xt = torch.tensor(x0, requires_grad=True)
    torch.nn.functional.cross_entropy(xt, torch.tensor(t0), reduction=reduction, ignore_index=ignore_index).backward()
    np.testing.assert_allclose(ours, xt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_a_gradient_not_of_the_logits_dtype_takes_the_composed_path():
    x = np.random.default_rng(0).standard_normal((4, 3))
    t = np.array([0, 2, 1, 1])
    want = ArrayBackend.ce_rows_grad_reduced(CPU_BACKEND, x, t, -100, np.array(2.0), True)
    for g in (np.array(2.0, np.float32), 2.0):             # not the logits' dtype: the composed arithmetic
        got = CPU_BACKEND.ce_rows_grad_reduced(x, t, -100, g, True)
        np.testing.assert_array_equal(got, ArrayBackend.ce_rows_grad_reduced(CPU_BACKEND, x, t, -100, g, True))
        np.testing.assert_allclose(got, want, rtol=1e-7)
