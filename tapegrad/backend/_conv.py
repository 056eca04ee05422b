"""Convolution on any backend, composed of its methods (the defaults of ``conv`` and ``conv_transpose``).

Note [conv as im2col]: the forward reads every window through one
``sliding_windows`` view (Note [sliding windows] in base.py); the reshape to
columns ``(N, groups, C/groups * K, L)`` is the one copy, and one batched
matmul with the ``(groups, O/groups, C/groups * K)`` weight gives the output
already in ``(N, O, *spatial)`` order. The transposed convolution runs that in
reverse: one matmul to columns, then ``K`` strided slice-adds (col2im) into a
zero buffer. Each is the other's VJP for the input (ops/conv.py).
"""
import itertools
import math

__all__ = ["conv", "conv_transpose"]


def _zero_pad(be, x, padding):
    """``x`` with ``padding[i]`` zeros on both sides of spatial dim ``i`` (dims 2 onward); ``x`` when none."""
    if not any(padding):
        return x
    shape = tuple(x.shape[:2]) + tuple(n + 2 * p for n, p in zip(x.shape[2:], padding))
    out = be.zeros(shape, x.dtype)
    be.setitem(out, (slice(None), slice(None)) + tuple(slice(p, p + n) for n, p in zip(x.shape[2:], padding)), x)
    return out


def _add_bias(be, out, b):
    if b is not None:
        out += be.reshape(b, (1, b.shape[0]) + (1,) * (out.ndim - 2))
    return out


def conv(be, x, w, b=None, stride=(1,), padding=(0,), dilation=(1,), groups=1):
    """PyTorch's N-d convolution (cross-correlation) of ``x`` (N, C, *S) with ``w`` (O, C/groups, *K)."""
    n, c = x.shape[:2]
    nd = x.ndim - 2
    o, cg = w.shape[:2]
    k = tuple(w.shape[2:])
    xp = _zero_pad(be, x, padding)
    win = be.sliding_windows(xp, tuple(range(2, 2 + nd)), k, stride, dilation)     # (N, C, *L, *K)
    out_sp = tuple(win.shape[2:2 + nd])
    perm = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
    cols = be.reshape(be.transpose(win, perm), (n, groups, cg * math.prod(k), math.prod(out_sp)))
    out = be.matmul(be.reshape(w, (groups, o // groups, cg * math.prod(k))), cols)
    return _add_bias(be, be.reshape(out, (n, o) + out_sp), b)


def conv_transpose(be, x, w, b=None, stride=(1,), padding=(0,), output_padding=(0,), dilation=(1,), groups=1):
    """PyTorch's N-d transposed convolution of ``x`` (N, C, *L) with ``w`` (C, O/groups, *K): conv's adjoint."""
    n, c = x.shape[:2]
    nd = x.ndim - 2
    og = w.shape[1]
    k = tuple(w.shape[2:])
    in_sp = tuple(x.shape[2:])
    kk = math.prod(k)
    wm = be.transpose(be.reshape(w, (groups, c // groups, og * kk)), (0, 2, 1))
    cols = be.matmul(wm, be.reshape(x, (n, groups, c // groups, math.prod(in_sp))))   # (N, G, O/G * K, L)
    cols = be.reshape(cols, (n, groups * og) + k + in_sp)
    full = tuple((li - 1) * s + d * (ki - 1) + 1 + op
                 for li, s, d, ki, op in zip(in_sp, stride, dilation, k, output_padding))
    out = be.zeros((n, groups * og) + full, cols.dtype)
    lead = (slice(None), slice(None))
    for pos in itertools.product(*(range(ki) for ki in k)):
        key = lead + tuple(slice(p * d, p * d + s * (li - 1) + 1, s)
                           for p, d, s, li in zip(pos, dilation, stride, in_sp))
        be.setitem(out, key, be.getitem(out, key) + be.getitem(cols, lead + pos))
    if any(padding):
        out = be.ascontiguousarray(be.getitem(out, lead + tuple(slice(p, f - p) for p, f in zip(padding, full))))
    return _add_bias(be, out, b)
