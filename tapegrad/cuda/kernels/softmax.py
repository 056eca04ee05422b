"""Row kernels: softmax, log_softmax, logsumexp along one axis.

The axis is moved last (one copy when it is not already contiguous) and each
row is processed by one thread with an online (max, sum) pass, then a
writing pass: numerically stable, deterministic, one read of the row for the
statistics.
"""
import math

import numpy as np

from .. import _nb
from ..array import CudaArray
from . import elementwise as E
from . import movement as M

_KERNELS = {}

_WRITE = {
    "softmax": "out[base + j] = math.exp(T(x[xb + j]) - m) / s",
    "log_softmax": "out[base + j] = T(x[xb + j]) - m - math.log(s)",
}


def _kernel(kind, T):
    key = (kind, str(T))
    k = _KERNELS.get(key)
    if k is None:
        write = "out[r] = m + math.log(s) if s > T(0) else m" if kind == "logsumexp" else \
            f"for j in range(n):\n                {_WRITE[kind]}"
        src = f"""
def kernel(rows, n, x, x_off, out):
    r = cuda.grid(1)
    step = cuda.gridsize(1)
    while r < rows:
        xb = x_off + r * n
        base = r * n
        m = T(-INF)
        s = T(0)
        for j in range(n):
            v = T(x[xb + j])
            if v > m:
                s = s * math.exp(m - v) if m > T(-INF) else T(0)
                m = v
            if v > T(-INF):
                s += math.exp(v - m)
        {write}
        r += step
"""
        ns = {"cuda": _nb.cuda, "T": T, "math": math, "INF": math.inf}
        exec(compile(src, f"<tapegrad {kind}>", "exec"), ns)
        k = _KERNELS[key] = _nb.cuda.jit(ns["kernel"])
    return k


def _rows(x, axis):
    axis = axis % x.ndim if x.ndim else 0
    if x.ndim == 0:
        x = M.reshape(x, (1,))
    perm = tuple(d for d in range(x.ndim) if d != axis) + (axis,)
    xt = M.transpose(x, perm)
    return M.ascontiguousarray(xt), perm, axis


def _run(kind, x, axis):
    if x.dtype.kind != "f":
        x = E.astype(x, np.float64)
    xt, perm, axis = _rows(x, axis)
    n = xt.shape[-1] if xt.ndim else 1
    rows = xt.size // n if n else 0
    out = CudaArray.empty(xt.shape[:-1] if kind == "logsumexp" else xt.shape, x.dtype)
    if rows and n:
        grid, block = _nb.grid_for(rows)
        _kernel(kind, E.nb_type(x.dtype))[grid, block](rows, n, xt.buf, xt.off, out.buf)
    elif kind == "logsumexp" and out.size:
        E.assign(out, -np.inf)
    return out, perm, axis


def softmax(x, axis=-1):
    out, perm, _ = _run("softmax", x, axis)
    inv = tuple(np.argsort(perm))
    return M.reshape(M.transpose(out, inv), x.shape) if x.ndim else M.reshape(out, ())


def log_softmax(x, axis=-1):
    out, perm, _ = _run("log_softmax", x, axis)
    inv = tuple(np.argsort(perm))
    return M.reshape(M.transpose(out, inv), x.shape) if x.ndim else M.reshape(out, ())


def logsumexp(x, axis=-1, keepdims=False):
    if isinstance(axis, tuple):
        if len(axis) != 1:
            raise NotImplementedError("logsumexp over several axes is not supported on the CUDA backend")
        axis = axis[0]
    out, _, axis = _run("logsumexp", x, axis)
    if keepdims and x.ndim:
        shape = list(x.shape)
        shape[axis] = 1
        return M.reshape(out, tuple(shape))
    return out
