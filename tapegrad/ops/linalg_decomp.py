"""Matrix functions and decompositions with their VJPs: inv, solve, det, slogdet, cholesky, qr, svd, eigh, matrix_exp.

Each primitive runs the backend's ``np.linalg``-style method (backend/base.py)
over the leading batch dims; a backend without it raises NotImplementedError
naming the op. The public functions (argument checks, PyTorch's names) are in
ops/linalg_funcs.py and ``tapegrad.linalg``.

# Note [packed outputs]
An op has one output, so a decomposition returns its factors packed side by
side along one last axis (``pack``): eigh's ``(L, Q)`` is one array
``(..., n + n*n)``. The public function cuts the factors out with ``narrow``
and ``reshape`` (recorded views), so the VJP receives one gradient with
zeros where a factor was unused, and cuts it the same way. A factor whose
gradient is all zero counts as unused (PyTorch's undefined gradient), so
``eigvalsh``/``svdvals`` never divide by the gaps between equal eigen- or
singular values.

# Note [linalg VJPs]
The formulas are the standard ones (PyTorch's derivatives.yaml, Giles'
"collected matrix derivative results", Townsend's SVD notes), written with
``F.matmul``/``F.solve``/``F.inv`` so they run at every order:
inv ``-A^-T g A^-T``; solve ``gB = A^-T g``, ``gA = -gB X^T``; det
``g det(A) A^-T`` (0 where det(A) == 0, Note [det of a singular matrix]);
slogdet ``g A^-T``; cholesky ``L^-T Phi(L^T gL) L^-1``; qr
``(gQ + Q copyltu(M)) R^-T`` with ``M = R gR^T - gQ^T Q`` (a wide A
through its square left block, as PyTorch does); eigh
``Q (diag(gL) + skew(Q^T gQ) / E) Q^T`` (symmetric, as PyTorch's); svd
PyTorch's ``svd_backward``; matrix_exp the upper right block of
``exp([[A^T, g], [0, A^T]])``.
"""
import contextlib
import math

from .registry import op
from .graph_math import backend_array, lift
from .linalg import _mT

__all__ = []
METHODS = {}


class LinAlgError(RuntimeError):
    """A singular matrix, or one that is not positive-definite (``torch.linalg.LinAlgError``)."""


def _fail(name, what, a):
    err = LinAlgError(f"{name}: {what} (input of shape {tuple(a.shape)}, {a.dtype})")
    err._tapegrad_named = True
    return err


@contextlib.contextmanager
def _raising(name, what, a):
    """Turn the backend's LinAlgError (a ValueError, as NumPy's) into ours, naming the op."""
    try:
        yield
    except ValueError as e:
        raise _fail(name, what, a) from e


_SINGULAR = "the input matrix is singular, so it has no inverse"


# ----------------------------------------------------------------- packing (Note [packed outputs])
def pack(be, *arrays, batch):
    """Flatten each array's non-batch dims and join them along one last axis."""
    return be.concatenate([be.reshape(x, batch + (math.prod(x.shape[len(batch):]),)) for x in arrays], axis=-1)


def unpack(F, x, shapes):
    """Cut a packed array (or its gradient) back into arrays with trailing ``shapes``."""
    batch = tuple(x.shape[:-1])
    out, start = [], 0
    for s in shapes:
        n = math.prod(s)
        out.append(F.reshape(F.narrow(x, len(batch), start, n), shape=batch + tuple(s)))
        start += n
    return out


def _unused(x):
    """Note [packed outputs]: True when a factor's gradient is all zero (so PyTorch's would be undefined)."""
    be, arr = backend_array(x)
    return not bool(be.to_numpy(be.any(arr != 0)))


# ----------------------------------------------------------------- small matrix helpers for VJPs
def _eye(F, like, n):
    be, arr = backend_array(like)
    return lift(F, be.eye(n, n, arr.dtype), like=like)


def _tril(F, x, k=0):
    be, arr = backend_array(x)
    r, c = arr.shape[-2:]
    mask = be.reshape(be.arange(0, c, 1, arr.dtype), (1, c)) - be.reshape(be.arange(0, r, 1, arr.dtype), (r, 1))
    return x * lift(F, be.astype(mask <= k, arr.dtype), like=x)


def _diag_embed(F, v, n):
    return F.reshape(v, shape=tuple(v.shape[:-1]) + (1, n)) * _eye(F, v, n)


def _diag(F, m, n):
    return F.sum(m * _eye(F, m, n), axis=(m.ndim - 1,))


def _col(F, v):
    return F.reshape(v, shape=tuple(v.shape) + (1,))


def _row(F, v):
    return F.reshape(v, shape=tuple(v.shape[:-1]) + (1, v.shape[-1]))


def _right_solve_t(F, x, r):
    """``x @ r^-T``, as ``(r^-1 x^T)^T``."""
    return _mT(F, F.solve(r, _mT(F, x)))


# ----------------------------------------------------------------- inv, solve
@op("linalg_inv", save="out", promote=None, math="inv")
def inv_op(be, a):
    with _raising("linalg.inv", _SINGULAR, a):
        return be.inv(a)


@inv_op.vjp
def _(F, ctx, g, out):
    t = _mT(F, out)
    return -F.matmul(t, F.matmul(g, t))


@op("linalg_solve", save=("a", "out"), promote=None, tensors=2, math="solve")
def solve_op(be, a, b):
    with _raising("linalg.solve", "the coefficient matrix A is singular, so the system has no unique solution", a):
        return be.solve(a, b)


@solve_op.vjp
def _(F, ctx, g, a, out):
    gb = F.solve(_mT(F, a), g)
    ga = -F.matmul(gb, _mT(F, out)) if ctx.needs[0] else None
    return ga, gb


# ----------------------------------------------------------------- det, slogdet
@op("linalg_det", save=("a", "out"), promote=None, math=None)
def det_op(be, a):
    return be.det(a)


@det_op.vjp
def _(F, ctx, g, a, out):
    # Note [det of a singular matrix]: where det(A) == 0 the gradient is 0, as PyTorch 2.13 gives
    # (not the cofactor matrix): those matrices are inverted as the identity and scaled by their zero det.
    n = a.shape[-1]
    zero = _col(F, _col(F, out)) == 0
    safe = F.where(zero, _eye(F, a, n), a)
    return _mT(F, F.inv(safe)) * _col(F, _col(F, g * out))


@op("linalg_slogdet", save="a", promote=None, math=None)
def slogdet_op(be, a):
    sign, logabs = be.slogdet(a)
    batch = tuple(a.shape[:-2])
    return pack(be, be.reshape(sign, batch + (1,)), be.reshape(logabs, batch + (1,)), batch=batch)


@slogdet_op.vjp
def _(F, ctx, g, a):
    _, glog = unpack(F, g, [(1,), (1,)])                  # the sign has no gradient
    return _mT(F, F.inv(a)) * _col(F, glog)


# ----------------------------------------------------------------- cholesky
@op("linalg_cholesky", save="out", promote=None, math="cholesky")
def cholesky_op(be, a):
    with _raising("linalg.cholesky", "the factorization could not be completed because the input is not "
                  "positive-definite", a):
        return be.cholesky(a)


@cholesky_op.vjp
def _(F, ctx, g, out):
    lt = _mT(F, out)
    p = _tril(F, F.matmul(lt, g))
    phi = (p + _mT(F, _tril(F, p, -1))) * 0.5
    y = F.solve(lt, phi)
    return _mT(F, F.solve(lt, _mT(F, y)))


# ----------------------------------------------------------------- qr
@op("linalg_qr", save=("a", "out"), promote=None, math=None)
def qr_op(be, a, mode):
    batch = tuple(a.shape[:-2])
    if mode == "r":
        return be.qr(a, "r")
    q, r = be.qr(a, mode)
    return pack(be, q, r, batch=batch)


def qr_shapes(m, n, mode):
    k = m if mode == "complete" else min(m, n)
    return [(m, k), (k, n)]


@qr_op.vjp
def _(F, ctx, g, a, out, mode):
    m, n = a.shape[-2:]
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use "
                           "linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
    q, r = unpack(F, out, qr_shapes(m, n, mode))
    gq, gr = unpack(F, g, qr_shapes(m, n, mode))
    if m >= n:
        return _qr_tall(F, q, r, gq, gr, n)
    # Wide: A = [X | Y] with X = Q R1 square, R = [R1 | R2] and R2 = Q^T Y (PyTorch's reduction to the square case).
    ax = a.ndim - 1
    r1, gr1, gr2 = F.narrow(r, ax, 0, m), F.narrow(gr, ax, 0, m), F.narrow(gr, ax, m, n - m)
    y = F.narrow(a, ax, m, n - m)
    gx = _qr_tall(F, q, r1, gq + F.matmul(y, _mT(F, gr2)), gr1, m)
    return F.pad_axis(gx, ax, 0, n - m) + F.pad_axis(F.matmul(q, gr2), ax, m, 0)


def _qr_tall(F, q, r, gq, gr, n):
    """Note [linalg VJPs]: the QR gradient for m >= n, ``(gQ + Q copyltu(M)) R^-T``."""
    mm = F.matmul(r, _mT(F, gr)) - F.matmul(_mT(F, gq), q)
    low = _tril(F, mm, -1)
    copyltu = low + _mT(F, low) + _diag_embed(F, _diag(F, mm, n), n)
    return _right_solve_t(F, gq + F.matmul(q, copyltu), r)


# ----------------------------------------------------------------- eigh
@op("linalg_eigh", save="out", promote=None, math=None)
def eigh_op(be, a, UPLO):
    w, v = be.eigh(a, UPLO)
    return pack(be, w, v, batch=tuple(a.shape[:-2]))


@eigh_op.vjp
def _(F, ctx, g, out, UPLO):
    n = ctx.shapes[0][-1]
    lam, q = unpack(F, out, [(n,), (n, n)])
    glam, gq = unpack(F, g, [(n,), (n, n)])
    inner = _diag_embed(F, glam, n)
    if not _unused(gq):
        e = _row(F, lam) - _col(F, lam) + _eye(F, lam, n)   # E[i, j] = L[j] - L[i], 1 on the diagonal
        qgq = F.matmul(_mT(F, q), gq)
        inner = inner + (qgq - _mT(F, qgq)) * 0.5 / e         # the skew part: a symmetric gradient
    return F.matmul(q, F.matmul(inner, _mT(F, q)))


# ----------------------------------------------------------------- svd
def svd_shapes(m, n, full_matrices):
    k = min(m, n)
    return [(m, m if full_matrices else k), (k,), (n if full_matrices else k, n)]


@op("linalg_svd", save="out", promote=None, math=None)
def svd_op(be, a, full_matrices):
    u, s, vh = be.svd(a, full_matrices)
    return pack(be, u, s, vh, batch=tuple(a.shape[:-2]))


@svd_op.vjp
def _(F, ctx, g, out, full_matrices):
    m, n = ctx.shapes[0][-2:]
    k = min(m, n)
    u, s, vh = unpack(F, out, svd_shapes(m, n, full_matrices))
    gu, gs, gvh = unpack(F, g, svd_shapes(m, n, full_matrices))
    if full_matrices and m != n:
        # Only the first min(m, n) singular vectors are determined; the rest get no gradient (as in PyTorch).
        nd = len(ctx.shapes[0])
        u, gu = F.narrow(u, nd - 1, 0, k), F.narrow(gu, nd - 1, 0, k)
        vh, gvh = F.narrow(vh, nd - 2, 0, k), F.narrow(gvh, nd - 2, 0, k)
    use_u, use_v = not _unused(gu), not _unused(gvh)
    if not use_u and not use_v:
        return F.matmul(u * _row(F, gs), vh) if m < n else F.matmul(u, _col(F, gs) * vh)
    s2 = s * s
    e = _row(F, s2) - _col(F, s2) + _eye(F, s, k)
    ga = _diag_embed(F, gs, k)
    if use_u:
        uhgu = F.matmul(_mT(F, u), gu)
        ga = ga + (uhgu - _mT(F, uhgu)) / e * _row(F, s)
    if use_v:
        vhgv = F.matmul(vh, _mT(F, gvh))
        ga = ga + _col(F, s) * ((vhgv - _mT(F, vhgv)) / e)
    if m > n and use_u:
        gus = gu / _row(F, s)
        ga = F.matmul(F.matmul(u, ga) + gus - F.matmul(u, F.matmul(_mT(F, u), gus)), vh)
    elif m < n and use_v:
        sgvh = gvh / _col(F, s)
        ga = F.matmul(u, F.matmul(ga, vh) + sgvh - F.matmul(F.matmul(sgvh, _mT(F, vh)), vh))
    else:
        ga = F.matmul(u, F.matmul(ga, vh))
    return ga


# ----------------------------------------------------------------- matrix_exp
@op("matrix_exp", save="a", promote=None)
def matrix_exp_op(be, a):
    return be.matrix_exp(a)


@matrix_exp_op.vjp
def _(F, ctx, g, a):
    n = a.shape[-1]
    ax = a.ndim - 1
    at = _mT(F, a)
    top = F.pad_axis(at, ax, 0, n) + F.pad_axis(g, ax, n, 0)             # [A^T, g]
    block = F.pad_axis(top, ax - 1, 0, n) + F.pad_axis(F.pad_axis(at, ax, n, 0), ax - 1, n, 0)
    return F.narrow(F.narrow(F.matrix_exp(block), ax - 1, 0, n), ax, n, n)
