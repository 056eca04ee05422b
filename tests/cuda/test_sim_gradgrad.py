"""Grad-of-grad on device='cuda' equals the CPU's, for VJPs that use Python numbers and constants.

A Python number promoted in forward is saved as a NumPy scalar; under ``create_graph`` the engine
used to rebuild it as a CPU tensor, so ``(x * 0.5).sum()`` then grad-of-grad raised "multiply:
expected all tensors on the same device, found cuda and cpu" (Note [constants in VJPs]).
"""
import numpy as np
import pytest

import tapegrad
import tapegrad.nn.functional as F
from tapegrad.ops.graph_math import TENSOR_MATH, lift

_T = np.array([0.0, 1.0, 1.0, 0.0])
_P = np.array([0.3, 0.7, 0.2, 0.55])

CASES = {
    "mul_by_number": lambda x: (x * 0.5 * x).sum(),
    "var": lambda x: x.var(),
    "std": lambda x: x.std(),
    "pow": lambda x: (x ** 3).sum(),
    "mse_loss": lambda x: F.mse_loss(x, tapegrad.tensor(_T, device=x.device)),
    "binary_cross_entropy": lambda x: F.binary_cross_entropy(x, tapegrad.tensor(_T, device=x.device)),
    "cross_entropy": lambda x: F.cross_entropy(x.reshape(2, 2) * 2.0,
                                               tapegrad.tensor([1, 0], device=x.device)),
}


def _second_order(f, device):
    """(first gradient, Hessian-vector product along a fixed direction) of ``f`` at ``_P`` on ``device``."""
    x = tapegrad.tensor(_P, dtype=tapegrad.float64, device=device, requires_grad=True)
    g, = tapegrad.autograd.grad(f(x), x, create_graph=True)
    v = tapegrad.tensor([1.0, -2.0, 0.5, 3.0], dtype=tapegrad.float64, device=device)
    hv, = tapegrad.autograd.grad((g * v).sum(), x)
    assert hv.device.type == device
    return g.detach().cpu().numpy(), hv.cpu().numpy()


@pytest.mark.parametrize("name", sorted(CASES))
def test_grad_of_grad_on_cuda_matches_cpu(name):
    g_cpu, hv_cpu = _second_order(CASES[name], "cpu")
    g_cuda, hv_cuda = _second_order(CASES[name], "cuda")
    np.testing.assert_allclose(g_cuda, g_cpu, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv_cuda, hv_cpu, rtol=1e-10, atol=1e-12)


def test_the_hessian_vector_product_is_the_known_one():
    # d2/dx2 of sum(x**3) is 6x: a check of the values themselves, not only CPU == CUDA.
    _, hv = _second_order(CASES["pow"], "cuda")
    np.testing.assert_allclose(hv, 6 * _P * np.array([1.0, -2.0, 0.5, 3.0]), rtol=1e-12)


def test_lift_puts_constants_on_the_gradient_device_in_both_modes():
    g = tapegrad.ones(2, dtype=tapegrad.float32, device="cuda")
    c = lift(TENSOR_MATH, 0.5, like=g)
    assert (c.device.type, c.dtype, c.requires_grad) == ("cuda", tapegrad.float32, False)
    a = lift(TENSOR_MATH, np.arange(2.0), like=g)       # a host array follows the gradient too
    assert a.device.type == "cuda" and a.tolist() == [0.0, 1.0]
    be = tapegrad.backend.BY_TYPE[type(g._data)]
    raw = lift(be, np.float64(2.0), like=g._data, dtype=tapegrad.float32)
    assert type(raw) is be.array_type and raw.dtype == np.float32


def test_grad_of_grad_through_device_moves():
    # to_device's VJP moves the gradient back in both modes (one F.to_device call, no mode check)
    x = tapegrad.tensor(_P, dtype=tapegrad.float64, requires_grad=True)
    y = (x.to("cuda") ** 3).to("cpu").sum()
    g, = tapegrad.autograd.grad(y, x, create_graph=True)
    assert g.device.type == "cpu" and g.grad_fn is not None
    np.testing.assert_allclose(g.detach().numpy(), 3 * _P ** 2, rtol=1e-12)
    hv, = tapegrad.autograd.grad((g * tapegrad.tensor([1.0, -2.0, 0.5, 3.0], dtype=tapegrad.float64)).sum(), x)
    np.testing.assert_allclose(hv.numpy(), 6 * _P * np.array([1.0, -2.0, 0.5, 3.0]), rtol=1e-12)


@pytest.mark.parametrize("start, hop", [("cpu", "cuda"), ("cuda", "cpu")])
def test_ordinary_backward_through_device_moves(start, hop):
    # the sweep runs each VJP on its own gradient's backend: clamp's VJP calls F.where on the hop device
    x = tapegrad.tensor([0.2, 0.5, 0.9], requires_grad=True, device=start)
    (x.to(hop).clamp(0.3, 0.6) * x.to(hop)).to(start).sum().backward()
    assert x.grad.device.type == start
    np.testing.assert_allclose(x.grad.cpu().numpy(), [0.3, 1.0, 0.6], rtol=1e-6)
