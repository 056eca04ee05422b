"""Loss modules (``torch.nn.modules.loss``): thin wrappers over the functions in ``nn.functional``.

Each takes PyTorch's constructor arguments, the deprecated ``size_average`` and
``reduce`` included (mapped to ``reduction`` with PyTorch's warning). Like
PyTorch's, their ``repr`` shows no arguments. The margin, embedding and CTC
losses live in ``loss_margin.py`` and are re-exported here.
"""
from .. import functional as F
from ._loss_base import _Loss, _WeightedLoss

__all__ = ["MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "SmoothL1Loss",
           "HuberLoss", "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss", "SoftMarginLoss",
           "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss", "MarginRankingLoss", "TripletMarginLoss",
           "HingeEmbeddingLoss", "MultiMarginLoss", "MultiLabelMarginLoss", "CTCLoss"]


class MSELoss(_Loss):
    """Mean squared error (``size_average``, ``reduce``: deprecated, as in PyTorch).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.MSELoss()(tapegrad.tensor([2.0]), tapegrad.tensor([0.0]))
        tensor(4.)
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.L1Loss(reduction="sum")(tapegrad.tensor([2.0, -1.0]), tapegrad.zeros(2))
        tensor(3.)
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits and class indices (log-softmax and NLL fused).

    Example:
        >>> import tapegrad
        >>> loss = tapegrad.nn.CrossEntropyLoss()(tapegrad.zeros(3, 2), tapegrad.tensor([0, 1, 1]))
        >>> round(loss.item(), 4)
        0.6931
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices given log-probabilities.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.NLLLoss()(tapegrad.tensor([[-1.0, -2.0]]), tapegrad.tensor([1]))
        tensor(2.)
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities.

    Example:
        >>> import tapegrad
        >>> round(tapegrad.nn.BCELoss()(tapegrad.tensor([0.5]), tapegrad.tensor([1.0])).item(), 4)
        0.6931
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid and binary cross-entropy in one numerically stable loss, with optional ``pos_weight``.

    Example:
        >>> import tapegrad
        >>> round(tapegrad.nn.BCEWithLogitsLoss()(tapegrad.zeros(1), tapegrad.ones(1)).item(), 4)
        0.6931
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(weight, size_average, reduce, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class SmoothL1Loss(_Loss):
    """Squared error below ``beta``, absolute error above it (``beta=0``: L1).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.SmoothL1Loss(beta=2.0)(tapegrad.tensor([1.0, 4.0]), tapegrad.zeros(2))
        tensor(1.6250)
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Squared error below ``delta``, ``delta``-scaled absolute error above it.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.HuberLoss(delta=2.0)(tapegrad.tensor([1.0, 4.0]), tapegrad.zeros(2))
        tensor(3.2500)
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities ``input`` from ``target`` (``reduction="batchmean"`` is the true KL).

    Example:
        >>> import tapegrad
        >>> p = tapegrad.tensor([[0.25, 0.75]])
        >>> tapegrad.nn.KLDivLoss(reduction="batchmean")(p.log(), p)
        tensor(0.)
    """
    _REDUCTIONS = ("none", "batchmean", "mean", "sum")

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood of counts ``target`` given (log-)rates ``input``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.PoissonNLLLoss()(tapegrad.zeros(2), tapegrad.ones(2))
        tensor(1.)
    """

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood of ``target`` given a mean ``input`` and a variance ``var``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.GaussianNLLLoss()(tapegrad.zeros(2), tapegrad.zeros(2), tapegrad.ones(2))
        tensor(0.)
    """

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction=reduction)
        self.full = full
        self.eps = eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss for targets in {-1, 1}.

    Example:
        >>> import tapegrad
        >>> round(tapegrad.nn.SoftMarginLoss()(tapegrad.zeros(2), tapegrad.ones(2)).item(), 4)
        0.6931
    """

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """One-vs-all logistic loss over the classes, with optional per-class ``weight``.

    Example:
        >>> import tapegrad
        >>> round(tapegrad.nn.MultiLabelSoftMarginLoss()(tapegrad.zeros(1, 2), tapegrad.ones(1, 2)).item(), 4)
        0.6931
    """

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


from .loss_margin import (CosineEmbeddingLoss, MarginRankingLoss, TripletMarginLoss,  # noqa: E402
                          HingeEmbeddingLoss, MultiMarginLoss, MultiLabelMarginLoss, CTCLoss)
