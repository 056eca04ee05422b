"""numba kernels over the rows of a 2-D array: ``layer_norm_rows*`` and ``softmax_rows``. Imported lazily.

Note [fused layer_norm rows]: layer norm over the last ``n`` elements is, per
row, two passes for the statistics and one for the output; its gradient two
more passes for the row sums of ``g * w`` and ``g * w * xhat`` and one for
``gx``, with ``gw``/``gb`` accumulated along. NumPy needs about nine calls
forward and fifteen backward, each allocating an input-sized temporary: on a
GPT block's (1024, 128) activations that was 0.3 ms forward and 1.3 ms
backward a call, against about 0.05 and 0.1 here. Sums are accumulated in
float64; the statistics are recomputed in backward from ``x`` (Note
[layer_norm primitive] in ops/normalization.py). fastmath is limited to
reassociation and contraction, so NaN and inf propagate as in NumPy.
"""
import math

import numba
import numpy as np

_FAST = {"reassoc", "contract"}


@numba.njit(cache=True, nogil=True, fastmath=_FAST, inline="always")
def _row_stats(x, r, eps):
    n = x.shape[1]
    s = 0.0
    for j in range(n):
        s += x[r, j]
    mu = s / n
    v = 0.0
    for j in range(n):
        d = x[r, j] - mu
        v += d * d
    return mu, 1.0 / math.sqrt(v / n + eps)


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _ln_rows(x, w, b, has_w, has_b, eps, out):
    rows, n = x.shape
    for r in range(rows):
        mu, rstd = _row_stats(x, r, eps)
        for j in range(n):
            y = (x[r, j] - mu) * rstd
            if has_w:
                y = y * w[j]
            if has_b:
                y = y + b[j]
            out[r, j] = y


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _ln_rows_grad(g, x, w, has_w, eps, need_x, gx, gw, gb):
    rows, n = x.shape
    for r in range(rows):
        mu, rstd = _row_stats(x, r, eps)
        sg = 0.0
        sgx = 0.0
        for j in range(n):
            xh = (x[r, j] - mu) * rstd
            gj = g[r, j]
            gw[j] += gj * xh
            gb[j] += gj
            gy = gj * w[j] if has_w else gj
            sg += gy
            sgx += gy * xh
        if need_x:
            mg = sg / n
            mgx = sgx / n
            for j in range(n):
                xh = (x[r, j] - mu) * rstd
                gy = g[r, j] * w[j] if has_w else g[r, j]
                gx[r, j] = rstd * (gy - mg - xh * mgx)


def layer_norm_rows(x, w, b, eps):
    """Layer norm of each row of 2-D ``x`` (float32/float64), optional per-column ``w`` and ``b``."""
    out = np.empty(x.shape, x.dtype)
    empty = np.empty(0, x.dtype)
    _ln_rows(x, empty if w is None else w, empty if b is None else b, w is not None, b is not None, float(eps), out)
    return out


def layer_norm_rows_grad(g, x, w, eps, needs):
    """``(gx, gw, gb)`` of ``layer_norm_rows`` for output gradient ``g``; None where ``needs`` is false."""
    rows, n = x.shape
    gx = np.empty(x.shape, x.dtype) if needs[0] else np.empty((0, 0), x.dtype)
    gw, gb = np.zeros(n, np.float64), np.zeros(n, np.float64)
    _ln_rows_grad(g, x, np.empty(0, x.dtype) if w is None else w, w is not None, float(eps), bool(needs[0]),
                  gx, gw, gb)
    return (gx if needs[0] else None, gw.astype(x.dtype) if needs[1] else None,
            gb.astype(x.dtype) if needs[2] else None)


# Note [softmax rows]: NumPy's ``max`` over a short last axis is slow (0.45 ms on the GPT benchmark's
# (16, 4, 64, 64) attention scores, against 0.13 for ``exp`` of the same array). Here the row maximum and
# the shift are one pass, NumPy's (SIMD) ``exp`` runs in place, and the row sums (float64) and the division
# another pass. A NaN in a row makes its maximum NaN, as NumPy's does.

@numba.njit(cache=True, nogil=True)
def _shift_rows(x, out):
    rows, n = x.shape
    for r in range(rows):
        xr, o = x[r], out[r]
        m = xr[0]
        for j in range(1, n):
            v = xr[j]
            if v > m or v != v:
                m = v
        for j in range(n):
            o[j] = xr[j] - m


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _normalize_rows(e):
    rows, n = e.shape
    for r in range(rows):
        er = e[r]
        s = 0.0
        for j in range(n):
            s += er[j]
        for j in range(n):
            er[j] = er[j] / s


def softmax_rows(x):
    """Softmax of each row of 2-D float32/float64 ``x``, the row maximum subtracted first."""
    out = np.empty(x.shape, x.dtype)
    if x.shape[1]:
        _shift_rows(x, out)
        np.exp(out, out=out)
        _normalize_rows(out)
    return out
