"""RAdam: Adam with the variance of the adaptive step rectified in its first steps."""
import math

from .._tensor import Tensor
from .adamax import _check_betas
from .optimizer import Optimizer, _grads, _impl_flags, _without, _scalar, _store

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam with PyTorch's update rule.

    With ``m``, ``v`` as in Adam, ``rho_inf = 2 / (1 - b2) - 1`` and
    ``rho_t = rho_inf - 2 t b2^t / (1 - b2^t)``: while ``rho_t <= 5`` the step is
    ``p -= lr m / (1 - b1^t)``; after it, that step is multiplied by
    ``sqrt(1 - b2^t) / (sqrt(v) + eps)`` and the rectification
    ``sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))``.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: ``(b1, b2)`` (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty (default 0), added to the gradient unless ``decoupled_weight_decay``.
        decoupled_weight_decay: shrink the parameters directly, as AdamW does.
        maximize: ascend the objective instead.
        foreach, capturable, differentiable: PyTorch's implementation switches (``optimizer._impl_flags``);
            accepted and change no result; differentiable=True raises NotImplementedError, as for SGD and Adam.

    Example:
        >>> import tapegrad
        >>> w = tapegrad.nn.Parameter(tapegrad.tensor([1.0]))
        >>> opt = tapegrad.optim.RAdam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 4)      # first step: rho_t <= 5, so p -= lr * m / (1 - b1) = lr * grad
        0.8
    """

    _sparse_error = "RAdam does not support sparse gradients"     # as PyTorch

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize,
                        decoupled_weight_decay=bool(decoupled_weight_decay),
                        **_without("fused", _impl_flags("RAdam", foreach=foreach, capturable=capturable,
                                                        differentiable=differentiable)))
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, g):
        _check_betas("RAdam", g)

    def _update_group(self, group):
        lr, eps, wd = (_scalar(group[k]) for k in ("lr", "eps", "weight_decay"))
        b1, b2 = (_scalar(b) for b in group["betas"])
        decoupled = group.get("decoupled_weight_decay", False)
        for p, a, g, be in _grads(group, group["maximize"]):
            st = self.state.get(p)
            if st is None:
                st = self.state[p] = {"step": 0, "exp_avg": Tensor._make(be.zeros(a.shape, a.dtype), None),
                                      "exp_avg_sq": Tensor._make(be.zeros(a.shape, a.dtype), None)}
            step = st["step"] = st["step"] + 1
            if wd:
                if decoupled:
                    x = a
                    x *= 1 - lr * wd
                    _store(be, a, x)
                else:
                    g = g + wd * a
            m = st["exp_avg"]._data
            v = st["exp_avg_sq"]._data
            x = m
            x += (1 - b1) * (g - m)
            _store(be, m, x)
            x = v
            x *= b2
            x += (1 - b2) * (g * g)
            _store(be, v, x)
            bc1 = 1 - b1 ** step
            bc2 = 1 - b2 ** step
            m_hat = m / bc1
            rho_inf = 2 / (1 - b2) - 1
            rho_t = rho_inf - 2 * step * (b2 ** step) / bc2
            if rho_t > 5.0:
                rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                sq = be.sqrt(v)
                sq += eps
                upd = m_hat * lr * (bc2 ** 0.5 / sq) * rect
            else:
                upd = m_hat * lr
            x = a
            x -= upd
            _store(be, a, x)
            p._version[0] += 1
