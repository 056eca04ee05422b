"""numba kernels for the CPU backend where NumPy has no fast path. Imported lazily."""
import math

import numba
import numpy as np


@numba.vectorize(["float32(float32)", "float64(float64)"], cache=False)
def erf(x):
    return math.erf(x)


_SPECIAL = {}


def special(name):
    """The special function ``name`` of ``_special.SOURCES``, vectorized for float32 and float64 (float64 math).

    Each compiles on first use (about a second), not when this module is imported.
    """
    fn = _SPECIAL.get(name)
    if fn is None:
        fn = _SPECIAL[name] = _compile_special(name)
    return fn


def _compile_special(name):
    from . import _special
    src = f"def {name}(a):\n{_special.SOURCES[name]}"
    ns = {"math": math, "T": float, "INF": math.inf, "NAN": math.nan, "PI": math.pi}
    exec(compile(src, f"<tapegrad special {name}>", "exec"), ns)
    return numba.vectorize(["float32(float32)", "float64(float64)"], cache=False)(ns[name])



@numba.njit(cache=False, nogil=True)
def _add_rows(out, rows, vals):
    # out[rows[i], :] += vals[i, :], sequentially, so repeated rows accumulate.
    m = out.shape[1]
    for i in range(rows.shape[0]):
        r = rows[i]
        for j in range(m):
            out[r, j] += vals[i, j]


def _leading_int_arrays(key, ndim):
    """The integer index arrays if ``key`` is (int arrays/ints..., full slices...), else None.

    That is the common advanced key: embedding lookups, index_select along
    dim 0, gather; for it the scatter is one pass of ``_add_rows`` over rows.
    Bool masks become their nonzero() index arrays, as NumPy does.
    """
    lead = []
    i = 0
    n = len(key)
    while i < n:
        k = key[i]
        if isinstance(k, np.ndarray):
            if k.dtype == np.bool_:
                lead.extend(np.nonzero(k))
            elif k.dtype.kind in "iu":
                lead.append(k)
            else:
                return None
        elif type(k) is int:
            lead.append(k)
        else:
            break
        i += 1
    if not lead or all(type(k) is int for k in lead) or len(lead) > ndim:
        return None
    for k in key[i:]:
        if not (k is Ellipsis or (type(k) is slice and k == slice(None))):
            return None
    return lead


def add_at(out, key, values):
    """``out[key] += values`` with repeated indices accumulating (NumPy's ``add.at``)."""
    lead = _leading_int_arrays(key if type(key) is tuple else (key,), out.ndim)
    if lead is None or not out.flags.c_contiguous:
        np.add.at(out, key, values)
        return
    k = len(lead)
    dims = out.shape[:k]
    idx = np.broadcast_arrays(*[np.asarray(a) for a in lead])
    bshape = idx[0].shape
    rest = out.shape[k:]
    m = math.prod(rest)
    nrow = math.prod(bshape)
    if m == 0 or nrow == 0:
        return
    # ravel_multi_index refuses negatives; wrap them once (the forward already checked bounds).
    idx = [np.where(a < 0, a + s, a) if a.size and a.min() < 0 else a for a, s in zip(idx, dims)]
    rows = np.ravel_multi_index(idx, dims).reshape(-1)
    vals = np.ascontiguousarray(np.broadcast_to(values, bshape + rest)).reshape(nrow, m)
    _add_rows(out.reshape(math.prod(dims), m), rows, vals.astype(out.dtype, copy=False))


# --------------------------------------------------------------------------- fused cross-entropy rows
# Note [fused cross-entropy]: for (N, C) logits and class-index targets the
# loss and its gradient are each a few passes over the rows instead of a dozen
# NumPy calls each allocating an (N, C) temporary: the row maximum subtracted
# (a numba pass, Note [softmax rows]), NumPy's SIMD ``exp`` (numba's
# ``math.exp`` is a scalar libm call: 0.7 ms for the GPT benchmark's (1024, 65)
# logits, forward and gradient, against about 0.1), then one numba pass for the
# row sums (accumulated in float64) and the loss or gradient.

@numba.njit(cache=True, nogil=True)
def _ce_rows(shifted, e, t, ignore_index, loss):
    n, c = shifted.shape
    count = 0
    for i in range(n):
        ti = t[i]
        if ti == ignore_index:
            loss[i] = 0.0
            continue
        if ti < 0 or ti >= c:
            return -1 - i
        s = 0.0
        for j in range(c):
            s += e[i, j]
        loss[i] = math.log(s) - shifted[i, ti]
        count += 1
    return count


@numba.njit(cache=True, nogil=True)
def _ce_row_grad(o, ti, ignore_index, sc):
    # one row: o holds exp(x - rowmax) on entry, (softmax - onehot) * sc on exit (0 for an ignored row)
    c = o.shape[0]
    if ti == ignore_index:
        for j in range(c):
            o[j] = 0.0
        return
    s = 0.0
    for j in range(c):
        s += o[j]
    k = sc / s
    for j in range(c):
        o[j] = o[j] * k
    o[ti] -= sc


@numba.njit(cache=True, nogil=True)
def _ce_rows_grad(t, ignore_index, scale, out):
    # out holds exp(x - rowmax) on entry
    for i in range(out.shape[0]):
        _ce_row_grad(out[i], t[i], ignore_index, scale[i])


@numba.njit(cache=True, nogil=True)
def _ce_rows_grad_reduced(t, ignore_index, g, mean, out):
    # ``_ce_rows_grad`` with every row's scale ``g`` ('sum') or ``g / max(count, 1)`` ('mean'), the count
    # taken here and divided in the logits' dtype, as the composed path does (Note [all targets ignored])
    n, c = out.shape
    sc = g
    if mean:
        count = 0
        for i in range(n):
            if t[i] != ignore_index:
                count += 1
        d = np.empty(1, out.dtype)
        d[0] = max(count, 1)
        sc = g / d[0]
    for i in range(n):
        _ce_row_grad(out[i], t[i], ignore_index, sc)


def _shift(x, out):
    """``x - rowmax`` into ``out`` (a NaN in a row makes its maximum NaN)."""
    from ._kernels_norm import _shift_rows
    _shift_rows(x, out)


def ce_rows(x, t, ignore_index):
    x = np.ascontiguousarray(x)
    loss = np.empty(x.shape[0], x.dtype)
    shifted = np.empty(x.shape, x.dtype)
    if x.shape[1]:
        _shift(x, shifted)
    count = _ce_rows(shifted, np.exp(shifted), np.ascontiguousarray(t, dtype=np.int64), ignore_index, loss)
    if count < 0:
        i = -1 - count
        raise IndexError(f"Target {int(t[i])} is out of bounds for {x.shape[1]} classes (input shape "
                         f"{tuple(x.shape)})")
    return loss, count


def ce_rows_grad(x, t, ignore_index, scale):
    x = np.ascontiguousarray(x)
    out = np.empty(x.shape, x.dtype)
    if x.shape[1]:
        _shift(x, out)
        np.exp(out, out=out)
    _ce_rows_grad(np.ascontiguousarray(t, dtype=np.int64), ignore_index, np.ascontiguousarray(scale, dtype=x.dtype),
                  out)
    return out


def ce_rows_grad_reduced(x, t, ignore_index, g, mean):
    """``ce_rows_grad`` of the 'mean' (``mean``) or 'sum' loss for the 0-d output gradient ``g``: one numba
    pass after the shifted ``exp``, no scale array (x float32/float64, ``g`` of x's dtype)."""
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    if t.dtype is not _I64 or not t.flags.c_contiguous:     # an equal dtype object converts as a no-op
        t = np.ascontiguousarray(t, dtype=np.int64)
    out = np.empty(x.shape, x.dtype)
    if x.shape[1]:
        (_SHIFT[0] if _SHIFT else _shift_rows())(x, out)
        np.exp(out, out=out)
    _ce_rows_grad_reduced(t, ignore_index, x.dtype.type(g), bool(mean), out)
    return out


_SHIFT = []
_I64 = np.dtype(np.int64)


def _shift_rows():
    if not _SHIFT:
        from ._kernels_norm import _shift_rows as f
        _SHIFT.append(f)
    return _SHIFT[0]


# --------------------------------------------------------------------------- fused optimizer updates
# Note [fused updates] (optim/optimizer.py): one pass over the parameter with
# no temporaries, where NumPy needs a parameter-sized temporary for every
# ``lr * g``-style term. Same formulas, in the same order, as the CUDA kernels
# and PyTorch's single-tensor SGD and Adam.

@numba.njit(cache=True, nogil=True)
def _sgd(p, g, buf, lr, mom, one_m_damp, wd, nesterov, maximize, first):
    for i in range(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if wd != 0:
            d += wd * p[i]
        if mom != 0:
            b = d if first else mom * buf[i] + one_m_damp * d
            buf[i] = b
            d = d + mom * b if nesterov else b
        p[i] -= lr * d


@numba.njit(cache=True, nogil=True)
def _adam(p, g, m, v, b1, one_m_b1, b2, one_m_b2, eps, wd, decay, coupled, maximize, step_size, bc2_sqrt):
    for i in range(p.shape[0]):
        d = -g[i] if maximize else g[i]
        w = p[i] * decay
        if coupled:
            d += wd * w
        mi = b1 * m[i] + one_m_b1 * d
        vi = b2 * v[i] + one_m_b2 * d * d
        m[i] = mi
        v[i] = vi
        p[i] = w - step_size * mi / (math.sqrt(vi) / bc2_sqrt + eps)


def _flat(*arrays):
    return [a.reshape(-1) for a in arrays]      # views: the arrays are C-contiguous (optim checks)


def sgd_update_(param, grad, buf, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                maximize=False, first_step=False):
    t = param.dtype.type
    p, g = _flat(param, grad)
    b = buf.reshape(-1) if momentum else p
    _sgd(p, g, b, t(lr), t(momentum), t(1 - dampening), t(weight_decay), bool(nesterov), bool(maximize),
         bool(first_step))


def adam_update_(param, grad, exp_avg, exp_avg_sq, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                 weight_decay=0.0, decoupled=False, maximize=False):
    t = param.dtype.type
    p, g, m, v = _flat(param, grad, exp_avg, exp_avg_sq)
    bc1 = 1 - beta1 ** step
    _adam(p, g, m, v, t(beta1), t(1 - beta1), t(beta2), t(1 - beta2), t(eps), t(weight_decay),
          t(1 - lr * weight_decay if decoupled else 1), bool(weight_decay and not decoupled), bool(maximize),
          t(lr / bc1), t(math.sqrt(1 - beta2 ** step)))


# --------------------------------------------------------------------------- multi-tensor optimizer updates
# Note [multi-tensor updates]: a whole parameter group in one numba call (optim/_multi.py gathers the
# arrays). numba types a tuple argument element by element in Python (about 0.8 µs per array), but a
# plain array argument in C (about 0.1 µs), so the kernels take a fixed number of array arguments: 8
# slots of each kind per call, or 4 for the last few parameters (every slot costs its unboxing, used or
# not), unused slots filled with an empty array; without momentum SGD takes no buffer slots.
# Each slot runs the single-tensor kernel above, so the results are those of ``sgd_update_`` and
# ``adam_update_`` bit for bit, and there is one compiled specialization per dtype whatever the group.
_EMPTY = {}
_MULTI_TYPES = (np.float32, np.float64)


@numba.njit(cache=True, nogil=True)
def _sgd4(p0, p1, p2, p3, g0, g1, g2, g3, lr, mom, one_m_damp, wd, nesterov, maximize, first):
    # without momentum: the parameter stands in for the unused buffer, as in ``sgd_update_``
    _sgd(p0, g0, p0, lr, mom, one_m_damp, wd, nesterov, maximize, first)
    _sgd(p1, g1, p1, lr, mom, one_m_damp, wd, nesterov, maximize, first)
    _sgd(p2, g2, p2, lr, mom, one_m_damp, wd, nesterov, maximize, first)
    _sgd(p3, g3, p3, lr, mom, one_m_damp, wd, nesterov, maximize, first)


@numba.njit(cache=True, nogil=True)
def _sgd8(p0, p1, p2, p3, p4, p5, p6, p7, g0, g1, g2, g3, g4, g5, g6, g7, lr, mom, one_m_damp, wd, nesterov,
          maximize, first):
    _sgd4(p0, p1, p2, p3, g0, g1, g2, g3, lr, mom, one_m_damp, wd, nesterov, maximize, first)
    _sgd4(p4, p5, p6, p7, g4, g5, g6, g7, lr, mom, one_m_damp, wd, nesterov, maximize, first)


@numba.njit(cache=True, nogil=True)
def _sgdm4(p0, p1, p2, p3, g0, g1, g2, g3, b0, b1, b2, b3, lr, mom, one_m_damp, wd, nesterov, maximize, first):
    _sgd(p0, g0, b0, lr, mom, one_m_damp, wd, nesterov, maximize, first)
    _sgd(p1, g1, b1, lr, mom, one_m_damp, wd, nesterov, maximize, first)
    _sgd(p2, g2, b2, lr, mom, one_m_damp, wd, nesterov, maximize, first)
    _sgd(p3, g3, b3, lr, mom, one_m_damp, wd, nesterov, maximize, first)


@numba.njit(cache=True, nogil=True)
def _sgdm8(p0, p1, p2, p3, p4, p5, p6, p7, g0, g1, g2, g3, g4, g5, g6, g7, b0, b1, b2, b3, b4, b5, b6, b7,
           lr, mom, one_m_damp, wd, nesterov, maximize, first):
    _sgdm4(p0, p1, p2, p3, g0, g1, g2, g3, b0, b1, b2, b3, lr, mom, one_m_damp, wd, nesterov, maximize, first)
    _sgdm4(p4, p5, p6, p7, g4, g5, g6, g7, b4, b5, b6, b7, lr, mom, one_m_damp, wd, nesterov, maximize, first)


@numba.njit(cache=True, nogil=True)
def _adam4(p0, p1, p2, p3, g0, g1, g2, g3, m0, m1, m2, m3, v0, v1, v2, v3, b1, one_m_b1, b2, one_m_b2, eps, wd,
           decay, coupled, maximize, step_size, bc2_sqrt):
    _adam(p0, g0, m0, v0, b1, one_m_b1, b2, one_m_b2, eps, wd, decay, coupled, maximize, step_size, bc2_sqrt)
    _adam(p1, g1, m1, v1, b1, one_m_b1, b2, one_m_b2, eps, wd, decay, coupled, maximize, step_size, bc2_sqrt)
    _adam(p2, g2, m2, v2, b1, one_m_b1, b2, one_m_b2, eps, wd, decay, coupled, maximize, step_size, bc2_sqrt)
    _adam(p3, g3, m3, v3, b1, one_m_b1, b2, one_m_b2, eps, wd, decay, coupled, maximize, step_size, bc2_sqrt)


@numba.njit(cache=True, nogil=True)
def _adam8(p0, p1, p2, p3, p4, p5, p6, p7, g0, g1, g2, g3, g4, g5, g6, g7, m0, m1, m2, m3, m4, m5, m6, m7,
           v0, v1, v2, v3, v4, v5, v6, v7, b1, one_m_b1, b2, one_m_b2, eps, wd, decay, coupled, maximize,
           step_size, bc2_sqrt):
    _adam4(p0, p1, p2, p3, g0, g1, g2, g3, m0, m1, m2, m3, v0, v1, v2, v3, b1, one_m_b1, b2, one_m_b2, eps, wd,
           decay, coupled, maximize, step_size, bc2_sqrt)
    _adam4(p4, p5, p6, p7, g4, g5, g6, g7, m4, m5, m6, m7, v4, v5, v6, v7, b1, one_m_b1, b2, one_m_b2, eps, wd,
           decay, coupled, maximize, step_size, bc2_sqrt)


def _chunks(lists, pad, kernel4, kernel8, scalars):
    """Call ``kernel8`` on each 8 parameters and ``kernel4`` on a last 4 or fewer, empty arrays in unused slots."""
    n = len(lists[0])
    if n <= 8:          # one call (a small model, a compiled step's common case): no slices
        k, kernel = (4, kernel4) if n <= 4 else (8, kernel8)
        fill = (pad,) * (k - n)
        args = []
        for arrays in lists:
            for a in arrays:
                args.append(a if a.ndim == 1 else a.reshape(-1))
            args += fill
        kernel(*args, *scalars)
        return
    s = 0
    while s < n:
        k, kernel = (4, kernel4) if n - s <= 4 else (8, kernel8)
        args = []
        for arrays in lists:
            part = [a if a.ndim == 1 else a.reshape(-1) for a in arrays[s:s + k]]
            args += part
            if len(part) < k:
                args += [pad] * (k - len(part))
        kernel(*args, *scalars)
        s += k


def _pad(dtype):
    pad = _EMPTY.get(dtype)
    if pad is None:
        pad = _EMPTY[dtype] = np.empty(0, dtype)
    return pad


def sgd_update_multi_(params, grads, bufs, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                      maximize=False, first_step=False):
    """``sgd_update_`` on each parameter, 8 per numba call (Note [multi-tensor updates]).

    The arrays are C-contiguous and writable, of one dtype (as for ``sgd_update_``); float16 loops."""
    if not params:
        return
    dtype = params[0].dtype
    t = dtype.type
    if t not in _MULTI_TYPES:
        for p, g, b in zip(params, grads, bufs if momentum else params):
            sgd_update_(p, g, b, lr, momentum, dampening, weight_decay, nesterov, maximize, first_step)
        return
    scalars = (t(lr), t(momentum), t(1 - dampening), t(weight_decay), bool(nesterov), bool(maximize),
               bool(first_step))
    if momentum:
        _chunks((params, grads, bufs), _pad(dtype), _sgdm4, _sgdm8, scalars)
    else:
        _chunks((params, grads), _pad(dtype), _sgd4, _sgd8, scalars)


def adam_update_multi_(params, grads, exp_avgs, exp_avg_sqs, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                       weight_decay=0.0, decoupled=False, maximize=False):
    """``adam_update_`` on each parameter (all at ``step``), 8 per numba call; arrays as for
    ``sgd_update_multi_``."""
    if not params:
        return
    dtype = params[0].dtype
    t = dtype.type
    if t not in _MULTI_TYPES:
        for p, g, m, v in zip(params, grads, exp_avgs, exp_avg_sqs):
            adam_update_(p, g, m, v, step, lr, beta1, beta2, eps, weight_decay, decoupled, maximize)
        return
    bc1 = 1 - beta1 ** step
    scalars = (t(beta1), t(1 - beta1), t(beta2), t(1 - beta2), t(eps), t(weight_decay),
               t(1 - lr * weight_decay if decoupled else 1), bool(weight_decay and not decoupled), bool(maximize),
               t(lr / bc1), t(math.sqrt(1 - beta2 ** step)))
    _chunks((params, grads, exp_avgs, exp_avg_sqs), _pad(dtype), _adam4, _adam8, scalars)
