"""Fused row kernels: cross-entropy (``ce_rows``, ``ce_rows_grad``) and ``softmax_rows``, one launch each.

# Note [fused rows on CUDA]
The interface composes these of a dozen elementwise and reduction methods
(backend/base.py); on the GPU every one is a launch (the cross-entropy of a
small MLP was 45 of its 81). Here a block takes a row (grid-stride over rows):
its threads find the row maximum, then the sum of ``exp(x - max)``, each by a
shared-memory tree in a fixed order (no atomics: deterministic), then write the
row. The formulas and their rounding order are those of the CPU kernels
(backend/_kernels.py, Note [fused cross-entropy]; _kernels_norm.py, Note
[softmax rows]): ``loss = log(sum) - (x[t] - max)``, ``grad = exp(x - max) *
(scale / sum)`` minus ``scale`` at the target, ``softmax = exp(x - max) / sum``;
a NaN in a row makes its maximum NaN. Sums accumulate in the compute type
(float32 for float16 and float32: no float64 instructions in float32 kernels),
so they match the CPU's float64 sums within float tolerance, not bit for bit.
Inputs may be any strided views (a broadcast ``scale`` has stride 0): no copy.

``ce_rows`` must also return how many rows count and raise for a class out of
range, which only the host can do: the kernel writes one status per row (0
ignored, 1 counted, 2 out of range) and the host reads that small array back
(a copy, not a launch), as the composed version reads its count.
"""
import numpy as np

from .. import _nb
from ..array import CudaArray

_KERNELS = {}

# ``m`` <- the row maximum and ``s`` <- the sum of exp(x - m), both broadcast to every thread of the block.
_ROW_STATS = """
        acc = T(-math.inf)
        for j in range(tid, c, B):
            v = T(x[base + j * cs])
            if acc == acc and (v > acc or v != v):
                acc = v
        sm[tid] = acc
        cuda.syncthreads()
        h = B // 2
        while h > 0:
            if tid < h:
                a = sm[tid]
                b = sm[tid + h]
                if a == a and (b > a or b != b):
                    sm[tid] = b
            cuda.syncthreads()
            h //= 2
        m = sm[0]
        cuda.syncthreads()
        acc = T(0)
        for j in range(tid, c, B):
            acc += math.exp(T(x[base + j * cs]) - m)
        sm[tid] = acc
        cuda.syncthreads()
        h = B // 2
        while h > 0:
            if tid < h:
                sm[tid] = sm[tid] + sm[tid + h]
            cuda.syncthreads()
            h //= 2
        s = sm[0]
        cuda.syncthreads()
"""

_SOURCES = {
    "ce_rows": """
def kernel(n, c, x, xo, rs, cs, t, to, ts, ignore, loss, status):
    sm = cuda.shared.array(B, T)
    tid = cuda.threadIdx.x
    row = cuda.blockIdx.x
    while row < n:
        base = xo + row * rs
        ti = t[to + row * ts]
        if ti == ignore:
            if tid == 0:
                loss[row] = 0
                status[row] = 0
        elif ti < 0 or ti >= c:
            if tid == 0:
                loss[row] = 0
                status[row] = 2
        else:{stats}
            if tid == 0:
                loss[row] = math.log(s) - (T(x[base + ti * cs]) - m)
                status[row] = 1
        row += cuda.gridDim.x
""",
    "ce_rows_grad": """
def kernel(n, c, x, xo, rs, cs, t, to, ts, ignore, scale, so, ss, out):
    sm = cuda.shared.array(B, T)
    tid = cuda.threadIdx.x
    row = cuda.blockIdx.x
    while row < n:
        base = xo + row * rs
        ob = row * c
        ti = t[to + row * ts]
        if ti == ignore:
            for j in range(tid, c, B):
                out[ob + j] = 0
        else:{stats}
            sc = T(scale[so + row * ss])
            k = sc / s
            for j in range(tid, c, B):
                v = math.exp(T(x[base + j * cs]) - m) * k
                if j == ti:
                    v -= sc
                out[ob + j] = v
        row += cuda.gridDim.x
""",
    "softmax_rows": """
def kernel(n, c, x, xo, rs, cs, out):
    sm = cuda.shared.array(B, T)
    tid = cuda.threadIdx.x
    row = cuda.blockIdx.x
    while row < n:
        base = xo + row * rs
        ob = row * c
        if True:{stats}
            for j in range(tid, c, B):
                out[ob + j] = math.exp(T(x[base + j * cs]) - m) / s
        row += cuda.gridDim.x
""",
}


def kernel(name, T):
    """The row kernel ``name`` computing in numba type ``T`` (compiled lazily, cached)."""
    key = (name, str(T))
    k = _KERNELS.get(key)
    if k is None:
        import math
        src = _SOURCES[name].replace("{stats}", _ROW_STATS.replace("\n        ", "\n            "))
        ns = {"cuda": _nb.cuda, "T": T, "B": _nb.RED_BLOCK, "math": math}
        exec(compile(src, f"<tapegrad rows {name}>", "exec"), ns)
        k = _KERNELS[key] = _nb.cuda.jit(ns["kernel"])
    return k


def _compute_type(dtype):
    from . import elementwise as E
    return E.nb_type(np.float32 if dtype == np.float16 else dtype)    # Note [float16 computes in float32]


def _launch(name, x, *args):
    n = x.shape[0]
    k = kernel(name, _compute_type(x.dtype))
    k[min(n, _nb.MAX_GRID), _nb.RED_BLOCK](n, x.shape[1], x.buf, x.off, x.st[0], x.st[1], *args)


def ce_rows(x, t, ignore_index):
    """``(loss, count)`` of float (N, C) logits ``x`` and class indices ``t`` (backend/base.py's contract)."""
    n, c = x.shape
    loss = CudaArray.empty((n,), x.dtype)
    if n == 0:
        return loss, 0
    status = CudaArray.empty((n,), np.int8)
    _launch("ce_rows", x, t.buf, t.off, t.st[0], int(ignore_index), loss.buf, status.buf)
    st = status.get()
    bad = np.flatnonzero(st == 2)
    if bad.size:
        raise IndexError(f"Target {int(t.get()[bad[0]])} is out of bounds for {c} classes (input shape "
                         f"{tuple(x.shape)})")
    return loss, int(np.count_nonzero(st))


def ce_rows_grad(x, t, ignore_index, scale):
    """``(softmax(x) - onehot(t)) * scale`` per row (0 where ``t == ignore_index``), in ``x``'s dtype."""
    n, c = x.shape
    out = CudaArray.empty((n, c), x.dtype)
    if out.size:
        _launch("ce_rows_grad", x, t.buf, t.off, t.st[0], int(ignore_index), scale.buf, scale.off, scale.st[0],
                out.buf)
    return out


def softmax_rows(x):
    """Softmax of each row of float 2-D ``x``, the row maximum subtracted first."""
    out = CudaArray.empty(x.shape, x.dtype)
    if out.size:
        _launch("softmax_rows", x, out.buf)
    return out
