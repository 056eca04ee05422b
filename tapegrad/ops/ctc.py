"""The CTC loss: the alpha recursion in log space, with PyTorch's hand-written gradient.

# Note [ctc gradient]
A primitive rather than composed: composing the recursion records a dozen
nodes per time step, and its log-sum-exp over impossible states (all -inf)
would need guards on every one. The forward runs the alpha recursion over the
extended labels (a blank around each target) for the whole batch at once: one
``(N, 2S+1)`` update per time step. The VJP runs the beta recursion and
returns PyTorch's gradient with respect to ``log_probs``,
``exp(lp) - exp(log(sum of alpha*beta over the states of class c) + nll - lp)``
(Graves et al. 2006, eq. 16), which is the gradient with respect to the logits
when ``log_probs`` is a log-softmax: PyTorch's ``exp(lp)`` term vanishes in
log-softmax's backward. Time steps past a sample's input length get 0; with
``zero_infinity`` an impossible sample (infinite loss) gets loss 0 and gradient
0, and without it its gradient is nan, as in PyTorch. Like PyTorch, the
gradient is not itself differentiable: under ``create_graph`` the VJP raises.
"""
from .. import _dtype as D
from .._tensor import Tensor
from .registry import op

__all__ = []
METHODS = {}


def _extended(be, targets, target_lengths, blank):
    """``(labels, valid, skip)`` over the ``2S+1`` extended states of each sample, all ``(N, L)``.

    ``labels``: blank at even states, the targets at odd ones. ``valid``: state ``s < 2 * len + 1``.
    ``skip``: the state may be entered from two states back (a label differing from that one's).
    """
    n, s_max = targets.shape
    L = 2 * s_max + 1
    i64 = D.int64.np
    labels = be.full((n, L), blank, i64)
    if s_max:
        odd = be.reshape(be.stack([be.full((n, s_max), blank, i64), be.astype(targets, i64)], axis=2), (n, 2 * s_max))
        labels = be.concatenate([odd, be.full((n, 1), blank, i64)], axis=1)
    states = be.reshape(be.arange(0, L, 1, i64), (1, L))
    lens = be.reshape(be.asarray(list(target_lengths), i64), (n, 1))
    valid = be.less(states, lens * 2 + 1)
    if L > 2:
        back2 = _shift(be, labels, 2, blank)
        skip = be.logical_and(be.not_equal(labels, blank), be.not_equal(labels, back2))
    else:
        skip = be.zeros((n, L), bool)
    return labels, valid, skip


def _lse3(be, a, b, c, neg_inf):
    """Elementwise ``log(exp(a) + exp(b) + exp(c))``; -inf where all three are -inf (no nan)."""
    m = be.maximum(be.maximum(a, b), c)
    finite = be.isfinite(m)
    ms = be.where(finite, m, 0)
    total = be.exp(a - ms) + be.exp(b - ms) + be.exp(c - ms)
    return be.where(finite, ms + be.log(be.where(finite, total, 1)), neg_inf)


def _shift(be, x, k, fill):
    """``x`` moved ``k`` states right (``k > 0``) or left (``k < 0``) along axis 1, filled with ``fill``."""
    n, L = x.shape
    if abs(k) >= L:
        return be.full((n, L), fill, x.dtype)
    pad = be.full((n, abs(k)), fill, x.dtype)
    if k > 0:
        return be.concatenate([pad, be.narrow(x, 1, 0, L - k)], axis=1)
    return be.concatenate([be.narrow(x, 1, -k, L + k), pad], axis=1)


def _alphas(be, lp, targets, input_lengths, target_lengths, blank):
    """``(alphas (T, N, L), picked (T, N, L), ext)``: log alpha of every state at every step."""
    T, n, _ = lp.shape
    labels, valid, skip = _extended(be, targets, target_lengths, blank)
    L = labels.shape[1]
    neg_inf = lp.dtype.type(-float("inf"))
    idx = be.broadcast_to(be.reshape(labels, (1, n, L)), (T, n, L))
    picked = be.take_along_axis(lp, idx, axis=2) if T else be.zeros((0, n, L), lp.dtype)
    ilens = be.asarray(list(input_lengths), D.int64.np)
    start = be.less(be.reshape(be.arange(0, L, 1, D.int64.np), (1, L)), 2)
    out = []
    alpha = None
    for t in range(T):
        if t == 0:
            a = be.where(be.logical_and(start, valid), _step(picked, be, 0), neg_inf)
        else:
            rec = _lse3(be, alpha, _shift(be, alpha, 1, neg_inf),
                        be.where(skip, _shift(be, alpha, 2, neg_inf), neg_inf), neg_inf)
            a = be.where(valid, _step(picked, be, t) + rec, neg_inf)
            a = be.where(be.reshape(be.less(t, ilens), (n, 1)), a, alpha)    # frozen past the input length
        out.append(a)
        alpha = a
    alphas = be.stack(out, axis=0) if T else be.zeros((0, n, L), lp.dtype)
    return alphas, picked, (labels, valid, skip)


def _step(x, be, t):
    """``x[t]`` of a ``(T, N, L)`` array as an ``(N, L)`` array (a view; no host scalar on any device)."""
    return be.reshape(be.narrow(x, 0, t, 1), x.shape[1:])


def _nll(be, alphas, input_lengths, target_lengths, dtype):
    """``-log p(target | input)`` of each sample: the last two states' alphas at its last step."""
    n = len(input_lengths)
    if n == 0:
        return be.zeros((0,), dtype)
    i64 = D.int64.np
    neg_inf = dtype.type(-float("inf"))
    T, _, L = alphas.shape
    if T == 0:      # no step at all: only empty targets are possible
        return be.asarray([0.0 if s == 0 else float("inf") for s in target_lengths], dtype)
    at = be.asarray([max(t - 1, 0) for t in input_lengths], i64)
    last = be.reshape(be.take_along_axis(alphas, be.broadcast_to(be.reshape(at, (1, n, 1)), (1, n, L)), axis=0),
                      (n, L))
    ends = be.asarray([[2 * s, max(2 * s - 1, 0)] for s in target_lengths], i64)
    both = be.take_along_axis(last, ends, axis=1)                                     # (N, 2)
    second = be.asarray([[True, s > 0] for s in target_lengths], bool)
    both = be.where(second, both, neg_inf)
    a1, a2 = be.reshape(be.narrow(both, 1, 0, 1), (n,)), be.reshape(be.narrow(both, 1, 1, 1), (n,))
    nll = -_lse3(be, a1, a2, be.full((n,), neg_inf, dtype), neg_inf)
    # no step: 0 for an empty target, impossible otherwise
    no_step = be.asarray([t == 0 for t in input_lengths], bool)
    empty = be.asarray([0.0 if s == 0 else float("inf") for s in target_lengths], dtype)
    return be.where(no_step, empty, nll)


@op("ctc_loss", save=("log_probs", "targets", "out"), promote=None, tensors=2, math=None)
def ctc_loss_op(be, log_probs, targets, input_lengths=(), target_lengths=(), blank=0, zero_infinity=False):
    """Per-sample CTC negative log-likelihood ``(N,)`` of ``log_probs (T, N, C)`` and padded ``targets (N, S)``."""
    alphas, _, _ = _alphas(be, log_probs, targets, input_lengths, target_lengths, blank)
    nll = _nll(be, alphas, input_lengths, target_lengths, log_probs.dtype)
    if zero_infinity:
        nll = be.where(be.isinf(nll), 0, nll)
    return nll


@ctc_loss_op.vjp
def _(F, ctx, g, log_probs, targets, out, input_lengths, target_lengths, blank, zero_infinity):
    # under create_graph g is a Tensor (Note [two-mode VJPs]): PyTorch's gradient formula is not
    # differentiable, so say so rather than record a gradient whose own derivative would be wrong
    if isinstance(g, Tensor):
        raise NotImplementedError("ctc_loss: the gradient of its gradient (create_graph=True) is not implemented "
                                  "(as in PyTorch, whose ctc_loss backward is not differentiable)")
    be, lp = F, log_probs
    T, n, C = lp.shape
    alphas, picked, (labels, valid, skip) = _alphas(be, lp, targets, input_lengths, target_lengths, blank)
    nll = _nll(be, alphas, input_lengths, target_lengths, lp.dtype)
    L = labels.shape[1]
    neg_inf = lp.dtype.type(-float("inf"))
    i64 = D.int64.np
    ilens = be.reshape(be.asarray(list(input_lengths), i64), (n, 1))
    states = be.reshape(be.arange(0, L, 1, i64), (1, L))
    ends = be.reshape(be.asarray([2 * s for s in target_lengths], i64), (n, 1))
    last2 = be.logical_and(valid, be.logical_or(be.equal(states, ends), be.equal(states, ends - 1)))
    skip_next = _shift(be, skip, -2, False)          # state s may jump to s + 2
    betas = [None] * T
    beta = be.full((n, L), neg_inf, lp.dtype)
    for t in range(T - 1, -1, -1):
        rec = _lse3(be, beta, _shift(be, beta, -1, neg_inf),
                    be.where(skip_next, _shift(be, beta, -2, neg_inf), neg_inf), neg_inf)
        init = be.where(last2, _step(picked, be, t), neg_inf)
        stepped = be.where(valid, _step(picked, be, t) + rec, neg_inf)
        beta = be.where(be.equal(ilens, t + 1), init, be.where(be.less(t + 1, ilens), stepped, neg_inf))
        betas[t] = beta
    grad = be.zeros(lp.shape, lp.dtype)
    if T and L:
        ab = alphas + be.stack(betas, axis=0)                                    # (T, N, L)
        m = be.max(ab, axis=2, keepdims=True)
        finite = be.isfinite(m)
        ms = be.where(finite, m, 0)
        e = be.exp(ab - ms)
        onehot = be.astype(be.equal(be.reshape(labels, (n, L, 1)), be.reshape(be.arange(0, C, 1, i64), (1, 1, C))),
                           lp.dtype)
        s = be.matmul(be.reshape(e, (T, n, 1, L)), be.reshape(onehot, (1, n, L, C)))   # (T, N, 1, C)
        s = be.reshape(s, (T, n, C))
        pos = be.greater(s, 0)
        lcab = be.where(pos, ms + be.log(be.where(pos, s, 1)), neg_inf)
        # zero_infinity zeroes an impossible sample's gradient below; a finite stand-in keeps inf - inf out
        z = be.where(be.isinf(nll), 0, nll) if zero_infinity else nll
        grad = be.exp(lp) - be.exp(lcab + be.reshape(z, (1, n, 1)) - lp)
    active = be.less(be.reshape(be.arange(0, T, 1, i64), (T, 1, 1)), be.reshape(ilens, (1, n, 1)))
    grad = be.where(active, grad, 0)
    if zero_infinity:
        grad = be.where(be.reshape(be.isinf(nll), (1, n, 1)), 0, grad)
    return grad * be.reshape(g, (1, n, 1)), None
