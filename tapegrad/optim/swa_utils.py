"""Stochastic weight averaging, as ``torch.optim.swa_utils``: ``AveragedModel`` (SWA or EMA of a model's
parameters), the averaging functions, the ``SWALR`` schedule and ``update_bn``.

``update_bn`` recomputes the running statistics of every batch-norm layer: a module with
``reset_running_stats()``, ``momentum`` and ``running_mean`` (PyTorch tests ``isinstance(_BatchNorm)``;
here any module of that shape counts, so BatchNorm layers need no import from this floor).
"""
import itertools
import math
from copy import deepcopy

from .._creation import tensor as _tensor
from .._dtype import int64
from ..autograd import grad_mode as _gm
from ..nn.module import Module
from ._lr_base import LRScheduler
from ._lr_cyclic import _format_param

__all__ = ["AveragedModel", "SWALR", "update_bn", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",
           "get_ema_avg_fn", "get_swa_avg_fn"]


def _lerp_(a, b, w):
    """``a += w (b - a)`` in place, with PyTorch's two-sided formula (``lerp_``) for the rounding."""
    a.copy_(a + w * (b - a) if abs(w) < 0.5 else b - (b - a) * (1 - w))


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay=0.999):
    """An in-place exponential moving average over lists of tensors: ``ema = decay ema + (1 - decay) p``.

    Example:
        >>> import tapegrad
        >>> from tapegrad.optim.swa_utils import get_ema_multi_avg_fn
        >>> ema, p = [tapegrad.zeros(2)], [tapegrad.ones(2)]
        >>> get_ema_multi_avg_fn(0.75)(ema, p, 1); ema[0]
        tensor([0.2500, 0.2500])
    """
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _):
        with _gm.no_grad():
            for e, p in zip(ema_param_list, current_param_list):
                if e.is_floating_point():
                    _lerp_(e, p, 1 - decay)
                else:
                    e.copy_(e * decay + p * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """An in-place running mean over lists of tensors: ``avg += (p - avg) / (n + 1)``.

    Example:
        >>> import tapegrad
        >>> from tapegrad.optim.swa_utils import get_swa_multi_avg_fn
        >>> avg, p = [tapegrad.zeros(2)], [tapegrad.full((2,), 3.0)]
        >>> get_swa_multi_avg_fn()(avg, p, 2); avg[0]
        tensor([1., 1.])
    """
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        with _gm.no_grad():
            n = float(num_averaged)
            for a, p in zip(averaged_param_list, current_param_list):
                if a.is_floating_point():
                    _lerp_(a, p, 1 / (n + 1))
                else:
                    a.copy_(a + (p - a) / (n + 1))
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """The exponential moving average of one tensor: returns ``decay ema + (1 - decay) p``.

    Example:
        >>> import tapegrad
        >>> from tapegrad.optim.swa_utils import get_ema_avg_fn
        >>> get_ema_avg_fn(0.5)(tapegrad.zeros(1), tapegrad.ones(1), 3)
        tensor([0.5000])
    """
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        with _gm.no_grad():
            return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """The running mean of one tensor: returns ``avg + (p - avg) / (n + 1)``.

    Example:
        >>> import tapegrad
        >>> from tapegrad.optim.swa_utils import get_swa_avg_fn
        >>> get_swa_avg_fn()(tapegrad.zeros(1), tapegrad.full((1,), 4.0), 3)
        tensor([1.])
    """
    def swa_update(averaged_param, current_param, num_averaged):
        with _gm.no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are the average of the ``model``'s over ``update_parameters`` calls.

    The default is the equal-weight SWA mean; ``avg_fn(avg, p, n)`` (returns the new value) or
    ``multi_avg_fn(avg_list, p_list, n)`` (in place) choose another, e.g. ``get_ema_multi_avg_fn(0.999)``.
    With ``use_buffers`` the buffers are averaged too; otherwise they are copied from ``model``.
    ``n_averaged`` (a long buffer) counts the updates.

    Example:
        >>> import tapegrad
        >>> from tapegrad.optim.swa_utils import AveragedModel
        >>> model = tapegrad.nn.Linear(1, 1, bias=False)
        >>> swa = AveragedModel(model)
        >>> for w in (1.0, 2.0, 6.0):
        ...     with tapegrad.no_grad():
        ...         _ = model.weight.fill_(w)
        ...     swa.update_parameters(model)
        >>> swa.module.weight.item(), int(swa.n_averaged)
        (3.0, 3)
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", _tensor(0, dtype=int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        """Run the averaged copy of the model."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Fold ``model``'s current parameters (and buffers, with ``use_buffers``) into the average."""
        mine = (itertools.chain(self.module.parameters(), self.module.buffers()) if self.use_buffers
                else self.parameters())
        theirs = itertools.chain(model.parameters(), model.buffers()) if self.use_buffers else model.parameters()
        n = int(self.n_averaged)
        with _gm.no_grad():
            pairs = [(a.detach(), p.detach().to(a.device)) for a, p in zip(mine, theirs)]
            if n == 0:
                for a, p in pairs:
                    a.copy_(p)
            elif self.avg_fn is not None:
                for a, p in pairs:
                    a.copy_(self.avg_fn(a, p, self.n_averaged.to(a.device)))
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn([a for a, _ in pairs], [p for _, p in pairs], self.n_averaged)
            else:
                # PyTorch's CPU path: the one-tensor SWA mean (its foreach lerp runs on GPUs only)
                avg = get_swa_avg_fn()
                for a, p in pairs:
                    a.copy_(avg(a, p, self.n_averaged.to(a.device)))
            if not self.use_buffers:
                for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                    b_swa.detach().copy_(b_model.detach().to(b_swa.device))
            self.n_averaged += 1


def _is_batchnorm(module):
    return hasattr(module, "reset_running_stats") and hasattr(module, "momentum") and hasattr(module, "running_mean")


def update_bn(loader, model, device=None):
    """Recompute the batch-norm running statistics of ``model`` with one pass over ``loader``.

    Each batch-norm layer (see the module docstring) is reset and run with ``momentum=None`` (a cumulative
    average over the batches), in training mode; then momentum and mode are restored. A batch that is a list or
    tuple contributes its first element.

    Example:
        >>> import tapegrad
        >>> from tapegrad.optim.swa_utils import update_bn
        >>> update_bn([tapegrad.ones(2, 3)], tapegrad.nn.Linear(3, 1))    # no batch-norm layer: nothing to do
    """
    momenta = {}
    for m in model.modules():
        if _is_batchnorm(m):
            m.reset_running_stats()
            momenta[m] = m.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for m in momenta:
        m.momentum = None
    with _gm.no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    for m, mom in momenta.items():
        m.momentum = mom
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to ``swa_lr`` over ``anneal_epochs`` epochs (``"cos"`` or ``"linear"``), then hold.

    Example:
        >>> import tapegrad
        >>> from tapegrad.optim.swa_utils import SWALR
        >>> opt = tapegrad.optim.SGD([tapegrad.nn.Parameter(tapegrad.ones(1))], lr=1.0)
        >>> s = SWALR(opt, swa_lr=0.1, anneal_epochs=2, anneal_strategy="linear")
        >>> lrs = [s.get_last_lr()[0]]
        >>> for _ in range(3):
        ...     opt.step(); s.step(); lrs.append(round(s.get_last_lr()[0], 6))
        >>> lrs
        [1.0, 0.55, 0.1, 0.1]
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, g in zip(swa_lrs, optimizer.param_groups):
            g["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"SWALR: anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"SWALR: anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, strategy):
        self._anneal_strategy = strategy
        self.anneal_func = self._cosine_anneal if strategy == "cos" else self._linear_anneal

    def get_lr(self):
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        groups = self.optimizer.param_groups
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, prev_lrs)]

    def state_dict(self):
        """Everything but the optimizer and the anneal function (restored from its name)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        """Restore the counters and the anneal strategy."""
        self.__dict__.update({k: v for k, v in state_dict.items() if k != "optimizer"})
        self._set_anneal_func(self._anneal_strategy)
