"""Margin, embedding and CTC loss modules; ``nn.modules.loss`` re-exports them (PyTorch keeps all in one file)."""
from .. import functional as F
from ._loss_base import _Loss, _WeightedLoss

__all__ = ["CosineEmbeddingLoss", "MarginRankingLoss", "TripletMarginLoss", "HingeEmbeddingLoss",
           "MultiMarginLoss", "MultiLabelMarginLoss", "CTCLoss"]


class CosineEmbeddingLoss(_Loss):
    """Pulls pairs together (``target = 1``) or pushes their cosine below ``margin`` (``target = -1``).

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[1.0, 0.0]])
        >>> tapegrad.nn.CosineEmbeddingLoss()(x, -x, tapegrad.tensor([1]))
        tensor(2.)
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """``max(0, -target * (x1 - x2) + margin)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.MarginRankingLoss(margin=0.5)(tapegrad.ones(1), tapegrad.ones(1), tapegrad.ones(1))
        tensor(0.5000)
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with the pairwise p-distance.

    Example:
        >>> import tapegrad
        >>> a = tapegrad.zeros(1, 2)
        >>> tapegrad.nn.TripletMarginLoss(eps=0.0)(a, a, a)
        tensor(1.)
    """

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """``x`` for ``target = 1``, ``max(0, margin - x)`` for ``target = -1``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.HingeEmbeddingLoss()(tapegrad.tensor([0.25]), tapegrad.tensor([-1.0]))
        tensor(0.7500)
    """

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss (``p`` 1 or 2) with optional per-class ``weight``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> round(tapegrad.nn.MultiMarginLoss()(x, tapegrad.tensor([3])).item(), 4)
        0.325
    """

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 supported, got p={p}")
        if weight is not None and weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: weight must be one-dimensional, got shape {tuple(weight.shape)}")
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss; each target row lists classes, ended by the first ``-1``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> round(tapegrad.nn.MultiLabelMarginLoss()(x, tapegrad.tensor([[3, 0, -1, 1]])).item(), 4)
        0.85
    """

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class CTCLoss(_Loss):
    """Connectionist temporal classification loss of log-probabilities ``(T, N, C)`` and label sequences.

    Example:
        >>> import tapegrad
        >>> logp = tapegrad.zeros(2, 1, 2).log_softmax(2)
        >>> ctc = tapegrad.nn.CTCLoss()
        >>> round(ctc(logp, tapegrad.tensor([[1]]), tapegrad.tensor([2]), tapegrad.tensor([1])).item(), 4)
        0.2877
    """

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=self.blank,
                          reduction=self.reduction, zero_infinity=self.zero_infinity)
