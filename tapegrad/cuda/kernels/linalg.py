"""Small dense linear algebra on the GPU: ``solve``/``inv`` and ``cholesky``, one thread per matrix.

Note [one thread per matrix]: the matrices autograd programs factor are small
(a covariance, a 3x3 frame) and batched, so each thread factors one whole
matrix in global memory, grid-striding over the batch: Gaussian elimination
with partial pivoting for ``solve`` (``inv`` solves against the identity),
the Cholesky-Banachiewicz recursion for ``cholesky``. A per-matrix flag
marks a zero pivot (singular) or a non-positive pivot (not
positive-definite); one host read of the flags raises NumPy's
``LinAlgError``, as the NumPy backend does. Large single matrices would want
a blocked algorithm; these are O(n^3) serial work per matrix.
"""
import numpy as np

from .. import _nb
from ..array import CudaArray
from . import movement as M
from . import elementwise as E
from . import creation as C

_KERNELS = {}


def _kernels():
    ks = _KERNELS.get("all")
    if ks is None:
        global cuda  # a module global: the simulator swaps in its fake module by scanning globals
        cuda = _nb.cuda

        def gauss_solve(batch, n, k, a, x, flag):
            # a: (batch, n, n) work copy, overwritten; x: (batch, n, k), b in and the solution out.
            t = cuda.grid(1)
            step = cuda.gridsize(1)
            while t < batch:
                ao = t * n * n
                xo = t * n * k
                flag[t] = 0
                for c in range(n):
                    p = c
                    best = abs(a[ao + c * n + c])
                    for r in range(c + 1, n):
                        v = abs(a[ao + r * n + c])
                        if v > best:
                            best = v
                            p = r
                    if best == 0.0:
                        flag[t] = 1
                        break
                    if p != c:
                        for j in range(n):
                            tmp = a[ao + c * n + j]
                            a[ao + c * n + j] = a[ao + p * n + j]
                            a[ao + p * n + j] = tmp
                        for j in range(k):
                            tmp = x[xo + c * k + j]
                            x[xo + c * k + j] = x[xo + p * k + j]
                            x[xo + p * k + j] = tmp
                    piv = a[ao + c * n + c]
                    for r in range(c + 1, n):
                        f = a[ao + r * n + c] / piv
                        if f != 0.0:
                            for j in range(c, n):
                                a[ao + r * n + j] -= f * a[ao + c * n + j]
                            for j in range(k):
                                x[xo + r * k + j] -= f * x[xo + c * k + j]
                if flag[t] == 0:
                    for c in range(n - 1, -1, -1):
                        piv = a[ao + c * n + c]
                        for j in range(k):
                            s = x[xo + c * k + j]
                            for q in range(c + 1, n):
                                s -= a[ao + c * n + q] * x[xo + q * k + j]
                            x[xo + c * k + j] = s / piv
                t += step

        def cholesky(batch, n, a, out, flag):
            # a: (batch, n, n) contiguous, lower triangle read; out: zeros (batch, n, n).
            t = cuda.grid(1)
            step = cuda.gridsize(1)
            while t < batch:
                o = t * n * n
                flag[t] = 0
                for i in range(n):
                    for j in range(i + 1):
                        s = a[o + i * n + j]
                        for q in range(j):
                            s -= out[o + i * n + q] * out[o + j * n + q]
                        if i == j:
                            if not s > 0.0:            # also catches nan
                                flag[t] = 1
                                break
                            out[o + i * n + i] = s ** 0.5
                        else:
                            out[o + i * n + j] = s / out[o + j * n + j]
                    if flag[t]:
                        break
                t += step

        ks = _KERNELS["all"] = (cuda.jit(gauss_solve), cuda.jit(cholesky))
    return ks


def _fresh(x, shape):
    """A contiguous copy of ``x`` broadcast to ``shape`` (the kernels overwrite it)."""
    return E.copy(M.broadcast_to(x, shape))


def _failed(flag, what):
    if flag.size and bool(np.any(flag.get())):
        raise np.linalg.LinAlgError(what)


def _check_float(name, *xs):
    for x in xs:
        if x.dtype.kind != "f":
            raise TypeError(f"{name}: expected floating point matrices, got {x.dtype}")
        if x.dtype == np.float16:       # as torch's CUDA solvers ("not implemented for 'Half'")
            raise NotImplementedError(f"{name}: float16 matrices are not supported on the CUDA device (supported "
                                      f"there: float32, float64); cast with .float() first")


def solve(a, b):
    """``np.linalg.solve(a, b)`` for matrix right-hand sides ``b`` (..., n, k), batch dims broadcast."""
    _check_float("solve", a, b)
    n, k = a.shape[-1], b.shape[-1]
    if a.ndim < 2 or a.shape[-2] != n or b.ndim < 2 or b.shape[-2] != n:
        raise ValueError(f"solve: shapes {tuple(a.shape)} and {tuple(b.shape)} are not (..., n, n) and (..., n, k)")
    batch = tuple(np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2])))
    dt = np.result_type(a.dtype, b.dtype)
    work = _fresh(E.astype(a, dt), batch + (n, n))
    x = _fresh(E.astype(b, dt), batch + (n, k))
    count = int(np.prod(batch, dtype=np.int64))
    flag = CudaArray.empty((max(count, 1),), np.int32)
    if count and n:
        kernel, _ = _kernels()
        grid, block = _nb.grid_for(count)
        kernel[grid, block](count, n, k, work.buf, x.buf, flag.buf)
        _failed(flag, "Singular matrix")
    return x


def inv(a):
    """``np.linalg.inv``: each matrix of ``a`` solved against the identity."""
    _check_float("inv", a)
    n = a.shape[-1]
    return solve(a, M.broadcast_to(C.eye(n, n, a.dtype), tuple(a.shape)))


def cholesky(a):
    """``np.linalg.cholesky``: the lower factor of each symmetric positive-definite matrix."""
    _check_float("cholesky", a)
    n = a.shape[-1]
    if a.ndim < 2 or a.shape[-2] != n:
        raise ValueError(f"cholesky: shape {tuple(a.shape)} is not (..., n, n)")
    src = E.copy(a)
    out = C.full(tuple(a.shape), 0, a.dtype)
    count = a.size // (n * n) if n else 0
    flag = CudaArray.empty((max(count, 1),), np.int32)
    if count:
        _, kernel = _kernels()
        grid, block = _nb.grid_for(count)
        kernel[grid, block](count, n, src.buf, out.buf, flag.buf)
        _failed(flag, "Matrix is not positive definite")
    return out
