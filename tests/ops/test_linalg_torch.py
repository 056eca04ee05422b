"""tapegrad.linalg against torch.linalg: values, first and second derivatives, errors and dtype rules.

Inputs are well conditioned by construction (``A @ A.T + n I`` for symmetric
positive-definite ones, ``A + n I`` for invertible ones). Losses on
eigenvectors and singular vectors are gauge invariant (squares of their
entries, products that cancel the signs), as PyTorch's gradients require.
"""
import math

import numpy as np
import pytest

import tapegrad
from tapegrad import linalg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(11)


def _arr(shape):
    return RNG.standard_normal(shape)


def spd(shape):
    a = _arr(shape)
    n = shape[-1]
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def invertible(shape):
    return _arr(shape) + shape[-1] * np.eye(shape[-1])


def sym(shape):
    a = _arr(shape)
    return a + np.swapaxes(a, -1, -2)


def _run(fn_t, fn_torch, arrays, loss_weights_seed=3, dtype="float64", order2=True):
    """Values of ``fn(*inputs)`` (a tensor or tuple) and gradients of a weighted sum, in tapegrad and torch."""
    ours = [tapegrad.tensor(a, dtype=getattr(tapegrad, dtype), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True) for a in arrays]
    out_o, out_t = fn_t(*ours), fn_torch(torch, *theirs)
    if not isinstance(out_o, tuple):
        out_o, out_t = (out_o,), (out_t,)
    rng = np.random.default_rng(loss_weights_seed)
    loss_o = loss_t = 0
    for o, t in zip(out_o, out_t):
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-6 if dtype == "float64" else 1e-4,
                                   atol=1e-8 if dtype == "float64" else 1e-4)
        if o.dtype.is_floating_point and o.requires_grad:
            w = rng.standard_normal(tuple(o.shape))
            loss_o = loss_o + (o * tapegrad.tensor(w, dtype=o.dtype)).sum()
            loss_t = loss_t + (t * torch.tensor(w, dtype=t.dtype)).sum()
    g_o = tapegrad.autograd.grad(loss_o, ours, create_graph=order2)
    g_t = torch.autograd.grad(loss_t, theirs, create_graph=order2)
    tol = dict(rtol=1e-6, atol=1e-8) if dtype == "float64" else dict(rtol=2e-3, atol=2e-3)
    for a, b in zip(g_o, g_t):
        assert a.dtype == ours[0].dtype
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)
    if order2 and not any(g.requires_grad for g in g_o):       # a gradient constant in the inputs
        assert all(not g.requires_grad or not bool(g.any()) for g in g_t)
    elif order2:
        h_o = tapegrad.autograd.grad(sum((g * g).sum() for g in g_o), ours)
        h_t = torch.autograd.grad(sum((g * g).sum() for g in g_t), theirs)
        for a, b in zip(h_o, h_t):
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(force=True), rtol=1e-5, atol=1e-7)


def _sq(t):
    return t * t


CASES = {
    "inv": (lambda A: linalg.inv(A), lambda T, A: T.linalg.inv(A), [invertible((2, 3, 3))]),
    "inverse": (lambda A: tapegrad.inverse(A), lambda T, A: T.inverse(A), [invertible((3, 3))]),
    "det": (lambda A: linalg.det(A), lambda T, A: T.linalg.det(A), [invertible((2, 3, 3))]),
    "det_alias": (lambda A: A.det(), lambda T, A: A.det(), [invertible((3, 3))]),
    "slogdet": (lambda A: tuple(linalg.slogdet(A)), lambda T, A: tuple(T.linalg.slogdet(A)), [_arr((2, 3, 3))]),
    "logdet": (lambda A: tapegrad.logdet(A), lambda T, A: T.logdet(A), [spd((2, 3, 3))]),
    "solve": (lambda A, B: linalg.solve(A, B), lambda T, A, B: T.linalg.solve(A, B),
              [invertible((2, 3, 3)), _arr((2, 3, 2))]),
    "solve_vector": (lambda A, B: linalg.solve(A, B), lambda T, A, B: T.linalg.solve(A, B),
                     [invertible((2, 3, 3)), _arr((2, 3))]),
    "solve_broadcast": (lambda A, B: linalg.solve(A, B), lambda T, A, B: T.linalg.solve(A, B),
                        [invertible((3, 3)), _arr((4, 3, 2))]),
    "solve_right": (lambda A, B: linalg.solve(A, B, left=False), lambda T, A, B: T.linalg.solve(A, B, left=False),
                    [invertible((3, 3)), _arr((2, 3))]),
    "cholesky": (lambda A: linalg.cholesky(A), lambda T, A: T.linalg.cholesky(A), [spd((2, 3, 3))]),
    "cholesky_upper": (lambda A: linalg.cholesky(A, upper=True), lambda T, A: T.linalg.cholesky(A, upper=True),
                       [spd((3, 3))]),
    "cholesky_alias": (lambda A: tapegrad.cholesky(A), lambda T, A: T.cholesky(A), [spd((4, 4))]),
    "qr": (lambda A: tuple(linalg.qr(A)), lambda T, A: tuple(T.linalg.qr(A)), [_arr((2, 4, 3))]),
    "qr_square": (lambda A: tuple(linalg.qr(A)), lambda T, A: tuple(T.linalg.qr(A)), [_arr((3, 3))]),
    "qr_complete": (lambda A: tuple(linalg.qr(A, mode="complete")),
                    lambda T, A: tuple(T.linalg.qr(A, mode="complete")), [_arr((3, 3))]),
    "eigh": (lambda A: (lambda r: (r[0], _sq(r[1])))(linalg.eigh(A)),
             lambda T, A: (lambda r: (r[0], _sq(r[1])))(T.linalg.eigh(A)), [sym((2, 3, 3))]),
    "eigh_upper": (lambda A: (lambda r: (r[0], _sq(r[1])))(linalg.eigh(A, UPLO="U")),
                   lambda T, A: (lambda r: (r[0], _sq(r[1])))(T.linalg.eigh(A, UPLO="U")), [_arr((3, 3))]),
    "eigvalsh": (lambda A: linalg.eigvalsh(A), lambda T, A: T.linalg.eigvalsh(A), [sym((2, 4, 4))]),
    "svd_tall": (lambda A: (lambda r: (_sq(r[0]), r[1], _sq(r[2])))(linalg.svd(A, full_matrices=False)),
                 lambda T, A: (lambda r: (_sq(r[0]), r[1], _sq(r[2])))(T.linalg.svd(A, full_matrices=False)),
                 [_arr((2, 4, 3))]),
    "svd_wide": (lambda A: (lambda r: (_sq(r[0]), r[1], _sq(r[2])))(linalg.svd(A, full_matrices=False)),
                 lambda T, A: (lambda r: (_sq(r[0]), r[1], _sq(r[2])))(T.linalg.svd(A, full_matrices=False)),
                 [_arr((3, 5))]),
    "svd_square_full": (lambda A: (lambda r: (_sq(r[0]), r[1], _sq(r[2])))(linalg.svd(A)),
                        lambda T, A: (lambda r: (_sq(r[0]), r[1], _sq(r[2])))(T.linalg.svd(A)), [_arr((3, 3))]),
    "svd_product": (lambda A: (lambda r: r[0] @ r[2])(linalg.svd(A, full_matrices=False)),
                    lambda T, A: (lambda r: r[0] @ r[2])(T.linalg.svd(A, full_matrices=False)), [_arr((4, 3))]),
    "svd_torch_alias": (lambda A: (lambda r: r[0] @ r[2].mT)(tapegrad.svd(A)),
                        lambda T, A: (lambda r: r[0] @ r[2].mT)(T.svd(A)), [_arr((2, 3, 4))]),
    "svdvals": (lambda A: linalg.svdvals(A), lambda T, A: T.linalg.svdvals(A), [_arr((2, 4, 3))]),
    "pinv": (lambda A: linalg.pinv(A), lambda T, A: T.linalg.pinv(A), [_arr((2, 4, 3))]),
    "pinv_hermitian": (lambda A: linalg.pinv(A, hermitian=True), lambda T, A: T.linalg.pinv(A, hermitian=True),
                       [spd((3, 3))]),
    "pinverse": (lambda A: tapegrad.pinverse(A), lambda T, A: T.pinverse(A), [_arr((3, 4))]),
    "lstsq": (lambda A, B: linalg.lstsq(A, B).solution, lambda T, A, B: T.linalg.lstsq(A, B).solution,
              [_arr((5, 3)), _arr((5, 2))]),
    "matrix_exp": (lambda A: linalg.matrix_exp(A), lambda T, A: T.linalg.matrix_exp(A), [_arr((2, 3, 3))]),
    "matrix_exp_large": (lambda A: tapegrad.matrix_exp(A), lambda T, A: T.matrix_exp(A), [3 * _arr((3, 3))]),
    "matrix_power": (lambda A: linalg.matrix_power(A, 3), lambda T, A: T.linalg.matrix_power(A, 3),
                     [_arr((2, 3, 3))]),
    "matrix_power_neg": (lambda A: tapegrad.matrix_power(A, -2), lambda T, A: T.matrix_power(A, -2),
                         [invertible((3, 3))]),
    "cross": (lambda a, b: linalg.cross(a, b), lambda T, a, b: T.linalg.cross(a, b), [_arr((4, 3)), _arr((1, 3))]),
    "cross_dim": (lambda a, b: linalg.cross(a, b, dim=0), lambda T, a, b: T.linalg.cross(a, b, dim=0),
                  [_arr((3, 2)), _arr((3, 2))]),
    "multi_dot": (lambda a, b, c: linalg.multi_dot([a, b, c]), lambda T, a, b, c: T.linalg.multi_dot([a, b, c]),
                  [_arr(3), _arr((3, 4)), _arr((4, 2))]),
    "vecdot": (lambda a, b: linalg.vecdot(a, b), lambda T, a, b: T.linalg.vecdot(a, b), [_arr((2, 3)), _arr(3)]),
    "diagonal": (lambda A: linalg.diagonal(A, offset=1), lambda T, A: T.linalg.diagonal(A, offset=1),
                 [_arr((2, 3, 4))]),
    "diagonal_dims": (lambda A: linalg.diagonal(A, offset=-1, dim1=0, dim2=2),
                      lambda T, A: T.linalg.diagonal(A, offset=-1, dim1=0, dim2=2), [_arr((3, 2, 4))]),
}
for _ord in ("fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2):
    CASES[f"matrix_norm_{_ord}"] = (lambda A, o=_ord: linalg.matrix_norm(A, ord=o),
                                    lambda T, A, o=_ord: T.linalg.matrix_norm(A, ord=o), [_arr((2, 3, 4))])
CASES["matrix_norm_dims_keepdim"] = (lambda A: linalg.matrix_norm(A, ord=1, dim=(2, 0), keepdim=True),
                                     lambda T, A: T.linalg.matrix_norm(A, ord=1, dim=(2, 0), keepdim=True),
                                     [_arr((3, 2, 4))])
CASES["matrix_norm_nuc_dims"] = (lambda A: linalg.matrix_norm(A, ord="nuc", dim=(0, 2)),
                                 lambda T, A: T.linalg.matrix_norm(A, ord="nuc", dim=(0, 2)), [_arr((3, 2, 4))])
CASES["norm_default"] = (lambda A: linalg.norm(A), lambda T, A: T.linalg.norm(A), [_arr((2, 3, 4))])
CASES["norm_vector_dim"] = (lambda A: linalg.norm(A, ord=3, dim=1), lambda T, A: T.linalg.norm(A, ord=3, dim=1),
                            [_arr((2, 3))])
CASES["norm_matrix_2d"] = (lambda A: linalg.norm(A, ord=2), lambda T, A: T.linalg.norm(A, ord=2), [_arr((3, 4))])
CASES["vector_norm_inf"] = (lambda A: linalg.vector_norm(A, ord=math.inf, dim=(0, 1)),
                            lambda T, A: T.linalg.vector_norm(A, ord=math.inf, dim=(0, 1)), [_arr((2, 3))])


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name):
    fn, fn_torch, arrays = CASES[name]
    _run(fn, fn_torch, arrays)


@pytest.mark.parametrize("name", ["inv", "solve", "cholesky", "eigh", "svd_tall", "qr", "matrix_exp", "slogdet"])
def test_float32_values_and_gradients(name):
    fn, fn_torch, arrays = CASES[name]
    _run(fn, fn_torch, arrays, dtype="float32", order2=False)
