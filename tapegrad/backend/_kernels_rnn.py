"""numba kernels of the CPU LSTM scan (nn/modules/_rnn_scan.py, Note [LSTM scan kernels]). Imported lazily.

Note [LSTM scan kernels]: a step of ``LSTMScan`` was about eighteen NumPy
calls forward and seven backward on (B, 4H) arrays, each allocating, about
50 us of a step's 80 us forward on nn.LSTM(64, 128) at batch 20 beside the
31 us recurrent GEMM. Here a forward step is the GEMM into a preallocated
(B, 4H) row of the sequence buffer, one add, NumPy's tanh (SIMD: numba's
``math.tanh`` is a scalar libm call, ~40x slower) over all four gates, one
kernel for the cell update, NumPy's tanh of the cell, and one kernel for the
output; a backward step is one kernel and the GEMM. Same formulas as the
NumPy loop: the gates come from one tanh of pre-scaled pre-activations, and
the factors backward needs (``M``, ``OT``, ``F``) are made while in cache.
"""
import numba
import numpy as np


# Each kernel loops over rows and indexes per-row slices from 0 with float32 constants (which keep float32
# math float32 and float64 float64), so LLVM vectorizes the inner loop: 3.6 us a (20, 512) step instead of 17.
_HALF, _QUARTER, _ONE = np.float32(0.5), np.float32(0.25), np.float32(1)


@numba.njit(cache=True, nogil=True)
def _cell(tp, c_prev, c_new, ot, fg):
    """From ``tp`` (B, 4H) = tanh of the scaled gates: the new cell, and ``tp`` overwritten by ``M``.

    ``ot`` gets ``o`` (finished by ``_out``), ``fg`` the forget gate.
    """
    b, h = c_prev.shape
    for r in range(b):
        ai, af, ag, ao = tp[r, 0:h], tp[r, h:2 * h], tp[r, 2 * h:3 * h], tp[r, 3 * h:4 * h]
        cp, cn, o_r, f_r = c_prev[r], c_new[r], ot[r], fg[r]
        for j in range(h):
            ti, tf, tg, to = ai[j], af[j], ag[j], ao[j]
            i = _HALF * ti + _HALF
            f = _HALF * tf + _HALF
            cn[j] = f * cp[j] + i * tg
            ai[j] = tg * (_ONE - ti * ti) * _QUARTER
            af[j] = cp[j] * (_ONE - tf * tf) * _QUARTER
            ag[j] = i * (_ONE - tg * tg)
            ao[j] = (_ONE - to * to) * _QUARTER         # times tanh(c) in _out
            o_r[j] = _HALF * to + _HALF
            f_r[j] = f


@numba.njit(cache=True, nogil=True)
def _out(tc, ot, h_out, m):
    b, h = tc.shape
    for r in range(b):
        t_r, o_r, h_r, mo = tc[r], ot[r], h_out[r], m[r, 3 * h:4 * h]
        for j in range(h):
            o, t = o_r[j], t_r[j]
            h_r[j] = o * t
            o_r[j] = o * (_ONE - t * t)
            mo[j] *= t


@numba.njit(cache=True, nogil=True)
def _back(dh, go, dc, ot, m, fg, d):
    """One BPTT step without the GEMM: ``d`` (B, 4H) the gates' pre-activation gradient; ``dc`` in place."""
    b, h = dh.shape
    for r in range(b):
        dh_r, go_r, dc_r, ot_r, f_r = dh[r], go[r], dc[r], ot[r], fg[r]
        mi, mf, mg, mo = m[r, 0:h], m[r, h:2 * h], m[r, 2 * h:3 * h], m[r, 3 * h:4 * h]
        di, df, dg, do = d[r, 0:h], d[r, h:2 * h], d[r, 2 * h:3 * h], d[r, 3 * h:4 * h]
        for j in range(h):
            dhj = dh_r[j] + go_r[j]
            dcj = dc_r[j] + dhj * ot_r[j]
            di[j] = dcj * mi[j]
            df[j] = dcj * mf[j]
            dg[j] = dcj * mg[j]
            do[j] = dhj * mo[j]
            dc_r[j] = dcj * f_r[j]


def lstm_forward(xs, wt, h0, c0, reverse):
    """The scan over ``xs`` (T, B, 4H), pre-scaled input projections, with ``wt`` (H, 4H) pre-scaled ``W_hh.T``.

    Returns ``(hs (T, B, H), c_T, (M, OT, F))``, the last the per-step factors of ``lstm_backward``.
    """
    t_len, b, g = xs.shape
    h = g // 4
    dt = xs.dtype
    m = np.empty((t_len, b, g), dt)
    ot, fg = np.empty((t_len, b, h), dt), np.empty((t_len, b, h), dt)
    hs = np.empty((t_len, b, h), dt)
    cells = np.empty((2, b, h), dt)
    tc = np.empty((b, h), dt)
    hp, cp = np.ascontiguousarray(h0, dt), np.ascontiguousarray(c0, dt)
    for k, t in enumerate(range(t_len - 1, -1, -1) if reverse else range(t_len)):
        pt = m[t]
        np.matmul(hp, wt, out=pt)
        np.add(pt, xs[t], out=pt)
        np.tanh(pt, out=pt)
        c = cells[k % 2]
        _cell(pt, cp, c, ot[t], fg[t])
        np.tanh(c, out=tc)
        _out(tc, ot[t], hs[t], pt)
        hp, cp = hs[t], c
    return hs, cp.copy(), (m, ot, fg)


def lstm_backward(factors, w, g_out, g_h, g_c, reverse):
    """BPTT of ``lstm_forward``: ``(dpre (T, B, 4H), dh_0, dc_0)`` for ``w`` = W_hh (4H, H) unscaled."""
    m, ot, fg = factors
    t_len, b, g = m.shape
    dt = m.dtype
    dh = np.array(g_h, dt, copy=True, order="C")
    dc = np.array(g_c, dt, copy=True, order="C")
    g_out = np.ascontiguousarray(g_out, dt)     # often a broadcast (a sum's gradient): C layout vectorizes
    dpre = np.empty((t_len, b, g), dt)
    for t in (range(t_len) if reverse else range(t_len - 1, -1, -1)):
        _back(dh, g_out[t], dc, ot[t], m[t], fg[t], dpre[t])
        np.matmul(dpre[t], w, out=dh)
    return dpre, dh, dc
