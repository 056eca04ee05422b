"""Dense linear algebra for the backends: NumPy's ``np.linalg`` with tuple results, and a composed ``matrix_exp``.

# Note [matrix_exp]
``matrix_exp`` is composed of ``matmul`` only, so every backend that
multiplies matrices has it: scaling and squaring around a degree-18 Taylor
polynomial. The matrices are scaled by ``2**-s`` until the largest 1-norm in
the batch is at most 1/2, where the truncated series errs by under
``0.5**19 / 19! ~ 2e-23`` relative to the norm, then squared ``s`` times.
"""
import math

import numpy as np

_TAYLOR_DEGREE = 18


def np_solve(a, b):
    return np.linalg.solve(a, b)


def np_qr(a, mode="reduced"):
    out = np.linalg.qr(a, mode=mode)
    return out if mode == "r" else (out[0], out[1])


def np_svd(a, full_matrices=True):
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return u, s, vh


def np_eigh(a, UPLO="L"):
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    return w, v


def np_slogdet(a):
    sign, logabsdet = np.linalg.slogdet(a)
    return sign, logabsdet


def matrix_exp(be, a):
    """Note [matrix_exp]: ``exp(a)`` for each square matrix of ``a`` (..., n, n), by ``be.matmul`` only.

    Example:
        >>> import numpy as np
        >>> from tapegrad.backend import CPU_BACKEND
        >>> matrix_exp(CPU_BACKEND, np.zeros((2, 2))).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    n = a.shape[-1]
    eye = be.broadcast_to(be.eye(n, n, a.dtype), a.shape)
    if a.size == 0:
        return be.copy(a)
    norm = float(be.to_numpy(be.max(be.sum(be.abs(a), axis=-2))))
    s = 0 if not norm > 0.5 else int(math.ceil(math.log2(norm / 0.5))) if math.isfinite(norm) else 0
    x = a * (0.5 ** s) if s else a
    p = eye
    for k in range(_TAYLOR_DEGREE, 0, -1):
        p = eye + be.matmul(x, p) * (1.0 / k)
    for _ in range(s):
        p = be.matmul(p, p)
    return be.astype(p, a.dtype)
