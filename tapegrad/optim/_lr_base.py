"""The scheduler base class ``LRScheduler`` and the helpers every scheduler file shares (re-exported by
``tapegrad.optim.lr_scheduler``)."""
import types
import warnings

from .._tensor import Tensor
from .optimizer import Optimizer

__all__ = ["LRScheduler"]

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


class _LambdaSchedule(LRScheduler):
    """What ``LambdaLR`` and ``MultiplicativeLR`` share: one ``lr_lambda`` or one per group, and their state."""

    _not_callable = "lr_lambda must be callable, got"

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        _check_optimizer(optimizer)     # PyTorch reads optimizer.param_groups first (AttributeError)
        name, n = type(self).__name__, len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"{name}: expected {n} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        for f in self.lr_lambdas:
            if not callable(f):
                raise TypeError(f"{name}: {self._not_callable} {type(f).__name__}")
        super().__init__(optimizer, last_epoch)

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
