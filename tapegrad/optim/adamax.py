"""Adamax: Adam with the infinity norm of past gradients in the denominator."""
from .._tensor import Tensor
from .optimizer import (Optimizer, _check_nonneg, _check_tensor_lr, _grads, _impl_flags, _without, _scalar, _store)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax with PyTorch's update rule.

    With ``d = grad + weight_decay * p``: ``m = b1 m + (1-b1) d``,
    ``u = max(b2 u, |d| + eps)``, ``p -= lr / (1 - b1^t) * m / u`` (state keys
    ``exp_avg``, ``exp_inf``).

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 2e-3).
        betas: ``(b1, b2)`` (default (0.9, 0.999)).
        eps: added to ``|d|`` (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        maximize: ascend the objective instead.
        foreach, capturable, differentiable: PyTorch's implementation switches (``optimizer._impl_flags``);
            accepted and change no result; differentiable=True raises NotImplementedError, as for SGD and Adam.

    Example:
        >>> import tapegrad
        >>> w = tapegrad.nn.Parameter(tapegrad.tensor([1.0]))
        >>> opt = tapegrad.optim.Adamax([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 4)
        0.9
    """

    _sparse_error = "Adamax does not support sparse gradients"     # as PyTorch

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize,
                        **_without("fused", _impl_flags("Adamax", foreach=foreach, capturable=capturable,
                                      differentiable=differentiable)))
        _check_betas("Adamax", defaults)
        super().__init__(params, defaults)

    def _check_group(self, g):
        _check_betas("Adamax", g)

    def _update_group(self, group):
        lr, eps, wd = (_scalar(group[k]) for k in ("lr", "eps", "weight_decay"))
        b1, b2 = (_scalar(b) for b in group["betas"])
        for p, a, g, be in _grads(group, group["maximize"]):
            st = self.state.get(p)
            if st is None:
                st = self.state[p] = {"step": 0, "exp_avg": Tensor._make(be.zeros(a.shape, a.dtype), None),
                                      "exp_inf": Tensor._make(be.zeros(a.shape, a.dtype), None)}
            step = st["step"] = st["step"] + 1
            if wd:
                g = g + wd * a
            m = st["exp_avg"]._data
            u = st["exp_inf"]._data
            x = m
            x += (1 - b1) * (g - m)         # lerp, as PyTorch writes it
            _store(be, m, x)
            x = u
            x *= b2
            _store(be, u, be.maximum(x, be.abs(g) + eps))
            clr = lr / (1 - b1 ** step)
            x = a
            x -= clr * (m / u)
            _store(be, a, x)
            p._version[0] += 1


def _check_betas(name, g):
    """PyTorch's checks of lr, eps, betas and weight_decay for the Adam family (``not 0 <= x``: NaN fails)."""
    _check_tensor_lr(name, g["lr"])
    _check_nonneg(name, "learning rate", g["lr"])
    _check_nonneg(name, "epsilon value", g["eps"])
    for i in (0, 1):
        if not 0.0 <= g["betas"][i] < 1.0:
            raise ValueError(f"{name}: Invalid beta parameter at index {i}: {g['betas'][i]} (must be in [0, 1))")
    _check_nonneg(name, "weight_decay value", g["weight_decay"])
