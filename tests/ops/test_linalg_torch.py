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
    "qr_wide": (lambda A: tuple(linalg.qr(A)), lambda T, A: tuple(T.linalg.qr(A)), [_arr((2, 3, 5))]),
    "svd_full_tall": (lambda A: (lambda r: (_sq(r[0]), r[1], _sq(r[2])))(linalg.svd(A)),
                      lambda T, A: (lambda r: (_sq(r[0]), r[1], _sq(r[2])))(T.linalg.svd(A)), [_arr((4, 2))]),
    "svd_full_wide": (lambda A: (lambda r: (_sq(r[0]), r[1], _sq(r[2])))(tapegrad.svd(A, some=False)),
                      lambda T, A: (lambda r: (_sq(r[0]), r[1], _sq(r[2])))(T.svd(A, some=False)), [_arr((2, 3))]),
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


def _both(fn):
    """``fn(module)`` in tapegrad and torch: the exceptions each raised."""
    out = []
    for mod in (tapegrad, torch):
        try:
            fn(mod)
        except Exception as e:      # noqa: BLE001 (the exception is what is compared)
            out.append(e)
        else:
            out.append(None)
    return out


F64 = "float64"
LINALG_ERRORS = {
    "inv_singular": lambda m: m.linalg.inv(m.zeros(2, 2, dtype=m.float64)),
    "inv_batch_singular": lambda m: m.linalg.inv(m.stack([m.eye(2, dtype=m.float64), m.zeros(2, 2, dtype=m.float64)])),
    "solve_singular": lambda m: m.linalg.solve(m.zeros(2, 2, dtype=m.float64), m.ones(2, dtype=m.float64)),
    "cholesky_not_pd": lambda m: m.linalg.cholesky(-m.eye(2, dtype=m.float64)),
    "cholesky_indefinite": lambda m: m.linalg.cholesky(m.tensor([[1.0, 2.0], [2.0, 1.0]])),
}


@pytest.mark.parametrize("name", sorted(LINALG_ERRORS))
def test_singular_and_not_positive_definite_raise_linalg_error(name):
    ours, theirs = _both(LINALG_ERRORS[name])
    assert isinstance(theirs, torch.linalg.LinAlgError)
    assert isinstance(ours, linalg.LinAlgError) and isinstance(ours, RuntimeError)
    op = name.split("_")[0]
    assert f"linalg.{op}" in str(ours)
    assert ("singular" if op != "cholesky" else "positive-definite") in str(ours)


SAME_MESSAGE = {
    "inv_not_square": lambda m: m.linalg.inv(m.ones(2, 3)),
    "det_not_square": lambda m: m.linalg.det(m.ones(3, 2)),
    "eigh_not_square": lambda m: m.linalg.eigh(m.ones(2, 3)),
    "matrix_exp_not_square": lambda m: m.linalg.matrix_exp(m.ones(2, 3)),
    "cholesky_not_square": lambda m: m.linalg.cholesky(m.ones(1, 2, 3)),
    "inv_1d": lambda m: m.linalg.inv(m.ones(2)),
    "slogdet_1d": lambda m: m.linalg.slogdet(m.ones(2)),
    "inv_long": lambda m: m.linalg.inv(m.ones(2, 2, dtype=m.int64)),
    "det_long": lambda m: m.linalg.det(m.ones(2, 2, dtype=m.int64)),
    "cholesky_int": lambda m: m.linalg.cholesky(m.ones(2, 2, dtype=m.int32)),
    "svd_int": lambda m: m.linalg.svd(m.ones(2, 2, dtype=m.int32)),
    "qr_bool": lambda m: m.linalg.qr(m.ones(2, 2, dtype=m.bool)),
    "inv_half": lambda m: m.linalg.inv(m.ones(2, 2, dtype=m.float16)),
    "solve_shapes": lambda m: m.linalg.solve(m.ones(2, 2), m.ones(3)),
    "qr_mode": lambda m: m.linalg.qr(m.ones(2, 2), mode="full"),
    "norm_3d_ord": lambda m: m.linalg.norm(m.ones(2, 2, 2), ord=2),
    "qr_r_backward": lambda m: m.linalg.qr(m.ones(3, 2, requires_grad=True) + m.eye(3, 2), mode="r").R.sum().backward(),
    "qr_complete_tall_backward":
        lambda m: m.linalg.qr(m.eye(3, 2).requires_grad_(), mode="complete").Q.sum().backward(),
}


@pytest.mark.parametrize("name", sorted(SAME_MESSAGE))
def test_argument_errors_match_torch(name):
    ours, theirs = _both(SAME_MESSAGE[name])
    assert theirs is not None and ours is not None, (ours, theirs)
    assert type(ours) is type(theirs) or isinstance(ours, type(theirs)), (ours, theirs)
    assert str(theirs) in str(ours)


DTYPE_CASES = {
    "inv": lambda m, A: m.linalg.inv(A), "det": lambda m, A: m.linalg.det(A),
    "slogdet": lambda m, A: m.linalg.slogdet(A).logabsdet, "cholesky": lambda m, A: m.linalg.cholesky(A),
    "qr": lambda m, A: m.linalg.qr(A).R, "svdvals": lambda m, A: m.linalg.svdvals(A),
    "eigh": lambda m, A: m.linalg.eigh(A).eigenvectors, "pinv": lambda m, A: m.linalg.pinv(A),
    "matrix_exp": lambda m, A: m.linalg.matrix_exp(A), "matrix_norm": lambda m, A: m.linalg.matrix_norm(A, "nuc"),
    "solve": lambda m, A: m.linalg.solve(A, A), "matrix_rank": lambda m, A: m.linalg.matrix_rank(A),
    "inv_ex_info": lambda m, A: m.linalg.inv_ex(A).info, "cholesky_ex_info": lambda m, A: m.linalg.cholesky_ex(A).info,
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(DTYPE_CASES))
def test_result_dtypes_match_torch(name, dtype):
    a = spd((2, 3, 3))
    ours = DTYPE_CASES[name](tapegrad, tapegrad.tensor(a, dtype=getattr(tapegrad, dtype)))
    theirs = DTYPE_CASES[name](torch, torch.tensor(a, dtype=getattr(torch, dtype)))
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)


def test_det_of_singular_matrices_has_torchs_zero_gradient():
    mats = [[[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]]
    _run(lambda A: linalg.det(A), lambda T, A: T.linalg.det(A), [np.array(mats)], order2=False)


def test_ex_variants_report_failures_like_torch():
    bad = np.array([np.eye(3), np.diag([1.0, 1.0, -1.0]), np.zeros((3, 3))])
    ours = linalg.cholesky_ex(tapegrad.tensor(bad))
    theirs = torch.linalg.cholesky_ex(torch.tensor(bad))
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    np.testing.assert_array_equal(ours.L.numpy()[0], theirs.L.numpy()[0])
    info = linalg.inv_ex(tapegrad.tensor(bad)).info.numpy()
    np.testing.assert_array_equal(info > 0, torch.linalg.inv_ex(torch.tensor(bad)).info.numpy() > 0)
    with pytest.raises(linalg.LinAlgError):
        linalg.inv_ex(tapegrad.tensor(bad), check_errors=True)


def test_lstsq_and_matrix_rank_match_torch():
    A, B = _arr((6, 3)), _arr((6, 2))
    A[:, 2] = A[:, 0] + A[:, 1]                        # rank 2
    for driver in (None, "gelsd"):
        ours = linalg.lstsq(tapegrad.tensor(A), tapegrad.tensor(B), driver=driver)
        theirs = torch.linalg.lstsq(torch.tensor(A), torch.tensor(B), driver=driver)
        assert int(ours.rank) == int(theirs.rank) == 2
        np.testing.assert_allclose(ours.singular_values.numpy(), theirs.singular_values.numpy(), atol=1e-10)
        np.testing.assert_allclose(ours.residuals.numpy(), theirs.residuals.numpy(), atol=1e-10)
        np.testing.assert_allclose((A @ ours.solution.numpy() - B), (A @ theirs.solution.numpy() - B), atol=1e-8)
    full = linalg.lstsq(tapegrad.tensor(_arr((5, 2))), tapegrad.tensor(B[:5]), driver="gelsd")
    assert tuple(full.residuals.shape) == (2,)
    assert linalg.matrix_rank(tapegrad.tensor(A), hermitian=False).item() == 2


def test_matrix_power_of_integer_matrices_matches_torch():
    a = np.array([[1, 2], [3, -1]])
    for n in (0, 1, 5):
        ours = linalg.matrix_power(tapegrad.tensor(a), n)
        theirs = torch.linalg.matrix_power(torch.tensor(a), n)
        assert ours.dtype == tapegrad.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours, theirs = _both(lambda m: m.linalg.matrix_power(m.tensor(a), -1))
    assert isinstance(ours, RuntimeError) and isinstance(theirs, RuntimeError)
    ours, theirs = _both(lambda m: m.linalg.matrix_power(m.ones(2, 3, dtype=m.int64), 2))
    assert type(ours) is type(theirs) is RuntimeError and str(theirs) in str(ours)


def test_values_only_gradients_stay_finite_at_repeated_and_zero_values():
    # Note [packed outputs]: unused eigen/singular vectors must not divide by the zero gaps.
    eye = np.stack([np.eye(3), np.diag([2.0, 2.0, 5.0])])
    _run(lambda A: linalg.eigvalsh(A), lambda T, A: T.linalg.eigvalsh(A), [eye], order2=False)
    low_rank = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    # (the zero singular value's own gradient depends on LAPACK's choice of null vectors: left out)
    _run(lambda A: linalg.svdvals(A)[0], lambda T, A: T.linalg.svdvals(A)[0], [low_rank], order2=False)
    _run(lambda A: linalg.matrix_norm(A, "nuc"), lambda T, A: T.linalg.matrix_norm(A, "nuc"), [np.eye(3)],
         order2=False)


def test_namespace_imports():
    import tapegrad.linalg as by_import
    from tapegrad import linalg as by_from
    assert by_import is by_from is tapegrad.linalg
    assert issubclass(tapegrad.linalg.LinAlgError, RuntimeError)
