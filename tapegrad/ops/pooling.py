"""Pooling: where each window's maximum is (``max_pool_indices``, never recorded).

# Note [max pooling as a gather]
Max pooling is two steps. ``max_pool_indices`` finds, for every window of the
(-inf padded) input, PyTorch's flat per-plane index of its maximum: the
window's first maximal element in kernel order, or its last NaN (PyTorch's CPU
rule ``val > max || isnan(val)``, starting from -inf at the window's first
element inside the input). It reads the windows through the backend's strided
``sliding_windows`` view and, for up to 16 taps, makes one pass per kernel tap
over output-sized arrays, so nothing the size of ``N * C * L * K`` is copied;
larger windows are copied once for one ``argmax`` (``_window_argmax``). The values are
then a ``getitem`` of the flattened input at those indices (nn/_functional/
pooling.py), whose VJP is ``scatter_add`` (a numba kernel on the CPU) and whose
second derivative is ``getitem`` again: no pooling VJP is written by hand, and
the gradient goes to the first maximum of each window, as in PyTorch. The same
two paths serve adaptive max pooling over windows gathered by index
(``adaptive_max_pool_indices``), whose sizes vary.
"""
import itertools
import math

from .registry import op

__all__ = []


def _first_max(be, taps, start, nan):
    """The label of the first maximum (or last NaN) over ``taps``: pairs ``(values, label)``, broadcast to the values.

    Labels are non-negative ints or int arrays, non-decreasing from tap to tap; ``start`` is the
    label a window keeps when no value beats -inf (its first element inside the input, PyTorch's
    starting index). Every tap before a window's ``start`` is -inf padding, so a tap that beats the
    running maximum always has a label at least the current one, and the update is
    ``maximum(idx, beats * label)``: two cheap passes where ``where`` would cost several.
    ``nan``: whether the input has a NaN (PyTorch's ``val > max || isnan(val)`` picks the last).
    """
    best = idx = None
    for v, label in taps:
        if best is None:
            best, idx = v, start       # the first tap is in the input exactly when start is its label
            continue
        m = be.greater(v, best)
        if nan:
            m = be.logical_or(m, be.isnan(v))
        best = be.maximum(best, v)
        idx = be.maximum(idx, m * label)
    return be.broadcast_to(idx, tuple(v.shape))


_LOOP_TAPS = 16     # up to this many taps per window, one pass per tap beats copying the windows for argmax


def _window_argmax(be, win, nd, nan):
    """Tap label of the first maximum (or last NaN) of each window of ``win`` (N, C, *L, *K): one copy, one argmax."""
    lead = tuple(win.shape[:2 + nd])
    flat = be.reshape(win, lead + (math.prod(win.shape[2 + nd:]),))
    label = be.argmax(flat, axis=-1)
    if nan:
        isn = be.isnan(flat)
        last = (flat.shape[-1] - 1) - be.argmax(be.flip(isn, axis=-1), axis=-1)
        label = be.where(be.any(isn, axis=-1), last, label)
    return label


def _axis_vec(be, values, nd, d):
    """``values`` (Python ints) as an int64 array shaped to broadcast along spatial dim ``d`` of ``nd``."""
    shape = [1] * nd
    shape[d] = len(values)
    return be.reshape(be.asarray(values, "int64"), tuple(shape))


def _plane_strides(sp):
    strides, acc = [], 1
    for n in reversed(sp):
        strides.append(acc)
        acc *= n
    return tuple(reversed(strides))


@op("max_pool_indices", promote=None, tensors=1, math=None)
def max_pool_indices_op(be, x, kernel_size, stride, padding, dilation, out_size, fill=float("-inf")):
    """PyTorch's flat per-plane index of each window's maximum: int64 ``(N, C, *out_size)``.

    Note [max pooling as a gather]; ``fill`` pads the input (-inf, or an integer dtype's lowest value).
    """
    nd = len(kernel_size)
    sp = tuple(x.shape[2:])
    right = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - n - p)
                  for o, s, d, k, n, p in zip(out_size, stride, dilation, kernel_size, sp, padding))
    if any(padding) or any(right):
        padded = tuple(x.shape[:2]) + tuple(n + p + r for n, p, r in zip(sp, padding, right))
        xp = be.full(padded, fill, x.dtype)          # -inf, or an integer dtype's lowest value
        be.setitem(xp, (slice(None), slice(None)) + tuple(slice(p, p + n) for p, n in zip(padding, sp)), x)
    else:
        xp = x
    win = be.sliding_windows(xp, tuple(range(2, 2 + nd)), kernel_size, stride, dilation)
    win = be.getitem(win, (slice(None), slice(None)) + tuple(slice(0, o) for o in out_size))
    pst = _plane_strides(sp)
    taps = list(itertools.product(*(range(k) for k in kernel_size)))
    # window p's first tap inside the input, per dim: PyTorch's ``while (start < 0) start += dilation``
    first = 0
    for d in range(nd):
        k0 = [-(-(padding[d] - o * stride[d]) // dilation[d]) if o * stride[d] < padding[d] else 0
              for o in range(out_size[d])]
        first = first + _axis_vec(be, [k * math.prod(kernel_size[d + 1:]) for k in k0], nd, d)
    nan = x.dtype.kind == "f" and bool(be.any(be.isnan(x)))
    if len(taps) <= _LOOP_TAPS:
        label = _first_max(be, [(be.getitem(win, (Ellipsis,) + t), i) for i, t in enumerate(taps)], first, nan)
    else:   # the first maximum is at or after the first tap inside the input (the earlier ones are padding)
        label = be.maximum(_window_argmax(be, win, nd, nan), first)
    # flat index = the window's origin in the input plane + the tap's offset
    base = 0
    for d in range(nd):
        base = base + _axis_vec(be, [(o * stride[d] - padding[d]) * pst[d] for o in range(out_size[d])], nd, d)
    offsets = be.asarray([sum(k * dl * st for k, dl, st in zip(t, dilation, pst)) for t in taps], "int64")
    return be.take(offsets, label) + base


@op("adaptive_max_pool_indices", promote=None, tensors=1, math=None)
def adaptive_max_pool_indices_op(be, x, out_size):
    """PyTorch's flat per-plane index of the maximum of each adaptive window: int64 ``(N, C, *out_size)``.

    Window ``i`` of a dim of ``n`` covers ``[floor(i n / o), ceil((i + 1) n / o))``; the windows are
    gathered by index, padded to the longest by repeating their last element (a repeat never beats the first).
    """
    nd = len(out_size)
    sp = tuple(x.shape[2:])
    pst = _plane_strides(sp)
    bounds = [[(i * n // o, -(-(i + 1) * n // o)) for i in range(o)] for n, o in zip(sp, out_size)]
    longest = [max(e - s for s, e in b) for b in bounds]
    g = x
    for d in range(nd):
        rows = [[min(s + j, e - 1) for j in range(longest[d])] for s, e in bounds[d]]
        key = (slice(None),) * (2 + 2 * d) + (be.asarray(rows, "int64"),)
        g = be.getitem(g, key)               # axis 2 + 2d becomes (o_d, k_d)
    # g: (N, C, o_1, k_1, ..., o_nd, k_nd); tap labels run over (k_1, ..., k_nd), the first element is label 0
    nan = bool(be.any(be.isnan(x)))
    taps = list(itertools.product(*(range(k) for k in longest)))
    if len(taps) <= _LOOP_TAPS:
        keys = [(slice(None), slice(None)) + sum(((slice(None), k) for k in t), ()) for t in taps]
        label = _first_max(be, [(be.getitem(g, key), i) for i, key in enumerate(keys)],
                           be.zeros((1,) * nd, "int64"), nan)
    else:
        perm = (0, 1) + tuple(range(2, 2 + 2 * nd, 2)) + tuple(range(3, 3 + 2 * nd, 2))
        label = _window_argmax(be, be.transpose(g, perm), nd, nan)
    flat = 0
    for d in range(nd):
        k = be.remainder(be.floor_divide(label, math.prod(longest[d + 1:])), longest[d])
        lo = _axis_vec(be, [s for s, _ in bounds[d]], nd, d)
        hi = _axis_vec(be, [e - 1 for _, e in bounds[d]], nd, d)
        flat = flat + be.minimum(lo + k, hi) * pst[d]
    return flat
