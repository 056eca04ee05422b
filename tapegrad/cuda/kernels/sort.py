"""Sorting-based kernels: ``permutation`` (randperm) by a bitonic sort of random keys; ``argsort`` by
ranks; ``searchsorted`` by binary search.

permutation: each position gets 64 random bits from the device RNG; a
bitonic sort of (key, index) pairs over the next power of two (padding keys
sort last) orders the indices by key. Ties are broken by index, so a seed
gives one permutation on any grid. O(n log^2 n) work in log^2(n)/2 launches,
with no host round trip.
"""
import numpy as np

from .. import _nb
from ..array import CudaArray

_KERNELS = {}


def _kernels():
    ks = _KERNELS.get("all")
    if ks is None:
        global cuda  # a module global: the simulator swaps in its fake module by scanning globals
        cuda = _nb.cuda

        def bitonic_step(n, keys, idx, j, k):
            i = cuda.grid(1)
            step = cuda.gridsize(1)
            while i < n:
                partner = i ^ j
                if partner > i:
                    ki, kp = keys[i], keys[partner]
                    ii, ip = idx[i], idx[partner]
                    greater = ki > kp or (ki == kp and ii > ip)
                    if greater == ((i & k) == 0):          # out of order for this run's direction
                        keys[i], keys[partner] = kp, ki
                        idx[i], idx[partner] = ip, ii
                i += step

        def init_pairs(n, n_pad, pad, bits, keys, idx):
            i = cuda.grid(1)
            step = cuda.gridsize(1)
            while i < n_pad:
                idx[i] = i
                keys[i] = bits[i] if i < n else pad
                i += step

        ks = _KERNELS["all"] = (cuda.jit(bitonic_step), cuda.jit(init_pairs))
    return ks


def permutation(rng, n):
    """A random permutation of ``0..n-1`` (int64) drawn with the device generator ``rng``."""
    n = int(n)
    if n < 0:
        raise ValueError(f"permutation: n must be non-negative, got {n}")
    out = CudaArray.empty((n,), np.int64)
    if n <= 1:
        if n:
            from .creation import full
            return full((1,), 0, np.int64)
        return out
    n_pad = 1 << (n - 1).bit_length()
    # 62 random bits per key, so the padding key 2**62 sorts after every drawn one.
    bits = rng.draw("randint", (n,), np.int64, a=2 ** 62, b=0, compute=np.float64)
    keys = CudaArray.empty((n_pad,), np.int64)
    idx = CudaArray.empty((n_pad,), np.int64)
    step_k, init = _kernels()
    grid, block = _nb.grid_for(n_pad)
    init[grid, block](n, n_pad, np.int64(2 ** 62), bits.buf, keys.buf, idx.buf)
    k = 2
    while k <= n_pad:
        j = k // 2
        while j:
            step_k[grid, block](n_pad, keys.buf, idx.buf, j, k)
            j //= 2
        k *= 2
    from . import elementwise as E
    return E.copy(idx[:n])


# argsort, short lines: a thread per element counts the elements of its line
# that sort before it (smaller, or equal and earlier; nan is largest and equal
# to nan) and writes its own position at that rank. Stable by construction,
# O(n) per element with no shared state, so any grid gives the same result.
# Long lines: a segmented bitonic sort of (key, position) pairs, each line
# padded to a power of two (padding after everything, nan before it, ties by
# position, so it is stable too): O(n log^2 n) work in log^2(n)/2 launches.
# searchsorted: a thread per value, a binary search of its row.
RANK_MAX = 4 if _nb.SIMULATOR else 64       # the longest line the rank kernel takes
_LESS = "(a < b or (a == a and b != b))"


def _sort_kernels(T):
    key = ("argsort", str(T))
    ks = _KERNELS.get(key)
    if ks is None:
        src = f"""
def rank(total, n, inner, x, x_off, out):
    e = cuda.grid(1)
    step = cuda.gridsize(1)
    while e < total:
        r = (e // inner) % n
        base = (e // (n * inner)) * n * inner + e % inner
        b = T(x[x_off + e])
        k = 0
        for j in range(n):
            a = T(x[x_off + base + j * inner])
            if {_LESS} or (j < r and (a == b or (a != a and b != b))):
                k += 1
        out[base + k * inner] = r
        e += step


def pad_lines(total, n, n_pad, inner, x, x_off, keys, idx):
    e = cuda.grid(1)
    step = cuda.gridsize(1)
    while e < total:
        line = e // n_pad
        p = e % n_pad
        idx[e] = p
        if p < n:
            keys[e] = T(x[x_off + (line // inner) * n * inner + line % inner + p * inner])
        e += step


def line_step(total, n, n_pad, keys, idx, j, k):
    e = cuda.grid(1)
    step = cuda.gridsize(1)
    while e < total:
        p = e % n_pad
        q = p ^ j
        if q > p:
            f = e - p + q
            a = keys[e]
            b = keys[f]
            ia = idx[e]
            ib = idx[f]
            # does (a, ia) sort after (b, ib)? padding (position >= n) last, then nan, then value, then position
            if ia >= n or ib >= n:
                after = ia > ib
            elif a != a or b != b:
                after = (a != a and b == b) or (a != a and ia > ib)
            else:
                after = a > b or (a == b and ia > ib)
            if after == ((p & k) == 0):
                keys[e] = b
                keys[f] = a
                idx[e] = ib
                idx[f] = ia
        e += step


def unpad_lines(total, n, n_pad, inner, idx, out):
    e = cuda.grid(1)
    step = cuda.gridsize(1)
    while e < total:
        line = e // n
        r = e % n
        out[(line // inner) * n * inner + line % inner + r * inner] = idx[line * n_pad + r]
        e += step


def search(total, m, n, batched, right, a, a_off, v, v_off, out):
    e = cuda.grid(1)
    step = cuda.gridsize(1)
    while e < total:
        abase = a_off + (e // m) * n if batched else a_off
        y = T(v[v_off + e])
        lo = 0
        hi = n
        while lo < hi:
            mid = (lo + hi) // 2
            s = T(a[abase + mid])
            if right:
                go = not (y < s or (y == y and s != s))
            else:
                go = s < y or (s == s and y != y)
            if go:
                lo = mid + 1
            else:
                hi = mid
        out[e] = lo
        e += step
"""
        ns = {"cuda": _nb.cuda, "T": T}
        exec(compile(src, "<tapegrad sort>", "exec"), ns)
        ks = _KERNELS[key] = tuple(_nb.cuda.jit(ns[f]) for f in ("rank", "search", "pad_lines", "line_step",
                                                                  "unpad_lines"))
    return ks


def argsort(x, axis):
    """``np.argsort(x, axis, kind="stable")``: int64, nan last."""
    nd = max(x.ndim, 1)
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for array of dimension {x.ndim}")
    if x.ndim == 0:
        x = x.reshape(1)
        axis = 0
    axis %= x.ndim
    out = CudaArray.empty(x.shape, np.int64)
    if out.size == 0:
        return out
    from . import elementwise as E
    if not x.is_contiguous:
        x = E.copy(x)
    n = x.shape[axis]
    inner = 1
    for s in x.shape[axis + 1:]:
        inner *= s
    ct = _common(x.dtype)
    rank, _, pad, line_step, unpad = _sort_kernels(E.nb_type(ct))
    if n <= RANK_MAX:
        grid, block = _nb.grid_for(x.size)
        rank[grid, block](x.size, n, inner, x.buf, x.off, out.buf)
        return out
    n_pad = 1 << (n - 1).bit_length()
    nlines = x.size // n
    keys = CudaArray.empty((nlines * n_pad,), ct)
    idx = CudaArray.empty((nlines * n_pad,), np.int64)
    grid, block = _nb.grid_for(nlines * n_pad)
    pad[grid, block](nlines * n_pad, n, n_pad, inner, x.buf, x.off, keys.buf, idx.buf)
    k = 2
    while k <= n_pad:
        j = k // 2
        while j:
            line_step[grid, block](nlines * n_pad, n, n_pad, keys.buf, idx.buf, j, k)
            j //= 2
        k *= 2
    grid, block = _nb.grid_for(x.size)
    unpad[grid, block](x.size, n, n_pad, inner, idx.buf, out.buf)
    return out


def _common(dtype):
    from .elementwise import compute_dtype       # float16 keys compare as float32, small ints as int32
    d = np.dtype(dtype)
    return np.dtype(np.int64) if d.kind == "b" else compute_dtype(d)


def searchsorted(a, v, side="left"):
    """Per-row ``np.searchsorted`` (int64): ``a`` (..., n) sorted rows, ``v`` (..., m) with the same leading dims."""
    from . import elementwise as E
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if a.ndim == 0:
        raise ValueError("searchsorted: object of too small depth for desired array")
    batched = a.ndim > 1
    if batched and (v.ndim != a.ndim or tuple(v.shape[:-1]) != tuple(a.shape[:-1])):
        raise ValueError(f"searchsorted: the leading dims of the values {tuple(v.shape)} must be those of the "
                         f"sorted rows {tuple(a.shape)}")
    out = CudaArray.empty(v.shape, np.int64)
    if out.size == 0:
        return out
    ct = np.result_type(_common(a.dtype), _common(v.dtype))
    a = E.copy(a) if not a.is_contiguous else a
    v = E.copy(v) if not v.is_contiguous else v
    n = a.shape[-1]
    m = v.shape[-1] if v.ndim else 1
    search = _sort_kernels(E.nb_type(ct))[1]
    grid, block = _nb.grid_for(v.size)
    search[grid, block](v.size, m, n, batched, side == "right", a.buf, a.off, v.buf, v.off, out.buf)
    return out
