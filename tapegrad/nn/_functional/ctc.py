"""``F.ctc_loss``: argument checks and reductions around the ``ctc_loss`` op (Note [ctc gradient])."""
from ... import _creation as C
from ... import _dtype as D
from ..._tensor import Tensor
from ...ops.ctc import ctc_loss_op
from ...ops.registry import apply
from ._reduction import check

__all__ = ["ctc_loss"]


def _lengths(x, what, n):
    """A tensor, list or tuple of lengths as a tuple of Python ints (one per sample)."""
    if isinstance(x, Tensor):
        if x.dtype.is_floating_point or x.dtype == D.bool:
            raise RuntimeError(f"ctc_loss: {what} must be integers, got dtype {x.dtype}")
        vals = x.reshape((-1,)).tolist()
    elif isinstance(x, int):
        vals = [x]
    else:
        vals = [int(v) for v in x]
    if len(vals) != n:
        raise RuntimeError(f"ctc_loss: expected {what} to have {n} value(s) (one per sample), got {len(vals)}")
    if any(v < 0 for v in vals):
        raise RuntimeError(f"ctc_loss: {what} must be non-negative, got {vals}")
    return tuple(int(v) for v in vals)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification loss (Graves et al. 2006).

    Args:
        log_probs: ``(T, N, C)`` (or unbatched ``(T, C)``) log-probabilities, e.g. a log-softmax.
        targets: ``(N, S)`` padded label sequences, or all of them concatenated in one 1-D tensor
            of ``sum(target_lengths)`` labels; never ``blank``.
        input_lengths: ``(N,)`` lengths of the inputs (a tensor, or a tuple/list of ints).
        target_lengths: ``(N,)`` lengths of the targets (a tensor, or a tuple/list of ints).
        blank: the blank label.
        reduction: ``"mean"`` (each loss divided by its target length, then the batch mean), ``"sum"``
            or ``"none"``.
        zero_infinity: an impossible alignment (infinite loss) gives loss 0 and gradient 0.

    Returns:
        The loss; its gradient is PyTorch's (Note [ctc gradient] in ``tapegrad/ops/ctc.py``).

    Example:
        >>> import tapegrad
        >>> logp = tapegrad.zeros(2, 1, 2).log_softmax(2)
        >>> F = tapegrad.nn.functional
        >>> round(F.ctc_loss(logp, tapegrad.tensor([[1]]), [2], [1]).item(), 4)
        0.2877
    """
    check(reduction, "ctc_loss")
    if not log_probs.dtype.is_floating_point:
        raise RuntimeError(f"ctc_loss: log_probs must be floating point, got {log_probs.dtype}")
    if targets.dtype.is_floating_point or targets.dtype == D.bool:
        raise RuntimeError(f"ctc_loss: targets must be integers, got dtype {targets.dtype}")
    unbatched = log_probs.ndim == 2
    if log_probs.ndim not in (2, 3):
        raise RuntimeError(f"ctc_loss: log_probs must be (T, N, C) or (T, C), got shape {tuple(log_probs.shape)}")
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    T, n, c = lp.shape
    if not 0 <= blank < c:
        raise RuntimeError(f"ctc_loss: blank must be in label range [0, {c}), got {blank}")
    ilens = _lengths(input_lengths, "input_lengths", n)
    tlens = _lengths(target_lengths, "target_lengths", n)
    if any(t > T for t in ilens):
        raise RuntimeError(f"ctc_loss: expected input_lengths to have value at most {T}, but got {list(ilens)}")
    tg = targets        # unbatched: a 1-D target is the one sample's labels, as concatenated ones are
    if tg.ndim == 1:
        # concatenated targets: cut them into a padded (N, S) tensor on the host
        flat = tg.tolist()
        if len(flat) != sum(tlens):
            raise RuntimeError(f"ctc_loss: expected {sum(tlens)} concatenated targets (sum(target_lengths)), "
                               f"got {len(flat)}")
        s_max = max(tlens, default=0)
        rows, pos = [], 0
        for k in tlens:
            rows.append(flat[pos:pos + k] + [blank] * (s_max - k))
            pos += k
        tg = C.tensor(rows, dtype=D.int64, device=lp.device).reshape((n, s_max))
    elif tg.ndim == 2 and not unbatched:
        if tg.shape[0] != n:
            raise RuntimeError(f"ctc_loss: padded targets of shape {tuple(targets.shape)} do not match the batch "
                               f"size {n}")
        if any(k > tg.shape[1] for k in tlens):
            raise RuntimeError(f"ctc_loss: target_lengths {list(tlens)} exceed the padded targets' length "
                               f"{tg.shape[1]}")
    else:
        raise RuntimeError(f"ctc_loss: targets must be (N, S) padded or 1-D concatenated (1-D when log_probs is "
                           f"unbatched), got shape {tuple(targets.shape)}")
    used = [v for row, k in zip(tg.tolist(), tlens) for v in row[:k]]
    if any(not 0 <= v < c or v == blank for v in used):
        raise RuntimeError(f"ctc_loss: target labels must be in [0, {c}) and differ from blank={blank}, got {used}")
    tg = tg.long()
    nll = apply(ctc_loss_op, lp, tg, input_lengths=ilens, target_lengths=tlens, blank=int(blank),
                zero_infinity=bool(zero_infinity))
    if reduction == "none":
        return nll.reshape(()) if unbatched else nll
    if reduction == "sum":
        return nll.sum()
    div = C.tensor([max(k, 1) for k in tlens], dtype=nll.dtype, device=nll.device)
    return (nll / div).mean()
