"""Learning-rate schedules: ``StepLR``, ``ExponentialLR``, ``CosineAnnealingLR``, ``LambdaLR`` here; the rest
of PyTorch's schedulers in ``_lr_schedules.py``, ``_lr_cyclic.py``, ``_lr_composite.py``, re-exported below.

Each scheduler sets ``group["lr"]`` of its optimizer; call ``scheduler.step()``
after ``optimizer.step()``, once per epoch (or per iteration).
"""
import math
import types
import warnings

from .._tensor import Tensor
from .optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR"]

# Note [chainable schedules]
# As in PyTorch, StepLR, ExponentialLR and CosineAnnealingLR compute the next lr from each group's *current*
# ``lr`` (multiply by gamma, or the cosine ratio), not from ``base_lrs``: two schedulers stepping one
# optimizer then compose (StepLR + ExponentialLR multiply), and a manual change to ``group["lr"]`` carries
# on. The closed forms are used only by the deprecated ``step(epoch)``. The constructor's first step runs
# with ``_is_initial`` set and leaves every lr as it is.

_EPOCH_DEPRECATION = ("The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
                      "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if "
                      "epoch is different from None, the closed form is used instead of the new chainable form, "
                      "where available.")


def _check_optimizer(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _set_lr(group, lr):
    """``group["lr"] = lr``, filling a Tensor lr in place (no aliasing), as PyTorch does."""
    if isinstance(group["lr"], Tensor):
        group["lr"].fill_(lr.item() if isinstance(lr, Tensor) else lr)
    else:
        group["lr"] = lr


def _lrs(optimizer):
    """Each group's lr; tensors are cloned so that nobody aliases a group's lr tensor."""
    return [g["lr"].clone() if isinstance(g["lr"], Tensor) else g["lr"] for g in optimizer.param_groups]


class LRScheduler:
    """Base class: records ``initial_lr`` in each group and applies ``get_lr()`` on every ``step()``.

    Args:
        optimizer: the ``Optimizer`` whose groups' ``lr`` this sets.
        last_epoch: -1 for a fresh start; a later epoch to resume (the groups then need ``initial_lr``).
    """
    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for g in optimizer.param_groups:
                g.setdefault("initial_lr", g["lr"].clone() if isinstance(g["lr"], Tensor) else g["lr"])
        else:
            for i, g in enumerate(optimizer.param_groups):
                if "initial_lr" not in g:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                                   "scheduler with last_epoch >= 0 (load the optimizer's state_dict first)")
        self.base_lrs = [g["initial_lr"].clone() if isinstance(g["initial_lr"], Tensor) else g["initial_lr"]
                         for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """The constructor's step (SequentialLR runs it again when it hands over to a scheduler)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The learning rate of each group at ``self.last_epoch`` (Note [chainable schedules])."""
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

    def step(self, epoch=None):
        """Advance one epoch and set each group's ``lr``; ``epoch`` (deprecated, as in PyTorch) jumps there
        and uses the closed form."""
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATION, UserWarning, stacklevel=2)
        self._step_count += 1               # before get_lr, as in PyTorch
        try:
            self._update_lr(epoch)
        except BaseException:
            self._step_count -= 1
            raise

    def _update_lr(self, epoch=None):
        """Set ``last_epoch`` (one more, or ``epoch``) and every group's lr; nothing changes if get_lr raises."""
        prev = self.last_epoch
        try:
            if epoch is None:
                self.last_epoch += 1
                lrs = self.get_lr()
            else:
                self.last_epoch = epoch
                closed = getattr(self, "_get_closed_form_lr", None)
                lrs = closed() if closed is not None else self.get_lr()
        except BaseException:
            self.last_epoch = prev          # nothing half-modified: the groups are untouched too
            raise
        for g, lr in zip(self.optimizer.param_groups, lrs):
            _set_lr(g, lr)
        self._last_lr = _lrs(self.optimizer)

    def state_dict(self):
        """Everything but the optimizer."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore the counters saved by ``state_dict``."""
        self.__dict__.update({k: v for k, v in state_dict.items() if k != "optimizer"})


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
        _check_optimizer(optimizer)     # PyTorch reads optimizer.param_groups first (AttributeError)
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

    def state_dict(self):
        """As ``LRScheduler.state_dict``; of the lr_lambdas only callable objects' ``__dict__`` is kept (as in
        PyTorch: functions and lambdas are not saved)."""
        sd = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        sd["lr_lambdas"] = [None if isinstance(f, types.FunctionType) else dict(f.__dict__) for f in self.lr_lambdas]
        return sd

    def load_state_dict(self, state_dict):
        """Restore the counters, and the saved ``__dict__`` of callable-object lr_lambdas."""
        saved = state_dict.get("lr_lambdas", [None] * len(self.lr_lambdas))
        self.__dict__.update({k: v for k, v in state_dict.items() if k not in ("optimizer", "lr_lambdas")})
        for f, d in zip(self.lr_lambdas, saved):
            if d is not None:
                f.__dict__.update(d)


# The other schedulers live in their own files (one job each) and are re-exported here, so that
# ``tapegrad.optim.lr_scheduler.<Name>`` resolves as ``torch.optim.lr_scheduler.<Name>`` does.
from ._lr_schedules import (MultiStepLR, MultiplicativeLR, ConstantLR, LinearLR, PolynomialLR,  # noqa: E402
                            CosineAnnealingWarmRestarts)
from ._lr_cyclic import OneCycleLR, CyclicLR  # noqa: E402
from ._lr_composite import SequentialLR, ChainedScheduler, ReduceLROnPlateau  # noqa: E402

__all__ += ["MultiStepLR", "MultiplicativeLR", "ConstantLR", "LinearLR", "PolynomialLR",
            "CosineAnnealingWarmRestarts", "OneCycleLR", "CyclicLR", "SequentialLR", "ChainedScheduler",
            "ReduceLROnPlateau"]
