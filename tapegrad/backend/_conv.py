"""Convolution on any backend, composed of its methods (the defaults of ``conv``, ``conv_weight``, ``conv_transpose``).

Note [conv as im2col]: a convolution is one batched matmul of the
``(groups, O/groups, C/groups * K)`` weight with columns ``(N, groups,
C/groups * K, L)`` of the input, which gives the output already in ``(N, O,
*spatial)`` order; the weight gradient is the output gradient times the same
columns; the transposed convolution is the weight's transpose times its
input, then col2im: each of the ``K`` kernel taps adds its row of columns
back into the output. How the columns are made:

- strided (any stride): the ``sliding_windows`` view (Note [sliding windows]
  in base.py), transposed and reshaped, is the one copy; col2im is ``K``
  strided slice-adds.
- wide (stride 1 in every dim, the common case): over the input flattened
  per channel, tap ``t`` of every window is one contiguous run starting at a
  fixed offset, if the output grid is taken as wide as the padded input in
  every dim but the first. So no columns are copied at all: each tap is a
  view of the flat input, and the convolution is ``K`` matmuls of the
  ``(O, C)`` slice of the weight with those views, summed (the weight
  gradient: ``K`` matmuls, one per tap; col2im: ``K`` matmuls, each added
  in place into a contiguous run). Measured on the LeNet benchmark's second
  layer in NumPy: the weight gradient 25 ms instead of 38 with the im2col
  copy, the input gradient 28 instead of 34. The wide grid's extra positions
  read wrapped-around values: the forward crops them, and the gradients feed
  them zeros (the output gradient padded to the wide grid), so they add
  nothing.
"""
import itertools
import math

__all__ = ["conv", "conv_transpose", "conv_weight"]


def _pad(be, x, before, after):
    """``x`` with ``before[i]``/``after[i]`` zeros around spatial dim ``i`` (dims 2 onward); ``x`` when none."""
    if not any(before) and not any(after):
        return x
    sp = tuple(x.shape[2:])
    out = be.zeros(tuple(x.shape[:2]) + tuple(n + b + a for n, b, a in zip(sp, before, after)), x.dtype)
    be.setitem(out, (slice(None), slice(None)) + tuple(slice(b, b + n) for n, b in zip(sp, before)), x)
    return out


def _add_bias(be, out, b):
    if b is not None:
        out += be.reshape(b, (1, b.shape[0]) + (1,) * (out.ndim - 2))
    return out


def _crop(be, x, sizes):
    """The leading ``sizes`` of each spatial dim of ``x``, C-contiguous (``x`` itself when it has them)."""
    if tuple(x.shape[2:]) == tuple(sizes):
        return x
    return be.ascontiguousarray(be.getitem(x, (slice(None), slice(None)) + tuple(slice(0, n) for n in sizes)))


def _strides(shape):
    st, s = [], 1
    for n in reversed(shape):
        st.append(s)
        s *= n
    return st[::-1]


def _taps(grid, k, dilation):
    """Flat offsets of each kernel tap in a C-order ``grid``, and the tail the last tap's run reads past it."""
    st = _strides(grid)
    offs = [sum(t * d * s for t, d, s in zip(tap, dilation, st)) for tap in itertools.product(*(range(n) for n in k))]
    return offs, sum((n - 1) * d * s for n, d, s in zip(k[1:], dilation[1:], st[1:]))


def _flat(be, xp, k, dilation):
    """The padded input flattened per channel, with the zero tail the last tap reads: ``(xf, tap offsets)``."""
    n, c = xp.shape[:2]
    grid = tuple(xp.shape[2:])
    offs, tail = _taps(grid, k, dilation)
    xf = be.reshape(xp, (n, c, math.prod(grid)))
    if tail:
        xf = be.concatenate([xf, be.zeros((n, c, tail), xp.dtype)], axis=2)
    return xf, offs


def _tap(be, xf, off, lw, groups):
    """Tap ``off``'s run of every wide-grid window: a view ``(N, groups, C/groups, Lw)`` of the flat input."""
    n, c = xf.shape[:2]
    return be.reshape(be.narrow(xf, 2, off, lw), (n, groups, c // groups, lw))


# Per-tap matmuls reduce over C/groups channels: below this many, copying the columns (the K tap views
# stacked, one matmul reducing over C/groups * K) is faster (LeNet's first layer, C=1: 1 ms instead of 24).
_PER_TAP_MIN_CHANNELS = 8


def _wide_columns(be, xf, offs, lw, groups):
    """The wide grid's columns ``(N, groups, C/groups * K, Lw)``: the ``K`` tap views stacked (one copy)."""
    n, c = xf.shape[:2]
    cols = be.stack([be.narrow(xf, 2, off, lw) for off in offs], axis=2)          # (N, C, K, Lw)
    return be.reshape(cols, (n, groups, c // groups * len(offs), lw))


def _strided_columns(be, xp, k, stride, dilation, groups, positions):
    """im2col through the window view, keeping the first ``positions`` of each spatial dim: ``(N, g, C/g * K, L)``."""
    n, c = xp.shape[:2]
    nd = xp.ndim - 2
    win = be.sliding_windows(xp, tuple(range(2, 2 + nd)), k, stride, dilation)     # (N, C, *L, *K)
    if tuple(positions) != tuple(win.shape[2:2 + nd]):
        win = be.getitem(win, (slice(None), slice(None)) + tuple(slice(0, p) for p in positions))
    perm = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
    return be.reshape(be.transpose(win, perm), (n, groups, c // groups * math.prod(k), math.prod(positions)))


def _positions(sp, k, stride, padding, dilation):
    return tuple((n + 2 * p - d * (kk - 1) - 1) // s + 1 for n, kk, s, p, d in zip(sp, k, stride, padding, dilation))


def conv(be, x, w, b=None, stride=(1,), padding=(0,), dilation=(1,), groups=1):
    """PyTorch's N-d convolution (cross-correlation) of ``x`` (N, C, *S) with ``w`` (O, C/groups, *K)."""
    n = x.shape[0]
    o, cg = w.shape[:2]
    k = tuple(w.shape[2:])
    out_sp = _positions(x.shape[2:], k, stride, padding, dilation)
    xp = _pad(be, x, padding, padding)
    if all(s == 1 for s in stride):         # one matmul per tap on the wide grid, summed (Note [conv as im2col])
        xf, offs = _flat(be, xp, k, dilation)
        lw = out_sp[0] * math.prod(xp.shape[3:])
        if cg < _PER_TAP_MIN_CHANNELS:
            out = be.matmul(be.reshape(w, (groups, o // groups, cg * len(offs))),
                            _wide_columns(be, xf, offs, lw, groups))
        else:
            wt = be.transpose(be.reshape(w, (groups, o // groups, cg, len(offs))), (3, 0, 1, 2))  # (K, G, O/G, C/G)
            out = None
            for t, off in enumerate(offs):
                term = be.matmul(be.getitem(wt, t), _tap(be, xf, off, lw, groups))            # (N, G, O/G, Lw)
                if out is None:
                    out = term
                else:
                    out += term
        out = _crop(be, be.reshape(out, (n, o, out_sp[0]) + tuple(xp.shape[3:])), out_sp)
    else:
        wm = be.reshape(w, (groups, o // groups, cg * math.prod(k)))
        out = be.reshape(be.matmul(wm, _strided_columns(be, xp, k, stride, dilation, groups, out_sp)),
                         (n, o) + out_sp)
    return _add_bias(be, out, b)


def conv_weight(be, x, g, kernel_size, stride=(1,), padding=(0,), dilation=(1,), groups=1):
    """The weight gradient of ``conv(x, w)`` for output gradient ``g`` (N, O, *L): ``(O, C/groups, *K)``.

    ``g`` may have fewer positions than ``x``'s windows (a transposed convolution's output padding): the tail
    is left out.
    """
    n, o = g.shape[:2]
    k = tuple(kernel_size)
    pos = tuple(g.shape[2:])
    xp = _pad(be, x, padding, padding)
    if all(s == 1 for s in stride):         # one matmul per tap on the wide grid (Note [conv as im2col])
        xf, offs = _flat(be, xp, k, dilation)
        g = _pad(be, g, (0,) * len(pos), (0,) + tuple(p - q for p, q in zip(xp.shape[3:], pos[1:])))
        lw = pos[0] * math.prod(xp.shape[3:])
        gm = be.reshape(g, (n, groups, o // groups, lw))
        if x.shape[1] // groups >= _PER_TAP_MIN_CHANNELS:
            taps = [be.sum(be.matmul(gm, be.transpose(_tap(be, xf, off, lw, groups), (0, 1, 3, 2))), axis=0)
                    for off in offs]                                                    # K x (G, O/G, C/G)
            return be.reshape(be.stack(taps, axis=3), (o, x.shape[1] // groups) + k)
        cols = _wide_columns(be, xf, offs, lw, groups)
    else:
        cols = _strided_columns(be, xp, k, stride, dilation, groups, pos)
        gm = be.reshape(g, (n, groups, o // groups, cols.shape[3]))
    gw = be.sum(be.matmul(gm, be.transpose(cols, (0, 1, 3, 2))), axis=0)      # (groups, O/groups, C/groups * K)
    return be.reshape(gw, (o, x.shape[1] // groups) + k)


def conv_transpose(be, x, w, b=None, stride=(1,), padding=(0,), output_padding=(0,), dilation=(1,), groups=1):
    """PyTorch's N-d transposed convolution of ``x`` (N, C, *L) with ``w`` (C, O/groups, *K): conv's adjoint."""
    n, c = x.shape[:2]
    og = w.shape[1]
    k = tuple(w.shape[2:])
    in_sp = tuple(x.shape[2:])
    kk = math.prod(k)
    full = tuple((li - 1) * s + d * (ki - 1) + 1 + op
                 for li, s, d, ki, op in zip(in_sp, stride, dilation, k, output_padding))
    lead = (slice(None), slice(None))
    if all(s == 1 for s in stride):         # col2im on the wide grid, one matmul per tap (Note [conv as im2col])
        xw = _pad(be, x, (0,) * len(k), (0,) + tuple(f - li for f, li in zip(full[1:], in_sp[1:])))
        lw = in_sp[0] * math.prod(full[1:])
        xw = be.reshape(xw, (n, groups, c // groups, lw))
        offs, tail = _taps(full, k, dilation)
        out = be.zeros((n, groups * og, math.prod(full) + tail), x.dtype)
        if c // groups >= _PER_TAP_MIN_CHANNELS:
            wt = be.transpose(be.reshape(w, (groups, c // groups, og, kk)), (3, 0, 2, 1))     # (K, G, O/G, C/G)
            terms = (be.reshape(be.matmul(be.getitem(wt, t), xw), (n, groups * og, lw)) for t in range(kk))
        else:                               # few channels: one matmul to all the columns, then K slices of it
            wm = be.transpose(be.reshape(w, (groups, c // groups, og * kk)), (0, 2, 1))   # (G, O/G * K, C/G)
            cols = be.reshape(be.matmul(wm, xw), (n, groups * og, kk, lw))
            terms = (be.getitem(cols, lead + (t,)) for t in range(kk))
        for off, term in zip(offs, terms):
            view = be.getitem(out, lead + (slice(off, off + lw),))
            view += term                    # in place through the basic-slice view (both backends)
        out = be.reshape(be.narrow(out, 2, 0, math.prod(full)) if tail else out, (n, groups * og) + full)
    else:
        wm = be.transpose(be.reshape(w, (groups, c // groups, og * kk)), (0, 2, 1))   # (G, O/G * K, C/G)
        cols = be.matmul(wm, be.reshape(x, (n, groups, c // groups, math.prod(in_sp))))   # (N, G, O/G * K, L)
        cols = be.reshape(cols, (n, groups * og) + k + in_sp)
        out = be.zeros((n, groups * og) + full, cols.dtype)
        for pos in itertools.product(*(range(ki) for ki in k)):
            key = lead + tuple(slice(p * d, p * d + s * (li - 1) + 1, s)
                               for p, d, s, li in zip(pos, dilation, stride, in_sp))
            view = be.getitem(out, key)
            view += be.getitem(cols, lead + pos)
    if any(padding):
        out = be.ascontiguousarray(be.getitem(out, lead + tuple(slice(p, f - p) for p, f in zip(padding, full))))
    return _add_bias(be, out, b)
