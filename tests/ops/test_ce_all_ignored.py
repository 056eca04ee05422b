"""cross_entropy when every target is ignored: the mean loss is nan and the gradient is zero, as in PyTorch
(the oracle), on the CPU kernel and on the generic backend formula (what backends without a kernel use)."""
import numpy as np
import pytest

import tapegrad
from tapegrad import backend as B
from tapegrad.backend.base import ArrayBackend


@pytest.fixture(params=["kernel", "generic"])
def ce_path(request, monkeypatch):
    if request.param == "generic":
        monkeypatch.setattr(type(B.CPU_BACKEND), "ce_rows_grad",
                            lambda self, x, t, ignore_index, scale: ArrayBackend.ce_rows_grad(self, x, t, ignore_index,
                                                                                             scale))
    return request.param


@pytest.mark.parametrize("ignore_index", [-100, 1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_target_ignored_gives_nan_loss_and_zero_gradient(ce_path, ignore_index, dtype):
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, 2.0, 0.5], [0.1, -0.2, 0.3]], dtype=dtype)
    t = np.full(2, ignore_index)
    xt, xr = tapegrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss = tapegrad.nn.functional.cross_entropy(xt, tapegrad.tensor(t), ignore_index=ignore_index)
    ref = torch.nn.functional.cross_entropy(xr, torch.tensor(t), ignore_index=ignore_index)
    assert np.isnan(loss.item()) and np.isnan(ref.item())
    loss.backward()
    ref.backward()
    np.testing.assert_array_equal(xt.grad.numpy(), xr.grad.numpy())
    np.testing.assert_array_equal(xt.grad.numpy(), np.zeros_like(x))


def test_some_targets_ignored_mean_over_the_others(ce_path):
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, 2.0, 0.5], [0.1, -0.2, 0.3], [0.7, 0.0, -1.0]])
    t = np.array([2, -100, 0])
    xt, xr = tapegrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss = tapegrad.nn.functional.cross_entropy(xt, tapegrad.tensor(t))
    ref = torch.nn.functional.cross_entropy(xr, torch.tensor(t))
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-12)
    loss.backward()
    ref.backward()
    np.testing.assert_allclose(xt.grad.numpy(), xr.grad.numpy(), rtol=1e-12, atol=1e-15)
