"""Learning-rate schedules: ``StepLR``, ``ExponentialLR``, ``CosineAnnealingLR``, ``LambdaLR``.

Each scheduler sets ``group["lr"]`` of its optimizer; call ``scheduler.step()``
after ``optimizer.step()``, once per epoch (or per iteration).
"""
import math

from .optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR"]


class LRScheduler:
    """Base class: records ``initial_lr`` in each group and applies ``get_lr()`` on every ``step()``."""

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for g in optimizer.param_groups:
                g.setdefault("initial_lr", g["lr"])
        else:
            for i, g in enumerate(optimizer.param_groups):
                if "initial_lr" not in g:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                                   "an optimizer")
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def get_lr(self):
        """The learning rate of each group at ``self.last_epoch``."""
        raise NotImplementedError

    def get_last_lr(self):
        """The learning rates set by the last ``step()``.

        Example:
            >>> import tapegrad
            >>> opt = tapegrad.optim.SGD([tapegrad.nn.Parameter(tapegrad.ones(1))], lr=1.0)
            >>> sched = tapegrad.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
            >>> for _ in range(4):
            ...     opt.step(); sched.step()
            >>> sched.get_last_lr()
            [0.25]
        """
        return list(self._last_lr)

    def step(self):
        """Advance one epoch and set each group's ``lr``."""
        self.last_epoch += 1
        lrs = self.get_lr()
        for g, lr in zip(self.optimizer.param_groups, lrs):
            g["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self):
        """Everything but the optimizer (and, for LambdaLR, the functions)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}

    def load_state_dict(self, state_dict):
        """Restore the counters saved by ``state_dict``."""
        self.__dict__.update({k: v for k, v in state_dict.items() if k not in ("optimizer", "lr_lambdas")})


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
        c = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * c for base in self.base_lrs]


class LambdaLR(LRScheduler):
    """``base_lr * lr_lambda(epoch)``; one function, or one per parameter group.

    Example:
        >>> import tapegrad
        >>> opt = tapegrad.optim.SGD([tapegrad.nn.Parameter(tapegrad.ones(1))], lr=1.0)
        >>> s = tapegrad.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (epoch + 1))
        >>> s.step(); s.get_last_lr()
        [0.5]
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"LambdaLR: expected {n} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        for f in self.lr_lambdas:
            if not callable(f):
                raise TypeError(f"LambdaLR: lr_lambda must be callable, got {type(f).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]
