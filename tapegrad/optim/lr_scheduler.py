"""Learning-rate schedules: ``StepLR``, ``ExponentialLR``, ``CosineAnnealingLR``, ``LambdaLR`` here; the base
class in ``_lr_base.py`` and the rest of PyTorch's schedulers in ``_lr_schedules.py``, ``_lr_cyclic.py``,
``_lr_composite.py``, all re-exported here.

Each scheduler sets ``group["lr"]`` of its optimizer; call ``scheduler.step()``
after ``optimizer.step()``, once per epoch (or per iteration).
"""
import math

from ._lr_base import LRScheduler, _LambdaSchedule, _lrs
# The other schedulers live in their own files (one job each) and are re-exported here, so that
# ``tapegrad.optim.lr_scheduler.<Name>`` resolves as ``torch.optim.lr_scheduler.<Name>`` does.
from ._lr_schedules import (MultiStepLR, MultiplicativeLR, ConstantLR, LinearLR, PolynomialLR,
                            CosineAnnealingWarmRestarts)
from ._lr_cyclic import OneCycleLR, CyclicLR
from ._lr_composite import SequentialLR, ChainedScheduler, ReduceLROnPlateau

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR",
           "MultiStepLR", "MultiplicativeLR", "ConstantLR", "LinearLR", "PolynomialLR",
           "CosineAnnealingWarmRestarts", "OneCycleLR", "CyclicLR", "SequentialLR", "ChainedScheduler",
           "ReduceLROnPlateau"]


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    Example:
        >>> import tapegrad
        >>> opt = tapegrad.optim.SGD([tapegrad.nn.Parameter(tapegrad.ones(1))], lr=1.0)
        >>> s = tapegrad.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)
        >>> s.step(); s.get_last_lr()
        [0.1]
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if not isinstance(step_size, int) or step_size <= 0:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _lrs(self.optimizer)
        return [g["lr"] * self.gamma for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch.

    Example:
        >>> import tapegrad
        >>> opt = tapegrad.optim.SGD([tapegrad.nn.Parameter(tapegrad.ones(1))], lr=1.0)
        >>> s = tapegrad.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        >>> s.step(); s.step(); s.get_last_lr()
        [0.25]
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return _lrs(self.optimizer)
        return [g["lr"] * self.gamma for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """``eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2`` (PyTorch's closed form).

    Example:
        >>> import tapegrad
        >>> opt = tapegrad.optim.SGD([tapegrad.nn.Parameter(tapegrad.ones(1))], lr=1.0)
        >>> s = tapegrad.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)
        >>> s.step(); [round(v, 6) for v in s.get_last_lr()]
        [0.5]
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        # PyTorch's recursive form (Note [chainable schedules])
        t, T, lo, groups = self.last_epoch, self.T_max, self.eta_min, self.optimizer.param_groups
        if self._is_initial:
            return _lrs(self.optimizer)
        # (PyTorch also has a closed-form branch for ``_step_count == 1``; its step() counts before calling
        # get_lr and the constructor's step returns above, so that branch never runs: left out.)
        if (t - 1 - T) % (2 * T) == 0:
            return [g["lr"] + (base - lo) * (1 - math.cos(math.pi / T)) / 2 for base, g in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (g["lr"] - lo) + lo
                for g in groups]

    def _get_closed_form_lr(self):
        c = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * c for base in self.base_lrs]


class LambdaLR(_LambdaSchedule):
    """``base_lr * lr_lambda(epoch)``; one function, or one per parameter group.

    Example:
        >>> import tapegrad
        >>> opt = tapegrad.optim.SGD([tapegrad.nn.Parameter(tapegrad.ones(1))], lr=1.0)
        >>> s = tapegrad.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (epoch + 1))
        >>> s.step(); s.get_last_lr()
        [0.5]
    """
    _not_callable = "lr_lambda must be callable, got"

    def get_lr(self):
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]
