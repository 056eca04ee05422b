"""The base classes of the loss modules: ``reduction`` (or the legacy pair) and the ``weight`` buffer."""
from .._functional._reduction import REDUCTIONS, check, legacy_get_string
from ..module import Module


class _Loss(Module):
    _REDUCTIONS = REDUCTIONS

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = legacy_get_string(size_average, reduce, stacklevel=3)
        check(reduction, type(self).__name__, self._REDUCTIONS)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
