"""Adadelta: steps scaled by the ratio of running RMS of updates to running RMS of gradients."""
from .._tensor import Tensor
from .optimizer import (Optimizer, _check_nonneg, _check_tensor_lr, _grads, _impl_flags, _without, _scalar, _store)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta with PyTorch's update rule.

    With ``d = grad + weight_decay * p``: ``v = rho v + (1-rho) d^2``,
    ``delta = sqrt(u + eps) / sqrt(v + eps) * d``, ``u = rho u + (1-rho) delta^2``,
    ``p -= lr * delta`` (state keys ``square_avg`` for ``v``, ``acc_delta`` for ``u``).

    Args:
        params: parameters or parameter groups.
        lr: scale applied to delta (default 1.0).
        rho: running-average coefficient (default 0.9).
        eps: added inside the square roots (default 1e-6).
        weight_decay: L2 penalty added to the gradient (default 0).
        maximize: ascend the objective instead.
        foreach, capturable, differentiable: PyTorch's implementation switches (``optimizer._impl_flags``);
            accepted and change no result; differentiable=True raises NotImplementedError, as for SGD and Adam.

    Example:
        >>> import tapegrad
        >>> w = tapegrad.nn.Parameter(tapegrad.tensor([1.0], dtype=tapegrad.float64))
        >>> opt = tapegrad.optim.Adadelta([w])
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 6)     # sqrt(1e-6) / sqrt(0.1 * 4 + 1e-6) * 2 = 0.0031623
        0.996838
    """

    _sparse_error = "Adadelta does not support sparse gradients"     # as PyTorch

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        **_without("fused", _impl_flags("Adadelta", foreach=foreach, capturable=capturable,
                                      differentiable=differentiable)))
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, g):
        _check_tensor_lr("Adadelta", g["lr"])
        _check_nonneg("Adadelta", "learning rate", g["lr"])
        if not 0.0 <= g["rho"] <= 1.0:
            raise ValueError(f"Adadelta: Invalid rho value: {g['rho']} (must be in [0, 1])")
        _check_nonneg("Adadelta", "epsilon value", g["eps"])
        _check_nonneg("Adadelta", "weight_decay value", g["weight_decay"])

    def _update_group(self, group):
        lr, rho, eps, wd = (_scalar(group[k]) for k in ("lr", "rho", "eps", "weight_decay"))
        for p, a, g, be in _grads(group, group["maximize"]):
            st = self.state.get(p)
            if st is None:
                st = self.state[p] = {"step": 0,
                                      "square_avg": Tensor._make(be.zeros(a.shape, a.dtype), None),
                                      "acc_delta": Tensor._make(be.zeros(a.shape, a.dtype), None)}
            st["step"] += 1
            if wd:
                g = g + wd * a
            v = st["square_avg"]._data
            u = st["acc_delta"]._data
            x = v
            x *= rho
            x += (1 - rho) * (g * g)
            _store(be, v, x)
            delta = be.sqrt(u + eps) / be.sqrt(v + eps) * g
            x = u
            x *= rho
            x += (1 - rho) * (delta * delta)
            _store(be, u, x)
            x = a
            x -= lr * delta
            _store(be, a, x)
            p._version[0] += 1
