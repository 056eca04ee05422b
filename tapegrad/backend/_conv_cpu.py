"""The NumPy backend's stride-1 convolutions, a chunk of samples at a time (other strides: backend/_conv.py).

Note [conv in cache-sized chunks]: the composed convolution (Note [conv as
im2col] in _conv.py) works on whole-batch arrays: its columns, zero-padded
gradients and per-tap partial sums are each tens of MB on the LeNet
benchmark's second layer (64 x 32 x 26 x 26 input, 64 3x3 filters), so every
pass over them goes to memory. Here the batch is cut into chunks whose
columns fit in about 1 MB, and each chunk is: one copy of its samples into a
zero-bordered buffer (the padding, and the wide grid of _conv.py, so each
kernel tap is one strided view), one copy of all the taps into the columns
``(groups, C/groups * K, m * Lw)`` (sample and position together, so one GEMM
per group covers the chunk with a long inner or outer dimension), one GEMM,
and one copy of the result into place (cropping the wide grid, transposing
to (N, C, ...)). The weight gradient is one GEMM per chunk with the
samples' positions as its inner dimension; the input gradient (a transposed
convolution) is one GEMM to the columns, then ``K`` slice-adds of them into
a chunk-sized accumulator (a numba col2im: backend/_kernels_conv.py).
Measured on that layer (one thread, CPU time on the shared machine): forward
33 ms -> 17-19, weight and input gradients 62 -> about 33, against torch's
oneDNN 19-21 and 32. Most of what is left is the GEMMs themselves (OpenBLAS
at about 100 GFLOP/s on these shapes: 11-12 ms each).
"""
import math

import numpy as np

__all__ = ["conv", "conv_weight", "conv_transpose"]

_CHUNK_BYTES = 1 << 20          # the columns of one chunk: about a quarter of this machine's 4 MB L2


def _plain(stride, *arrays):
    """Whether the chunked path applies: stride 1, float32/float64 arrays of one dtype."""
    dt = arrays[0].dtype
    return (all(s == 1 for s in stride) and dt in (np.float32, np.float64)
            and all(a is None or a.dtype == dt for a in arrays) and all(a is None or a.size for a in arrays))


def _grid_strides(grid):
    st, s = [], 1
    for n in reversed(grid):
        st.append(s)
        s *= n
    return st[::-1]


class _Layout:
    """The wide grid of a stride-1 convolution over ``grid`` (padded input) with kernel ``k`` and ``dilation``."""

    def __init__(self, grid, k, dilation, rows):
        self.grid, self.k, self.dilation = grid, k, dilation
        self.size = math.prod(grid)
        self.lw = rows * math.prod(grid[1:])          # positions of the wide output grid
        st = _grid_strides(grid)
        self.tap_strides = [d * s for d, s in zip(dilation, st)]
        self.offs = [sum(t * s for t, s in zip(tap, self.tap_strides)) for tap in np.ndindex(*k)]
        self.span = max(self.size, self.offs[-1] + self.lw)     # the last tap's run reads past the grid

    def chunk(self, n, channels, itemsize):
        per_sample = channels * len(self.offs) * self.lw * itemsize
        return max(1, min(n, _CHUNK_BYTES // max(per_sample, 1)))


def _columns(buf, lay, groups, m, cols):
    """Copy the taps of ``buf`` (nb, C, span) for its first ``m`` samples into ``cols`` (G, C/G * K, m * Lw)."""
    nb, c, span = buf.shape
    it = buf.itemsize
    shape = (groups, c // groups) + tuple(lay.k) + (m, lay.lw)
    strides = (c // groups * span * it, span * it) + tuple(s * it for s in lay.tap_strides) + (c * span * it, it)
    view = np.lib.stride_tricks.as_strided(buf, shape, strides, writeable=False)
    np.copyto(cols.reshape(shape), view)


def _interior(buf, lay, before, sizes, m):
    """The view of ``buf`` (nb, C, span) where the first ``m`` samples' unpadded values go: (m, C, *sizes)."""
    grid_view = buf[:m, :, :lay.size].reshape((m, buf.shape[1]) + tuple(lay.grid))
    return grid_view[(slice(None), slice(None)) + tuple(slice(p, p + n) for p, n in zip(before, sizes))]


def conv(x, w, b, stride, padding, dilation, groups):
    """``_conv.conv`` on NumPy arrays, in chunks of samples when the stride is 1 (Note [conv in cache-sized chunks])."""
    if not _plain(stride, x, w, b):
        return None
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    k = tuple(w.shape[2:])
    sp = tuple(x.shape[2:])
    grid = tuple(s + 2 * p for s, p in zip(sp, padding))
    out_sp = tuple(g - d * (kk - 1) for g, d, kk in zip(grid, dilation, k))
    if any(s <= 0 for s in out_sp):
        return None
    lay = _Layout(grid, k, dilation, out_sp[0])
    nb = lay.chunk(n, c, x.itemsize)
    kk = len(lay.offs)
    buf = np.zeros((nb, c, lay.span), x.dtype)
    cols_flat = np.empty(c * kk * nb * lay.lw, x.dtype)
    res_flat = np.empty(o * nb * lay.lw, x.dtype)
    wm = w.reshape(groups, o // groups, cg * kk)
    out = np.empty((n, o) + out_sp, x.dtype)
    crop = (slice(None), slice(None), slice(None)) + tuple(slice(0, s) for s in out_sp[1:])
    perm = (1, 0) + tuple(range(2, 2 + len(k)))
    for s in range(0, n, nb):
        m = min(nb, n - s)
        _interior(buf, lay, padding, sp, m)[...] = x[s:s + m]
        cols = cols_flat[:c * kk * m * lay.lw].reshape(groups, cg * kk, m * lay.lw)
        _columns(buf, lay, groups, m, cols)
        res = res_flat[:o * m * lay.lw].reshape(groups, o // groups, m * lay.lw)
        np.matmul(wm, cols, out=res)
        wide = res.reshape((o, m, out_sp[0]) + tuple(grid[1:]))
        out[s:s + m] = wide[crop].transpose(perm)
    if b is not None:
        out += b.reshape((1, o) + (1,) * len(k))
    return out


def conv_weight(x, g, kernel_size, stride, padding, dilation, groups):
    """``_conv.conv_weight`` on NumPy arrays, in chunks of samples when the stride is 1."""
    if not _plain(stride, x, g):
        return None
    n, c = x.shape[:2]
    o = g.shape[1]
    k = tuple(kernel_size)
    sp = tuple(x.shape[2:])
    pos = tuple(g.shape[2:])
    grid = tuple(s + 2 * p for s, p in zip(sp, padding))
    if any(q > gr - d * (kk - 1) for q, gr, d, kk in zip(pos, grid, dilation, k)):
        return None
    lay = _Layout(grid, k, dilation, pos[0])
    nb = lay.chunk(n, c, x.itemsize)
    kk = len(lay.offs)
    cg, og = c // groups, o // groups
    buf = np.zeros((nb, c, lay.span), x.dtype)
    cols_flat = np.empty(c * kk * nb * lay.lw, x.dtype)
    gwide_shape = (o, nb, pos[0]) + tuple(grid[1:])
    gbuf = np.zeros(gwide_shape, x.dtype)          # the wide grid's extra positions stay 0
    gwt = np.zeros((groups, cg * kk, og), x.dtype)         # the transpose: cols @ g.T beats g @ cols.T
    tmp = np.empty_like(gwt)
    inner = (slice(None),) + tuple(slice(0, q) for q in pos[1:])
    perm = (1, 0) + tuple(range(2, 2 + len(k)))
    for s in range(0, n, nb):
        m = min(nb, n - s)
        _interior(buf, lay, padding, sp, m)[...] = x[s:s + m]
        cols = cols_flat[:c * kk * m * lay.lw].reshape(groups, cg * kk, m * lay.lw)
        _columns(buf, lay, groups, m, cols)
        gview = gbuf[:, :m]
        gview[(slice(None), slice(None)) + inner] = g[s:s + m].transpose(perm)
        gm = np.ascontiguousarray(gview).reshape(groups, og, m * lay.lw) if m < nb else \
            gbuf.reshape(groups, og, m * lay.lw)
        np.matmul(cols, gm.transpose(0, 2, 1), out=tmp)
        gwt += tmp
    return np.ascontiguousarray(gwt.transpose(0, 2, 1)).reshape((o, cg) + k)


def conv_transpose(x, w, b, stride, padding, output_padding, dilation, groups):
    """``_conv.conv_transpose`` on NumPy arrays, in chunks of samples when the stride is 1."""
    if not _plain(stride, x, w, b):
        return None
    n, c = x.shape[:2]
    og = w.shape[1]
    k = tuple(w.shape[2:])
    in_sp = tuple(x.shape[2:])
    full = tuple(li + d * (ki - 1) + op for li, d, ki, op in zip(in_sp, dilation, k, output_padding))
    if any(f - 2 * p <= 0 for f, p in zip(full, padding)):
        return None
    lay = _Layout(full, k, dilation, in_sp[0])
    kk = len(lay.offs)
    cout = groups * og
    nb = lay.chunk(n, cout, x.itemsize)
    xshape = (c, nb, in_sp[0]) + tuple(full[1:])
    xbuf = np.zeros(xshape, x.dtype)               # the input on the wide grid, extra positions 0
    cols_flat = np.empty(cout * kk * nb * lay.lw, x.dtype)
    acc_flat = np.empty(cout * nb * lay.span, x.dtype)
    from ._kernels_conv import col2im            # numba: imported on first use
    offs = np.asarray(lay.offs, np.int64)
    wt = w.reshape(groups, c // groups, og * kk).transpose(0, 2, 1)      # (G, O/G * K, C/G)
    out_sp = tuple(f - 2 * p for f, p in zip(full, padding))
    out = np.empty((n, cout) + out_sp, x.dtype)
    inner = (slice(None),) + tuple(slice(0, q) for q in in_sp[1:])
    perm = (1, 0) + tuple(range(2, 2 + len(k)))
    crop = (slice(None), slice(None)) + tuple(slice(p, f - p) for p, f in zip(padding, full))
    for s in range(0, n, nb):
        m = min(nb, n - s)
        xview = xbuf[:, :m]
        xview[(slice(None), slice(None)) + inner] = x[s:s + m].transpose(perm)
        xm = np.ascontiguousarray(xview) if m < nb else xbuf
        cols = cols_flat[:cout * kk * m * lay.lw].reshape(groups, og * kk, m * lay.lw)
        np.matmul(wt, xm.reshape(groups, c // groups, m * lay.lw), out=cols)
        taps = cols.reshape(cout, kk, m, lay.lw)
        acc = acc_flat[:cout * m * lay.span].reshape(cout, m, lay.span)
        col2im(taps, offs, acc)
        grid = acc[:, :, :lay.size].reshape((cout, m) + full)
        out[s:s + m] = grid[crop].transpose(perm)
    if b is not None:
        out += b.reshape((1, cout) + (1,) * len(k))
    return out

