"""Small matrix functions for the orthogonal parametrization, composed of recorded ops (so gradients flow).

tapegrad has no ``linalg`` module yet; these cover what ``parametrizations.orthogonal`` needs for
2-D matrices: a lower-triangular mask, ``matrix_exp`` (scaling and squaring of a Taylor series),
``householder_product`` and the orthogonal factor of a QR decomposition (with a positive diagonal of R).
"""
import math

from ... import _creation as C
from ...ops.joining import stack as _stack
from ...tape import grad_mode as _gm

_EPS = {"float16": 9.765625e-04, "float32": 1.1920928955078125e-07, "float64": 2.220446049250313e-16}


def tril(x, diagonal=0):
    """``x.tril(diagonal)`` for a 2-D ``x``: the entries with ``col - row <= diagonal`` (others zero).

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn.utils._matrix import tril
        >>> tril(tapegrad.ones(2, 3))
        tensor([[1., 0., 0.],
                [1., 1., 0.]])
    """
    n, k = x.shape
    rows = C.arange(n, device=x.device).reshape(n, 1)
    cols = C.arange(k, device=x.device).reshape(1, k)
    return x * (cols - rows <= diagonal).to(x.dtype)


def diagonal(x):
    """The main diagonal of a 2-D ``x`` with at least as many rows as columns."""
    n, k = x.shape
    return (x * C.eye(n, k, dtype=x.dtype, device=x.device)).sum(0)


def matrix_exp(a, terms=18):
    """``exp(a)`` of a square 2-D matrix: a Taylor series on ``a / 2**s`` (norm <= 1/2), squared ``s`` times.

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn.utils._matrix import matrix_exp
        >>> matrix_exp(tapegrad.zeros(2, 2))
        tensor([[1., 0.],
                [0., 1.]])
    """
    n = a.shape[0]
    with _gm.no_grad():
        norm = float(a.abs().sum(0).max().item()) if a.numel() else 0.0
    s = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    x = a / float(2 ** s) if s else a
    eye = C.eye(n, dtype=a.dtype, device=a.device)
    term, out = eye, eye
    for j in range(1, terms + 1):
        term = (term @ x) / float(j)
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


def householder_product(a, tau):
    """The first ``k`` columns of ``H_1 ... H_k``, ``H_i = I - tau_i v_i v_i^T``, ``v_i = e_i + a[i+1:, i]`` below.

    ``a`` (n x k, n >= k) is read strictly below its diagonal, as LAPACK's ``orgqr``.
    """
    n, k = a.shape
    below = tril(a, -1)
    eye = C.eye(n, dtype=a.dtype, device=a.device)
    q = eye
    for i in range(k):
        v = below[:, i] + eye[:, i]
        q = q - tau[i] * (q @ v).reshape(n, 1) * v.reshape(1, n)
    return q[:, :k]


def make_orthogonal(a):
    """The Q of ``a = QR`` with ``diag(R) > 0`` (Gram-Schmidt with one re-orthogonalisation), not recorded."""
    n, k = a.shape
    with _gm.no_grad():
        cols = []
        for j in range(k):
            v = a[:, j]
            if cols:
                q = _stack(cols, 1)
                for _ in range(2):
                    v = v - q @ (q.T @ v)
            cols.append(v / v.norm())
        return _stack(cols, 1)


def is_orthogonal(q):
    """Whether ``q^T q`` is the identity within PyTorch's tolerance (``10 * n * eps``)."""
    n, k = q.shape
    eps = 10.0 * n * _EPS[str(q.dtype).split(".")[-1]]
    with _gm.no_grad():
        diff = (q.T @ q - C.eye(k, dtype=q.dtype, device=q.device)).abs()
        return bool((diff <= eps + 1e-5 * C.eye(k, dtype=q.dtype, device=q.device)).all())
