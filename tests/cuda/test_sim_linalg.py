"""tapegrad.linalg on the CUDA backend: ops without a kernel raise NotImplementedError naming the op.

The factorizations (inv, solve, det, slogdet, cholesky, qr, svd, eigh) have no
GPU kernel: each must fail on the device, naming the op and the backend
method, and never fall back to a silent copy to the CPU. ``matrix_exp`` is
composed of matmul (Note [matrix_exp] in backend/_linalg.py), so it runs there.
"""
import numpy as np
import pytest

import tapegrad
from tapegrad import linalg

A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.25], [0.5, 0.25, 2.0]])

NO_KERNEL = {
    "linalg_inv": ("inv", lambda A: linalg.inv(A)),
    "linalg_solve": ("solve", lambda A: linalg.solve(A, A)),
    "linalg_det": ("det", lambda A: linalg.det(A)),
    "linalg_slogdet": ("slogdet", lambda A: linalg.slogdet(A)),
    "linalg_cholesky": ("cholesky", lambda A: linalg.cholesky(A)),
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
