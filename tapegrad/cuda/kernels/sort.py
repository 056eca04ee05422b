"""Sorting-based kernels: ``permutation`` (randperm) by a bitonic sort of random keys.

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
