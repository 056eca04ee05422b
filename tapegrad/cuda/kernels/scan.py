"""Scans along one axis: cumsum, cumprod, cummax, cummin, logcumsumexp.

The array is viewed (after one contiguous copy when it is strided) as
``(outer, n, inner)``; a thread per line ``(outer, inner)`` walks its ``n``
elements in order, so every result is deterministic and matches NumPy's
sequential ``accumulate`` (same order of additions). A scan is O(n) per line:
long single lines run on one thread, which is slow but exact; the shapes ops
scan (a dim of a batch) have many lines.
"""
import numpy as np

from .. import _nb
from ..array import CudaArray
from . import elementwise as E

_KERNELS = {}

# name -> the update "acc <- acc (+) v" (nan propagates as in NumPy's accumulate)
_OPS = {
    "cumsum": "acc = acc + v",
    "cumprod": "acc = acc * v",
    "cummax": "if acc == acc and (v > acc or v != v):\n    acc = v",
    "cummin": "if acc == acc and (v < acc or v != v):\n    acc = v",
    # log(exp(acc) + exp(v)) without overflow; equal values (also +-inf) add log(2)
    "logcumsumexp": ("if acc != acc or v != v:\n    acc = acc + v\n"
                     "elif acc == v:\n    acc = acc + T(0.6931471805599453)\n"
                     "elif acc > v:\n    acc = acc + math.log1p(math.exp(v - acc))\n"
                     "else:\n    acc = v + math.log1p(math.exp(acc - v))"),
}


def _source(name):
    upd = _OPS[name].replace("\n", "\n" + " " * 12)
    return f"""
def kernel(nlines, n, inner, x, x_off, out):
    o = cuda.grid(1)
    step = cuda.gridsize(1)
    while o < nlines:
        base = (o // inner) * n * inner + o % inner
        acc = T(x[x_off + base])
        out[base] = acc
        for r in range(1, n):
            v = T(x[x_off + base + r * inner])
            {upd}
            out[base + r * inner] = acc
        o += step
"""


def _kernel(name, T):
    key = (name, str(T))
    k = _KERNELS.get(key)
    if k is None:
        import math
        ns = {"cuda": _nb.cuda, "T": T, "math": math}
        exec(compile(_source(name), f"<tapegrad scan {name}>", "exec"), ns)
        k = _KERNELS[key] = _nb.cuda.jit(ns["kernel"])
    return k


def _out_dtype(name, dtype):
    if name in ("cumsum", "cumprod"):
        return np.cumsum(np.ones(1, dtype)).dtype          # bools and small integers accumulate as int64
    if name == "logcumsumexp" and dtype.kind != "f":
        raise TypeError(f"logcumsumexp: expected a floating point array, got {dtype}")
    return dtype


def scan(name, x, axis):
    """``name`` accumulated along ``axis`` (an int) of ``x``: a new contiguous array."""
    nd = max(x.ndim, 1)
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for array of dimension {x.ndim}")
    od = np.dtype(_out_dtype(name, np.dtype(x.dtype)))
    if x.ndim == 0:
        x = x.reshape(1)
        axis = 0
    axis %= x.ndim
    out = CudaArray.empty(x.shape, od)
    if out.size == 0:
        return out
    if not x.is_contiguous:
        x = E.copy(x)
    n = x.shape[axis]
    inner = 1
    for s in x.shape[axis + 1:]:
        inner *= s
    nlines = x.size // n
    grid, block = _nb.grid_for(nlines)
    T = E.nb_type(np.float32 if od == np.float16 else od)        # float16 accumulates in float32
    _kernel(name, T)[grid, block](nlines, n, inner, x.buf, x.off, out.buf)
    return out
