"""Margin and embedding losses of ``nn.functional`` (hinge, ranking, triplet, multi-class margins).

Composed of recorded ops. PyTorch's kinks are kept: a hinge ``max(0, z)`` has
gradient 0 at ``z = 0`` where PyTorch's kernel tests ``z > 0`` (``relu``), and
1 where PyTorch uses ``clamp_min`` (``clamp(min=0)``: margin ranking, cosine
embedding, hinge embedding, triplet).
"""
from ... import _creation as C
from ... import _dtype as D
from ...ops import elementwise as _E
from ._reduction import reduce_loss, resolve
from .distance import pairwise_distance

__all__ = ["cosine_embedding_loss", "margin_ranking_loss", "triplet_margin_loss", "hinge_embedding_loss",
           "multi_margin_loss", "multilabel_margin_loss"]

_EPSILON = 1e-12      # PyTorch's guard added to each squared magnitude in cosine_embedding_loss


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where ``target == -1``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[1.0, 0.0]])
        >>> tapegrad.nn.functional.cosine_embedding_loss(x, x, tapegrad.tensor([1]))
        tensor(0.)
    """
    reduction = resolve(size_average, reduce, reduction, "cosine_embedding_loss")
    td = target.ndim
    if td not in (0, 1):
        raise RuntimeError(f"cosine_embedding_loss: 0D or 1D target tensor expected, multi-target not supported "
                           f"(got target of shape {tuple(target.shape)})")
    want = 2 if td == 1 else 1
    if input1.ndim != want or input2.ndim != want:
        raise RuntimeError(f"cosine_embedding_loss: {td}D target tensor expects {want}D input tensors, but found "
                           f"inputs with sizes {tuple(input1.shape)} and {tuple(input2.shape)}")
    prod = (input1 * input2).sum(td)
    mag1 = (input1 * input1).sum(td) + _EPSILON
    mag2 = (input2 * input2).sum(td) + _EPSILON
    cos = prod / (mag1 * mag2).sqrt()
    loss = _E.where(target == 1, 1 - cos, 0.0) + _E.where(target == -1, (cos - margin).clamp(min=0), 0.0)
    return reduce_loss(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """``max(0, -target * (input1 - input2) + margin)``: ``target = 1`` ranks ``input1`` higher.

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> F.margin_ranking_loss(tapegrad.tensor([1.0]), tapegrad.tensor([2.0]), tapegrad.tensor([1.0]))
        tensor(1.)
    """
    reduction = resolve(size_average, reduce, reduction, "margin_ranking_loss")
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, "
                           f"target: {tuple(target.shape)}")
    return reduce_loss((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d = pairwise_distance(., ., p, eps)``.

    ``swap=True`` uses ``min(d(a, n), d(p, n))`` as the negative distance (the distance swap).

    Example:
        >>> import tapegrad
        >>> a = tapegrad.zeros(1, 2)
        >>> F = tapegrad.nn.functional
        >>> F.triplet_margin_loss(a, a, tapegrad.tensor([[3.0, 4.0]]), margin=1.0, eps=0.0)
        tensor(0.)
    """
    reduction = resolve(size_average, reduce, reduction, "triplet_margin_loss")
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"triplet_margin_loss: the anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got: anchor {anchor.ndim}D, positive "
                           f"{positive.ndim}D, and negative {negative.ndim}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = _E.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return reduce_loss((d_pos - d_neg + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """``input`` where ``target == 1``, ``max(0, margin - input)`` where ``target == -1``.

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> F.hinge_embedding_loss(tapegrad.tensor([0.3, 0.3]), tapegrad.tensor([1, -1]), reduction="none")
        tensor([0.3000, 0.7000])
    """
    reduction = resolve(size_average, reduce, reduction, "hinge_embedding_loss")
    loss = (_E.where(target != 1, (margin - input).clamp(min=0), 0.0) + _E.where(target != -1, input, 0.0))
    return reduce_loss(loss, reduction)


def _as_rows(fn, input, target):
    """``input`` as ``(N, C)`` (a ``(C,)`` or 0-D input as one row); the input rank and target dtype checked."""
    if input.ndim > 2:
        raise RuntimeError(f"{fn}: expected an input of 0, 1 or 2 dims, got shape {tuple(input.shape)}")
    if target.dtype not in (D.int64, D.int32, D.int16, D.int8, D.uint8):
        raise RuntimeError(f"{fn}: expected integer class targets, got dtype {target.dtype}")
    x = input.reshape((1, -1)) if input.ndim < 2 else input
    return x


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Multi-class hinge: ``sum_{i != y} max(0, margin - x[y] + x[i])**p * w[y] / C`` for each sample.

    Args:
        input: scores ``(N, C)`` or ``(C,)``.
        target: class indices ``(N,)`` (or a 0-D/1-element one for a ``(C,)`` input).
        p: 1 or 2.
        margin: the margin.
        weight: per-class weights ``(C,)``, applied by the target's class.
        size_average, reduce: deprecated; mapped to ``reduction`` with PyTorch's warning.
        reduction: ``"mean"`` (over samples), ``"sum"`` or ``"none"``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> round(tapegrad.nn.functional.multi_margin_loss(x, tapegrad.tensor([3])).item(), 4)
        0.325
    """
    reduction = resolve(size_average, reduce, reduction, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 supported, got p={p}")
    if weight is not None and weight.ndim != 1:
        raise ValueError(f"multi_margin_loss: weight must be one-dimensional, got shape {tuple(weight.shape)}")
    x = _as_rows("multi_margin_loss", input, target)
    n, c = x.shape
    t = target.reshape((-1,)).long()
    if t.shape[0] != n or (input.ndim < 2 and target.ndim > 1):
        raise RuntimeError(f"multi_margin_loss: inconsistent target size {tuple(target.shape)} for an input of "
                           f"size {tuple(input.shape)}")
    if weight is not None and weight.shape[0] != c:
        raise RuntimeError(f"multi_margin_loss: inconsistent weight size {tuple(weight.shape)} for {c} classes")
    if n and (bool((t < 0).any()) or bool((t >= c).any())):
        raise IndexError(f"multi_margin_loss: target out of range [0, {c}) for an input of size "
                         f"{tuple(input.shape)}")
    tcol = t.reshape((n, 1))
    z = x - x.gather(1, tcol) + margin
    h = z.relu() if p == 1 else z.relu() ** 2
    other = C.arange(c, device=input.device).reshape((1, c)) != tcol
    h = _E.where(other, h, 0.0)
    if weight is not None:
        h = h * weight[t].reshape((n, 1))
    loss = h.sum(1) / c
    if reduction == "none":
        return loss.reshape(()) if (input.ndim < 2 and target.ndim == 0) else loss
    return reduce_loss(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge: ``sum_{j, i} max(0, 1 - (x[y_j] - x[i])) / C`` over target classes ``y_j`` and
    non-target classes ``i``.

    ``target`` has ``input``'s shape and lists each sample's classes, ended by the first ``-1``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> round(tapegrad.nn.functional.multilabel_margin_loss(x, tapegrad.tensor([[3, 0, -1, 1]])).item(), 4)
        0.85
    """
    reduction = resolve(size_average, reduce, reduction, "multilabel_margin_loss")
    x = _as_rows("multilabel_margin_loss", input, target)
    if tuple(target.shape) != tuple(input.shape) and not (input.ndim <= 1 and target.numel() == input.numel()):
        raise RuntimeError(f"multilabel_margin_loss: inconsistent target size {tuple(target.shape)} for an input "
                           f"of size {tuple(input.shape)}")
    n, c = x.shape
    t = target.reshape((n, c)).long()
    if n and c and (bool((t < -1).any()) or bool((t >= c).any())):
        raise IndexError(f"multilabel_margin_loss: target values must be in [-1, {c}), for an input of size "
                         f"{tuple(input.shape)}")
    # the listed classes: positions before each row's first -1
    stop = t == -1
    first = _E.where(stop.any(1, keepdim=True), stop.long().argmax(1, keepdim=True), c)
    valid = C.arange(c, device=input.device).reshape((1, c)) < first
    ts = _E.where(valid, t, 0)
    classes = C.arange(c, device=input.device).reshape((1, 1, c))
    is_target = ((ts.reshape((n, c, 1)) == classes) & valid.reshape((n, c, 1))).any(1)      # (N, C)
    z = 1 - x.gather(1, ts).reshape((n, c, 1)) + x.reshape((n, 1, c))                        # (N, J, C)
    pair = valid.reshape((n, c, 1)) & is_target.logical_not().reshape((n, 1, c))
    loss = _E.where(pair, z.relu(), 0.0).sum((1, 2)) / c
    if reduction == "none":
        return loss.reshape(()) if input.ndim < 2 else loss
    return reduce_loss(loss, reduction)

