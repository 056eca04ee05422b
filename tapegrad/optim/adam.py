"""Adam (and the shared update that AdamW reuses), with bias correction and AMSGrad."""
import math

from .._tensor import Tensor
from .optimizer import Optimizer, _fusable, _grads, _store

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam with PyTorch's update rule.

    ``m = b1 m + (1-b1) d``, ``v = b2 v + (1-b2) d^2`` (``d = grad + weight_decay * p``),
    ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``; with
    ``amsgrad`` the running maximum of ``v`` replaces ``v`` in the denominator.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: ``(b1, b2)`` (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        amsgrad: use the AMSGrad variant.
        maximize: ascend the objective instead.

    Example:
        >>> import tapegrad
        >>> w = tapegrad.nn.Parameter(tapegrad.tensor([1.0]))
        >>> opt = tapegrad.optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 4)
        0.9
    """
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _check_group(self, g):
        name = type(self).__name__
        if g["lr"] < 0.0:
            raise ValueError(f"{name}: invalid learning rate: {g['lr']}")
        if g["eps"] < 0.0:
            raise ValueError(f"{name}: invalid epsilon value: {g['eps']}")
        b1, b2 = g["betas"]
        if not 0.0 <= b1 < 1.0 or not 0.0 <= b2 < 1.0:
            raise ValueError(f"{name}: invalid betas {g['betas']}; each must be in [0, 1)")
        if g["weight_decay"] < 0.0:
            raise ValueError(f"{name}: invalid weight_decay value: {g['weight_decay']}")

    def _update_group(self, group):
        lr, eps, wd, ams = group["lr"], group["eps"], group["weight_decay"], group["amsgrad"]
        b1, b2 = group["betas"]
        decoupled = self._decoupled
        state = self.state
        for p, a, g, be in _grads(group, group["maximize"]):
            st = state.get(p)
            if st is None:
                st = state[p] = {"step": 0,
                                 "exp_avg": Tensor._make(be.zeros(a.shape, a.dtype), None),
                                 "exp_avg_sq": Tensor._make(be.zeros(a.shape, a.dtype), None)}
                if ams:
                    st["max_exp_avg_sq"] = Tensor._make(be.zeros(a.shape, a.dtype), None)
            step = st["step"] = st["step"] + 1
            fused = None if ams else getattr(be, "adam_update_", None)
            if fused is not None and _fusable(be, a, g, st["exp_avg"]._data, st["exp_avg_sq"]._data):
                # One kernel for the whole update (Note [fused updates] in optimizer.py).
                fused(a, g, st["exp_avg"]._data, st["exp_avg_sq"]._data, step, lr, beta1=b1, beta2=b2, eps=eps,
                      weight_decay=wd, decoupled=decoupled)
                p._version[0] += 1
                continue
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
            x *= b1
            x += (1 - b1) * g
            _store(be, m, x)
            x = v
            x *= b2
            x += (1 - b2) * (g * g)
            _store(be, v, x)
            if ams:
                vmax = st["max_exp_avg_sq"]._data
                _store(be, vmax, be.maximum(vmax, v))
                v = vmax
            step_size = lr / (1 - b1 ** step)
            bc2_sqrt = math.sqrt(1 - b2 ** step)
            denom = be.sqrt(v) / bc2_sqrt
            denom += eps
            x = a
            x -= step_size * (m / denom)
            _store(be, a, x)
            p._version[0] += 1
