"""OpSpecs for tapegrad.linalg (ops/linalg_decomp.py, linalg_funcs.py, linalg_extra.py).

Every decomposition needs a well-conditioned input whatever hypothesis draws
(zeros included), so each spec builds its matrix inside the call from the
drawn values: ``wc(a) = a / 10 + D`` with ``D`` the (m, n) diagonal
``2, 4, 6, ...``. Entries of ``a`` lie in [-2, 2], so for m, n <= 4 the
perturbation has 2-norm under 0.8 (Weyl): singular values (and the
eigenvalues of its symmetric part) stay at least 1 apart and above 1, and
``wc(a) @ wc(a).mT`` is positive-definite with the same gaps squared.
Eigenvector and singular-vector outputs are squared (gauge invariant).
The same construction runs in NumPy (``ref``) and in PyTorch (``torch_fn``).
"""
import numpy as np
from hypothesis import strategies as st

import tapegrad

from . import OpSpec, add


def _d(mod, a):
    m, n = a.shape[-2:]
    return mod.eye(m, n, dtype=a.dtype, device=a.device) * mod.arange(2, 2 * n + 1, 2, dtype=a.dtype,
                                                                        device=a.device)


def wc(mod, a):
    return a / 10 + _d(mod, a)


def spd(mod, a):
    b = wc(mod, a)
    return b @ b.mT


def sym(mod, a):
    b = wc(mod, a)
    return (b + b.mT) / 2


def _np_wc(a):
    m, n = a.shape[-2:]
    return a / 10 + (np.eye(m, n) * np.arange(2, 2 * n + 1, 2)).astype(a.dtype)


def _np_spd(a):
    b = _np_wc(a)
    return b @ np.swapaxes(b, -1, -2)


def _np_sym(a):
    b = _np_wc(a)
    return (b + np.swapaxes(b, -1, -2)) / 2


def square(batch=True):
    bs = st.sampled_from([(), (2,)]) if batch else st.just(())
    return st.tuples(bs, st.integers(1, 3)).map(lambda t: (t[0] + (t[1], t[1]),))


def rect(tall=True):
    return st.tuples(st.sampled_from([(), (2,)]), st.integers(1, 3), st.integers(0, 1)).map(
        lambda t: (t[0] + ((t[1] + t[2], t[1]) if tall else (t[1], t[1] + t[2])),))


def spec(name, fn, ref, torch_fn, shapes, covers, **kw):
    """One spec whose tapegrad and torch calls share ``fn(mod, *tensors)``."""
    add(OpSpec(name, lambda *xs: fn(tapegrad, *xs), ref, shapes, covers=covers,
               torch_fn=lambda torch, *xs: torch_fn(torch, *xs), fwd_rtol=1e-3, fwd_atol=1e-4, **kw))


spec("linalg_inv", lambda m, a: m.linalg.inv(wc(m, a)), lambda a: np.linalg.inv(_np_wc(a)),
     lambda t, a: t.linalg.inv(wc(t, a)), square(), ("linalg_inv",))
spec("linalg_solve", lambda m, a, b: m.linalg.solve(wc(m, a), b), lambda a, b: np.linalg.solve(_np_wc(a), b),
     lambda t, a, b: t.linalg.solve(wc(t, a), b),
     st.tuples(st.sampled_from([(), (2,)]), st.integers(1, 3), st.integers(1, 2)).map(
         lambda t: (t[0] + (t[1], t[1]), t[0] + (t[1], t[2]))), ("linalg_solve",))
spec("linalg_det", lambda m, a: m.linalg.det(wc(m, a)), lambda a: np.asarray(np.linalg.det(_np_wc(a))),
     lambda t, a: t.linalg.det(wc(t, a)), square(), ("linalg_det",))
spec("linalg_slogdet", lambda m, a: m.linalg.slogdet(wc(m, a) - 3 * _d(m, a)).logabsdet,
     lambda a: np.asarray(np.linalg.slogdet(_np_wc(a) - 3 * (_np_wc(a) - a / 10))[1]),
     lambda t, a: t.linalg.slogdet(wc(t, a) - 3 * _d(t, a)).logabsdet, square(), ("linalg_slogdet",))
spec("linalg_cholesky", lambda m, a: m.linalg.cholesky(spd(m, a)), lambda a: np.linalg.cholesky(_np_spd(a)),
     lambda t, a: t.linalg.cholesky(spd(t, a)), square(), ("linalg_cholesky",))
# Householder QR (LAPACK's, so NumPy's and PyTorch's) flips the signs of a column's factors where the
# entries below its diagonal pass through zero, as in wc(0): an odd constant keeps them away from zero.
spec("linalg_qr_q", lambda m, a: m.linalg.qr(wc(m, a) + 0.1234567).Q,
     lambda a: np.linalg.qr(_np_wc(a) + a.dtype.type(0.1234567))[0],
     lambda t, a: t.linalg.qr(wc(t, a) + 0.1234567).Q, rect(), ("linalg_qr",))
spec("linalg_qr_r", lambda m, a: m.linalg.qr(wc(m, a) + 0.1234567).R,
     lambda a: np.linalg.qr(_np_wc(a) + a.dtype.type(0.1234567))[1],
     lambda t, a: t.linalg.qr(wc(t, a) + 0.1234567).R, rect(), ("linalg_qr",))
spec("linalg_eigvalsh", lambda m, a: m.linalg.eigvalsh(sym(m, a)), lambda a: np.linalg.eigvalsh(_np_sym(a)),
     lambda t, a: t.linalg.eigvalsh(sym(t, a)), square(), ("linalg_eigh",))
spec("linalg_eigh_vectors", lambda m, a: m.linalg.eigh(sym(m, a)).eigenvectors ** 2,
     lambda a: np.linalg.eigh(_np_sym(a))[1] ** 2, lambda t, a: t.linalg.eigh(sym(t, a)).eigenvectors ** 2,
     square(), ("linalg_eigh",))
spec("linalg_svdvals", lambda m, a: m.linalg.svdvals(wc(m, a)), lambda a: np.linalg.svd(_np_wc(a))[1],
     lambda t, a: t.linalg.svdvals(wc(t, a)), rect(), ("linalg_svd",))
spec("linalg_svd_u", lambda m, a: m.linalg.svd(wc(m, a), full_matrices=False).U ** 2,
     lambda a: np.linalg.svd(_np_wc(a), full_matrices=False)[0] ** 2,
     lambda t, a: t.linalg.svd(wc(t, a), full_matrices=False).U ** 2, rect(), ("linalg_svd",))
spec("linalg_svd_vh_wide", lambda m, a: m.linalg.svd(wc(m, a), full_matrices=False).Vh ** 2,
     lambda a: np.linalg.svd(_np_wc(a), full_matrices=False)[2] ** 2,
     lambda t, a: t.linalg.svd(wc(t, a), full_matrices=False).Vh ** 2, rect(tall=False), ("linalg_svd",))
spec("linalg_pinv", lambda m, a: m.linalg.pinv(wc(m, a)), lambda a: np.linalg.pinv(_np_wc(a)),
     lambda t, a: t.linalg.pinv(wc(t, a)), rect(), ("linalg_svd",))
spec("linalg_matrix_exp", lambda m, a: m.linalg.matrix_exp(a), None, lambda t, a: t.linalg.matrix_exp(a),
     square(), ("matrix_exp",))
spec("linalg_matrix_power", lambda m, a: m.linalg.matrix_power(a, 3), lambda a: np.linalg.matrix_power(a, 3),
     lambda t, a: t.linalg.matrix_power(a, 3), square(), ("matmul",))
for _ord in ("fro", "nuc", 2, -2):
    spec(f"linalg_matrix_norm_{_ord}", lambda m, a, o=_ord: m.linalg.matrix_norm(wc(m, a), ord=o),
         lambda a, o=_ord: np.asarray(np.linalg.norm(_np_wc(a), ord=o, axis=(-2, -1))),
         lambda t, a, o=_ord: t.linalg.matrix_norm(wc(t, a), ord=o), rect(), ("linalg_svd", "vector_norm"))
spec("linalg_cross", lambda m, a, b: m.linalg.cross(a, b), lambda a, b: np.cross(a, b),
     lambda t, a, b: t.linalg.cross(a, b), st.sampled_from([((3,), (3,)), ((2, 3), (2, 3)), ((2, 3), (1, 3))]),
     ("narrow", "multiply", "subtract", "cat"))
spec("linalg_vecdot", lambda m, a, b: m.linalg.vecdot(a, b), lambda a, b: np.sum(a * b, axis=-1),
     lambda t, a, b: t.linalg.vecdot(a, b), st.sampled_from([((3,), (3,)), ((2, 3), (3,))]), ("multiply", "sum"))
spec("linalg_diagonal", lambda m, a: m.linalg.diagonal(a, offset=1), lambda a: np.diagonal(a, 1, -2, -1).copy(),
     lambda t, a: t.linalg.diagonal(a, offset=1), st.sampled_from([((3, 4),), ((2, 3, 3),), ((2, 1),)]),
     ("getitem", "reshape"))
spec("linalg_multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]),
     lambda a, b, c: np.linalg.multi_dot([a, b, c]), lambda t, a, b, c: t.linalg.multi_dot([a, b, c]),
     st.sampled_from([((2,), (2, 3), (3, 2)), ((2, 3), (3, 1), (1,))]), ("matmul",))
spec("logdet", lambda m, a: m.logdet(spd(m, a)), lambda a: np.asarray(np.linalg.slogdet(_np_spd(a))[1]),
     lambda t, a: t.logdet(spd(t, a)), square(), ("linalg_slogdet",))
spec("svd_legacy_v", lambda m, a: m.svd(wc(m, a)).V ** 2,
     lambda a: np.swapaxes(np.linalg.svd(_np_wc(a), full_matrices=False)[2], -1, -2) ** 2,
     lambda t, a: t.svd(wc(t, a)).V ** 2, rect(), ("linalg_svd",))
