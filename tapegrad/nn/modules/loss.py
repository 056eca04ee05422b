"""Loss modules: thin wrappers over the functions in ``nn.functional``."""
from .. import functional as F
from ..module import Module

__all__ = ["MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss"]


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error.

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


class CrossEntropyLoss(_Loss):
    """Cross-entropy of logits and class indices (log-softmax and NLL fused).

    Example:
        >>> import tapegrad
        >>> loss = tapegrad.nn.CrossEntropyLoss()(tapegrad.zeros(3, 2), tapegrad.tensor([0, 1, 1]))
        >>> round(loss.item(), 4)
        0.6931
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices given log-probabilities.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.NLLLoss()(tapegrad.tensor([[-1.0, -2.0]]), tapegrad.tensor([1]))
        tensor(2.)
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities.

    Example:
        >>> import tapegrad
        >>> round(tapegrad.nn.BCELoss()(tapegrad.tensor([0.5]), tapegrad.tensor([1.0])).item(), 4)
        0.6931
    """

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy in one numerically stable loss, with optional ``pos_weight``.

    Example:
        >>> import tapegrad
        >>> round(tapegrad.nn.BCEWithLogitsLoss()(tapegrad.zeros(1), tapegrad.ones(1)).item(), 4)
        0.6931
    """

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)
