"""tapegrad.linalg on the CUDA backend: ops without a kernel raise NotImplementedError naming the op.

``inv``, ``solve`` and ``cholesky`` have batched kernels (cuda/kernels/linalg.py)
and must give the CPU's values, gradients and errors. The other factorizations
(det, slogdet, qr, svd, eigh) have none: each must fail on the device, naming
the op and the backend method, and never fall back to a silent copy to the
CPU. ``matrix_exp`` is composed of matmul (Note [matrix_exp] in
backend/_linalg.py), so it runs there.
"""
import numpy as np
import pytest

import tapegrad
from tapegrad import linalg

A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.25], [0.5, 0.25, 2.0]])

NO_KERNEL = {
    "linalg_det": ("det", lambda A: linalg.det(A)),
    "linalg_slogdet": ("slogdet", lambda A: linalg.slogdet(A)),
    "linalg_qr": ("qr", lambda A: linalg.qr(A)),
    "linalg_svd": ("svd", lambda A: linalg.svd(A)),
    "linalg_eigh": ("eigh", lambda A: linalg.eigh(A)),
}


@pytest.mark.parametrize("op", sorted(NO_KERNEL))
def test_factorizations_raise_naming_the_op(op):
    method, fn = NO_KERNEL[op]
    x = tapegrad.tensor(A, device="cuda")
    with pytest.raises(NotImplementedError, match=op) as info:
        fn(x)
    assert repr(method) in str(info.value) and "CUDA" in str(info.value)


def test_matrix_exp_runs_on_the_device():
    x = tapegrad.tensor(A / 4, device="cuda", requires_grad=True)
    y = linalg.matrix_exp(x)
    assert y.device.type == "cuda"
    w = tapegrad.tensor(np.arange(9.0).reshape(3, 3), device="cuda")
    (y * w).sum().backward()
    xc = tapegrad.tensor(A / 4, requires_grad=True)
    yc = linalg.matrix_exp(xc)
    (yc * tapegrad.tensor(np.arange(9.0).reshape(3, 3))).sum().backward()
    np.testing.assert_allclose(y.detach().cpu().numpy(), yc.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(x.grad.cpu().numpy(), xc.grad.numpy(), rtol=1e-10)


B = np.array([[1.0, -2.0], [0.5, 3.0], [2.0, 0.0]])
WITH_KERNEL = {
    "inv": lambda A, B: linalg.inv(A),
    "solve": lambda A, B: linalg.solve(A, B),
    "solve_vector_broadcast": lambda A, B: linalg.solve(A.expand(2, 3, 3), B[:, 0]),
    "cholesky": lambda A, B: linalg.cholesky(A),
    "inverse_transposed": lambda A, B: tapegrad.inverse(A.mT * 2),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(WITH_KERNEL))
def test_kernels_match_the_cpu(name, dtype):
    dt = getattr(tapegrad, dtype)
    outs, grads = [], []
    for device in ("cpu", "cuda"):
        a = tapegrad.tensor(A, dtype=dt, device=device, requires_grad=True)
        b = tapegrad.tensor(B, dtype=dt, device=device, requires_grad=True)
        y = WITH_KERNEL[name](a, b)
        w = tapegrad.tensor(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)), dtype=dt, device=device)
        (y * w).sum().backward()
        assert y.device.type == device and y.dtype == dt
        outs.append(y.detach().cpu().numpy())
        grads.append((a.grad.cpu().numpy(), None if b.grad is None else b.grad.cpu().numpy()))
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(outs[1], outs[0], rtol=tol, atol=tol)
    for g_gpu, g_cpu in zip(grads[1], grads[0]):
        if g_cpu is not None:
            np.testing.assert_allclose(g_gpu, g_cpu, rtol=tol, atol=tol)


@pytest.mark.parametrize("fn,word", [(lambda x: linalg.inv(x), "singular"), (lambda x: linalg.solve(x, x), "singular"),
                                     (lambda x: linalg.cholesky(x - 2 * tapegrad.eye(2, device="cuda")),
                                      "positive-definite")])
def test_kernel_errors_are_linalg_errors(fn, word):
    x = tapegrad.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 4.0]]], device="cuda")
    with pytest.raises(linalg.LinAlgError, match=word):
        fn(x)
