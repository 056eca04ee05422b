"""Reductions over any dims: sum, prod, max, min, argmax, argmin, any, all; and a flat cumsum.

Every reduction is viewed on the host as ``(outer, reduced, inner)``: directly
when the array is contiguous and the reduced dims are adjacent, else after one
transposing copy that moves them last. Long contiguous rows with few outputs
get a block per row (and a two-pass split across blocks when there are fewer
rows than SMs); otherwise a thread per output walks its row. Both combine in
a fixed order, with no atomics, so results are deterministic.
"""
import numpy as np

from .. import _nb
from ..array import CudaArray
from . import elementwise as E
from . import movement as M

_KERNELS = {}
_OUT_DTYPE = {}

# name -> (identity, or None to start from the first element; update "acc <- acc (+) v")
_OPS = {
    "sum": ("T(0)", "acc = acc + v"),
    "prod": ("T(1)", "acc = acc * v"),
    "max": (None, "if acc == acc and (v > acc or v != v):\n    acc = v"),
    "min": (None, "if acc == acc and (v < acc or v != v):\n    acc = v"),
    "any": ("False", "acc = acc or (v != 0)"),
    "all": ("True", "acc = acc and (v != 0)"),
    "argmax": (None, "if acc == acc and (v > acc or v != v):\n    acc = v\n    idx = r"),
    "argmin": (None, "if acc == acc and (v < acc or v != v):\n    acc = v\n    idx = r"),
}

# Tree step for the block kernel: does partial (b, ib) replace (a, ia)? Ties keep the lower index.
_BETTER = {
    "argmax": "(a != a and b != b and ib < ia) or (a == a and (b != b or b > a or (b == a and ib < ia)))",
    "argmin": "(a != a and b != b and ib < ia) or (a == a and (b != b or b < a or (b == a and ib < ia)))",
}


def out_dtype(name, dtype):
    key = (name, dtype)
    d = _OUT_DTYPE.get(key)
    if d is None:
        d = _OUT_DTYPE[key] = np.dtype(getattr(np, name)(np.ones(1, dtype)).dtype)
    return d


def _indent(code, n):
    return code.replace("\n", "\n" + " " * n)


def _thread_source(name):
    init, upd = _OPS[name]
    first = init is None
    return f"""
def kernel(nout, red, inner, x, x_off, out):
    o = cuda.grid(1)
    step = cuda.gridsize(1)
    while o < nout:
        base = x_off + (o // inner) * red * inner + o % inner
        acc = {'T(x[base])' if first else init}
        idx = 0
        for r in range({1 if first else 0}, red):
            v = T(x[base + r * inner])
            {_indent(upd, 12)}
        out[o] = {'idx' if name.startswith('arg') else 'acc'}
        o += step
"""


def _block_source(name, block):
    init, upd = _OPS[name]
    arg = name.startswith("arg")
    first = init is None
    if arg:
        combine = f"""
a = sv[t]
ia = si[t]
b = sv[t + s]
ib = si[t + s]
if {_BETTER[name]}:
    sv[t] = b
    si[t] = ib"""
    else:
        combine = "\n" + upd.replace("v", "sv[t + s]").replace("acc", "sv[t]")
    return f"""
def kernel(nblocks, nsplit, red, chunk, x, x_off, out):
    sv = cuda.shared.array({block}, ST)
    si = cuda.shared.array({block}, types.int64)
    t = cuda.threadIdx.x
    blk = cuda.blockIdx.x
    while blk < nblocks:
        row = blk // nsplit
        lo = (blk % nsplit) * chunk
        hi = min(red, lo + chunk)
        base = x_off + row * red
        have = lo + t < hi
        acc = {'T(x[base + lo + t]) if have else T(0)' if first else init}
        idx = lo + t
        for r in range(lo + t + {block if first else 0}, hi, {block}):
            v = T(x[base + r])
            {_indent(upd, 12)}
        sv[t] = acc
        si[t] = idx if have else red
        cuda.syncthreads()
        s = {block // 2}
        while s > 0:
            if t < s and si[t + s] < red:
                if si[t] >= red:
                    sv[t] = sv[t + s]
                    si[t] = si[t + s]
                else:{_indent(combine, 20)}
            cuda.syncthreads()
            s //= 2
        if t == 0:
            out[blk] = {'si[0]' if arg else 'sv[0]'}
        cuda.syncthreads()
        blk += cuda.gridDim.x
"""


def _kernel(kind, name, T, ST):
    key = (kind, name, str(T))
    k = _KERNELS.get(key)
    if k is None:
        from numba import types
        src = _thread_source(name) if kind == "thread" else _block_source(name, _nb.RED_BLOCK)
        ns = {"cuda": _nb.cuda, "T": T, "ST": ST, "types": types, "min": min}
        exec(compile(src, f"<tapegrad reduce {name}>", "exec"), ns)
        k = _KERNELS[key] = _nb.cuda.jit(ns["kernel"])
    return k


def _norm_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise np.exceptions.AxisError(f"axis {a} is out of bounds for array of dimension {ndim}")
        out.append(a % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError("duplicate value in 'axis'")
    return tuple(sorted(out)) if ndim else ()


def reduce(name, x, axis=None, keepdims=False):
    arg = name.startswith("arg")
    if arg and axis is not None and not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an int or None")
    axes = _norm_axes(axis, x.ndim)
    kept = [d for d in range(x.ndim) if d not in axes]
    if keepdims:
        out_shape = tuple(1 if d in axes else n for d, n in enumerate(x.shape))
    else:
        out_shape = tuple(x.shape[d] for d in kept)
    red = 1
    for d in axes:
        red *= x.shape[d]
    od = np.dtype(np.int64) if arg else out_dtype(name, x.dtype)
    out = CudaArray.empty(out_shape, od)
    if out.size == 0:
        return out
    if red == 0:
        if _OPS[name][0] is None:
            raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
        E.assign(out, {"sum": 0, "prod": 1, "any": False, "all": True}[name])
        return out
    if arg and axis is None:
        x, axes, kept = M.reshape(x, (-1,)), (0,), []
    if not axes:                        # nothing reduced (a 0-d input, or axis=()): rows of length 1
        x, axes = M.reshape(x, x.shape + (1,)), (x.ndim,)
        kept = list(range(x.ndim - 1))
    if x.is_contiguous and axes == tuple(range(axes[0], axes[-1] + 1)):
        outer = inner = 1
        for d in range(axes[0]):
            outer *= x.shape[d]
        for d in range(axes[-1] + 1, x.ndim):
            inner *= x.shape[d]
    else:
        x = E.copy(M.transpose(x, tuple(kept) + axes))
        outer, inner = out.size, 1
    ct = np.dtype(np.bool_) if name in ("any", "all") else od if not arg else x.dtype
    if ct == np.float16:                # accumulate in float32, as torch (Note [float16 computes in float32])
        ct = np.dtype(np.float32)
    T = E.nb_type(ct)
    if inner == 1 and red >= 2 * _nb.RED_BLOCK and outer < 4 * _nb.MAX_GRID:
        _block_reduce(name, x, out, outer, red, T, arg)
    else:
        k = _kernel("thread", name, T, T)
        grid, block = _nb.grid_for(out.size)
        k[grid, block](out.size, red, inner, x.buf, x.off, out.buf)
    return out


def _block_reduce(name, x, out, outer, red, T, arg):
    # Few rows: split each over several blocks, then reduce the partials (not for arg ops).
    nsplit = 1 if arg else max(1, min(red // (8 * _nb.RED_BLOCK), (2 * _nb.MAX_GRID) // max(outer, 1)))
    chunk = (red + nsplit - 1) // nsplit
    nsplit = (red + chunk - 1) // chunk
    k = _kernel("block", name, T, T)
    part = np.dtype(np.float32) if out.dtype == np.float16 else out.dtype     # float16 partials stay float32
    target = out if nsplit == 1 else CudaArray.empty((outer, nsplit), part)
    k[min(outer * nsplit, _nb.MAX_GRID), _nb.RED_BLOCK](outer * nsplit, nsplit, red, chunk, x.buf, x.off,
                                                        target.buf)
    if nsplit > 1:
        again = {"sum": "sum", "prod": "prod", "max": "max", "min": "min", "any": "any", "all": "all"}[name]
        E.assign(out, M.reshape(reduce(again, target, 1), out.shape))


def cumsum_flat(mask):
    """Inclusive running sum of a flat contiguous int64 array (chunked: per-chunk sums, scan, fill)."""
    n = mask.size
    out = CudaArray.empty((n,), np.int64)
    if n == 0:
        return out
    nch = min(n, _nb.BLOCK * _nb.MAX_GRID)
    chunk = (n + nch - 1) // nch
    nch = (n + chunk - 1) // chunk
    sums = CudaArray.empty((nch,), np.int64)
    k1, k2, k3 = _scan_kernels()
    grid, block = _nb.grid_for(nch)
    k1[grid, block](nch, chunk, n, mask.buf, mask.off, sums.buf)
    k2[1, 1](nch, sums.buf)
    k3[grid, block](nch, chunk, n, mask.buf, mask.off, sums.buf, out.buf)
    return out


def _scan_kernels():
    ks = _KERNELS.get("scan")
    if ks is None:
        global cuda  # a module global: the simulator swaps in its fake module by scanning globals
        cuda = _nb.cuda

        def chunk_sums(nch, chunk, n, m, off, sums):
            c = cuda.grid(1)
            if c < nch:
                s = 0
                for i in range(c * chunk, min(n, (c + 1) * chunk)):
                    s += m[off + i]
                sums[c] = s

        def exclusive_scan(nch, sums):
            run = 0
            for c in range(nch):
                v = sums[c]
                sums[c] = run
                run += v

        def fill(nch, chunk, n, m, off, sums, out):
            c = cuda.grid(1)
            if c < nch:
                s = sums[c]
                for i in range(c * chunk, min(n, (c + 1) * chunk)):
                    s += m[off + i]
                    out[i] = s
        ks = _KERNELS["scan"] = tuple(cuda.jit(f) for f in (chunk_sums, exclusive_scan, fill))
    return ks
