"""One recurrent layer in one direction: the loops behind ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``.

Both paths take the input projection ``xp = x @ W_ih.T + b_ih`` for every step at
once (one matmul per layer), so a step costs one ``h @ W_hh.T`` and the gate math.

Note [two recurrent paths]
- ``steps``: the general loop, composed of recorded ops (narrow, linear, sigmoid,
  ...). It handles every mode, ``proj_size`` and packed batches, where the batch
  shrinks as short sequences end (forward) or grows as they start (reverse), as
  in PyTorch's packed kernels. About 10-15 nodes per step.
- ``LSTMScan``: an LSTM layer without projection on padded input, as one
  ``autograd.Function`` node whose forward and BPTT backward are a handful of
  backend calls per step (the common case: ``nn.LSTM`` on a padded batch). Under
  ``create_graph`` its backward re-runs ``steps`` on the saved inputs and
  differentiates that, so higher-order gradients stay exact.
"""
from ... import _creation as C
from ... import backend as B
from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd import api as _api
from ...ops import joining as _J
from ...ops.linalg import linear
from ...tape import grad_mode as _gm

__all__ = ["steps", "LSTMScan"]


def _narrow(t, start, length):
    return t if start == 0 and length == t.shape[0] else _J.narrow(t, 0, start, length)


def _cell(mode, x, h, c, w_hh, b_hh, w_hr, nonlinearity):
    """One step on ``n`` active rows: ``x`` is that step's slice of the input projection."""
    if mode == "LSTM":
        gates = x + linear(h, w_hh, b_hh)
        H = c.shape[1]
        i = _J.narrow(gates, 1, 0, H).sigmoid()
        f = _J.narrow(gates, 1, H, H).sigmoid()
        g = _J.narrow(gates, 1, 2 * H, H).tanh()
        o = _J.narrow(gates, 1, 3 * H, H).sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        return (h if w_hr is None else linear(h, w_hr)), c
    if mode == "GRU":
        gh = linear(h, w_hh, b_hh)
        H = h.shape[1]
        r = (_J.narrow(x, 1, 0, H) + _J.narrow(gh, 1, 0, H)).sigmoid()
        z = (_J.narrow(x, 1, H, H) + _J.narrow(gh, 1, H, H)).sigmoid()
        n = (_J.narrow(x, 1, 2 * H, H) + r * _J.narrow(gh, 1, 2 * H, H)).tanh()
        return n + z * (h - n), None
    pre = x + linear(h, w_hh, b_hh)
    return (pre.tanh() if nonlinearity == "tanh" else pre.relu()), None


def steps(mode, xp, w_hh, b_hh, h0, c0, w_hr=None, reverse=False, batch_sizes=None, nonlinearity="tanh"):
    """Run one layer in one direction over ``xp`` with recorded ops (Note [two recurrent paths]).

    Args:
        xp: the input projection, ``(T, B, G)`` padded, or ``(sum(batch_sizes), G)`` packed.
        h0, c0: initial states ``(B, H_out)`` and ``(B, H)`` (``c0`` None except for LSTM).
        batch_sizes: per-step batch sizes of a packed input (non-increasing), or None.

    Returns:
        ``(out, h_n, c_n)``: ``out`` shaped like ``xp`` with ``H_out`` features.
    """
    padded = batch_sizes is None
    if padded:
        T, Bn = xp.shape[0], xp.shape[1]
        batch_sizes = [Bn] * T
        xp = xp.reshape(T * Bn, xp.shape[2])
    T = len(batch_sizes)
    offsets = [0] * T
    for t in range(1, T):
        offsets[t] = offsets[t - 1] + batch_sizes[t - 1]
    outs = [None] * T
    if not reverse:
        h, c, ended_h, ended_c = h0, c0, [], []
        for t in range(T):
            n = batch_sizes[t]
            if n < h.shape[0]:               # the shortest sequences ended: keep their final states
                ended_h.append(_narrow_rows(h, n, h.shape[0] - n))
                h = _narrow(h, 0, n)
                if c is not None:
                    ended_c.append(_narrow_rows(c, n, c.shape[0] - n))
                    c = _narrow(c, 0, n)
            h, c = _cell(mode, _narrow(xp, offsets[t], n), h, c, w_hh, b_hh, w_hr, nonlinearity)
            outs[t] = h
        h_n = _J.cat([h] + ended_h[::-1]) if ended_h else h
        c_n = (_J.cat([c] + ended_c[::-1]) if ended_c else c) if c is not None else None
    else:
        n0 = batch_sizes[T - 1]
        h, c = _narrow(h0, 0, n0), (None if c0 is None else _narrow(c0, 0, n0))
        for t in range(T - 1, -1, -1):
            n = batch_sizes[t]
            if n > h.shape[0]:               # longer sequences start here, from their initial states
                h = _J.cat([h, _narrow_rows(h0, h.shape[0], n - h.shape[0])])
                if c is not None:
                    c = _J.cat([c, _narrow_rows(c0, c.shape[0], n - c.shape[0])])
            h, c = _cell(mode, _narrow(xp, offsets[t], n), h, c, w_hh, b_hh, w_hr, nonlinearity)
            outs[t] = h
        h_n, c_n = h, c
    out = _J.cat(outs) if T > 1 else outs[0]
    if padded:
        out = out.reshape(T, batch_sizes[0], out.shape[-1])
    return out, h_n, c_n


def _narrow_rows(t, start, length):
    return _J.narrow(t, 0, start, length)


class LSTMScan(Function):
    """An LSTM layer (no projection, padded input) as one node (Note [two recurrent paths]).

    ``apply(xp, w_hh, b_hh, h0, c0, reverse)`` with ``xp = x @ W_ih.T + b_ih`` of
    shape ``(T, B, 4H)``; returns ``(out (T, B, H), h_n (B, H), c_n (B, H))``.

    Forward trick: with ``s = [1/2, 1/2, 1, 1/2]`` per gate block, ``t = tanh(s * pre)``
    gives the tanh gate directly and the sigmoid gates as ``t/2 + 1/2``, so all four
    gates cost one tanh; scaling ``xp`` and ``W_hh`` by ``s`` up front makes it free.
    """

    @staticmethod
    def forward(ctx, xp, w_hh, b_hh, h0, c0, reverse=False):
        be = B.BY_TYPE[type(xp._data)]
        X, W, h, c = xp._data, w_hh._data, h0._data, c0._data
        T, Bn, G = X.shape
        H = G // 4
        mul, add = _gate_vectors(be, H, X.dtype)        # the scale s is ``mul`` too
        XS = X * mul if b_hh is None else X + b_hh._data
        if b_hh is not None:
            XS *= mul                   # in place: one (T, B, 4H) temporary, not two
        WT = be.ascontiguousarray(be.transpose(W, (1, 0))) * mul        # (H, 4H), pre-scaled
        dact_scale = mul * mul          # d act / d pre = mul * s * (1 - t^2), and s == mul
        grad = any(ctx.needs_input_grad)
        ctx.reverse = reverse
        ctx.save_for_backward(xp, w_hh, b_hh, h0, c0)
        kernels = _cpu_kernels(be, X, W, h, c)
        if kernels is not None:                         # Note [LSTM scan kernels]
            hs, c, ctx.steps = kernels.lstm_forward(XS, WT, h, c, reverse)
            ctx.hs = hs
            last = 0 if reverse else T - 1
            return Tensor._make(hs, None), Tensor._make(hs[last].copy(), None), Tensor._make(c, None)
        # What backward needs is computed here, step by step while it is in cache, rather
        # than in bulk over (T, B, 4H) arrays later: per step, ``M`` holds the factors of
        # each gate's pre-activation gradient (dc for i, f, g; dh for o) and ``OT`` the
        # share of dh that reaches c, o * (1 - tanh(c)^2). Kept as per-step lists.
        Ms, OTs, Fs, hs = [None] * T, [None] * T, [None] * T, [None] * T
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            tp = be.tanh(XS[t] + be.matmul(h, WT))
            a = tp * mul + add                          # i, f, g, o after their activations
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            c_prev = c
            c = f * c_prev + i * g
            tc = be.tanh(c)
            h = o * tc
            hs[t] = h
            if grad:
                Ms[t] = be.concatenate([g, c_prev, i, tc], axis=1) * ((1 - tp * tp) * dact_scale)
                OTs[t] = o * (1 - tc * tc)
                Fs[t] = f
        ctx.steps = (Ms, OTs, Fs)
        hs = be.stack(hs)
        ctx.hs = hs
        last = 0 if reverse else T - 1
        return Tensor._make(hs, None), Tensor._make(be.ascontiguousarray(hs[last]), None), Tensor._make(c, None)

    @staticmethod
    def backward(ctx, g_out, g_h, g_c):
        xp, w_hh, b_hh, h0, c0 = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if _gm.is_grad_enabled():            # create_graph: differentiate the composed loop instead
            return _graph_backward(ctx, (xp, w_hh, b_hh, h0, c0), (g_out, g_h, g_c))
        be = B.BY_TYPE[type(xp._data)]
        Ms, OTs, Fs = ctx.steps
        hs = ctx.hs
        T, Bn, H = hs.shape
        W = w_hh._data
        GO = g_out._data
        dh = g_h._data
        dc = g_c._data
        kernels = _cpu_kernels(be, W, GO, dh, dc)
        if kernels is not None:                         # Note [LSTM scan kernels]
            dpre, dh, dc = kernels.lstm_backward(ctx.steps, W, GO, dh, dc, ctx.reverse)
        else:
            dpre = [None] * T
            for t in (range(T) if ctx.reverse else range(T - 1, -1, -1)):
                dh = dh + GO[t]
                dc = dc + dh * OTs[t]
                d = be.concatenate([dc, dc, dc, dh], axis=1) * Ms[t]
                dc = dc * Fs[t]
                dpre[t] = d
                dh = be.matmul(d, W)
            dpre = be.stack(dpre)
        res = [None] * 5
        if needs[0]:
            res[0] = Tensor._make(dpre, None)
        flat = be.reshape(dpre, (T * Bn, 4 * H))
        if needs[1]:
            h0a = be.reshape(h0._data, (1, Bn, H))
            hprev = be.concatenate([hs[1:], h0a] if ctx.reverse else [h0a, hs[:-1]], axis=0)
            res[1] = Tensor._make(be.matmul(be.transpose(flat, (1, 0)), be.reshape(hprev, (T * Bn, H))), None)
        if needs[2]:
            res[2] = Tensor._make(be.sum(flat, axis=0), None)
        if needs[3]:
            res[3] = Tensor._make(dh, None)
        if needs[4]:
            res[4] = Tensor._make(dc, None)
        return tuple(res) + (None,)


def _cpu_kernels(be, x, *others):
    """The numba scan kernels (backend/_kernels_rnn.py) when the arrays are NumPy float32/float64 of one dtype."""
    if be is not B.CPU_BACKEND or x.dtype.name not in ("float32", "float64") or \
            any(o.dtype != x.dtype for o in others):
        return None
    from ...backend import _kernels_rnn
    return _kernels_rnn


def _gate_vectors(be, H, dt):
    """``(mul, add)`` per gate column: 1/2 and 1/2 for the sigmoid gates i, f, o; 1 and 0 for g."""
    half = [0.5] * H
    mul = be.asarray(half + half + [1.0] * H + half, dt)
    add = be.asarray(half + half + [0.0] * H + half, dt)
    return mul, add


def _graph_backward(ctx, inputs, grads):
    """The create_graph backward: the gradient of the composed loop, itself recorded."""
    xp, w_hh, b_hh, h0, c0 = inputs
    with _gm.enable_grad():
        outs = steps("LSTM", xp, w_hh, b_hh, h0, c0, reverse=ctx.reverse)
    wrt = [(k, t) for k, t in enumerate(inputs) if t is not None and ctx.needs_input_grad[k]]
    got = _api.grad(list(outs), [t for _, t in wrt], list(grads), create_graph=True, allow_unused=True)
    res = [None] * 5
    for (k, t), gk in zip(wrt, got):
        res[k] = gk if gk is not None else C.zeros_like(t)
    return tuple(res) + (None,)
