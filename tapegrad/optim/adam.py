"""Adam (and the shared update that AdamW reuses), with bias correction and AMSGrad."""
import math

from .._tensor import Tensor
from ._multi import adam_step
from .optimizer import (Optimizer, _check_fused_flags, _check_nonneg, _check_tensor_lr, _fusable, _grads,
                        _impl_flags, _scalar, _store)

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
        decoupled_weight_decay: shrink the parameters directly, as AdamW does.
        foreach, capturable, differentiable, fused: PyTorch's implementation switches (``optimizer._impl_flags``).

    Example:
        >>> import tapegrad
        >>> w = tapegrad.nn.Parameter(tapegrad.tensor([1.0]))
        >>> opt = tapegrad.optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 4)
        0.9
    """
    _decoupled = False          # for a group without the key (a state_dict from before it existed)

    _sparse_error = "Adam does not support sparse gradients, please consider SparseAdam instead"     # as PyTorch

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=bool(decoupled_weight_decay),
                        **_impl_flags(type(self).__name__, foreach, fused, capturable, differentiable))
        self._check_group(defaults)         # before the parameters, as in PyTorch
        super().__init__(params, defaults)
        _check_fused_flags(defaults)

    def _check_group(self, g):
        # PyTorch's tests, in its order: ``not 0 <= x``, so NaN fails too.
        name = type(self).__name__
        _check_tensor_lr(name, g["lr"])
        _check_nonneg(name, "learning rate", g["lr"])
        _check_nonneg(name, "epsilon value", g["eps"])
        betas = g["betas"]
        for i in (0, 1):
            if not 0.0 <= betas[i] < 1.0:
                raise ValueError(f"{name}: Invalid beta parameter at index {i}: {betas[i]} (must be in [0, 1))")
        _check_nonneg(name, "weight_decay value", g["weight_decay"])
        if not (all(isinstance(b, float) for b in betas) or all(isinstance(b, Tensor) for b in betas)):
            raise ValueError(f"{name}: betas must be either both floats or both Tensors, got "
                             f"({type(betas[0]).__name__}, {type(betas[1]).__name__})")
        for i in (0, 1):
            if isinstance(betas[i], Tensor) and betas[i].numel() != 1:
                raise ValueError(f"{name}: Tensor betas[{i}] must be 1-element, got shape {tuple(betas[i].shape)}")

    def _update_group(self, group):
        lr, eps, wd = _scalar(group["lr"]), _scalar(group["eps"]), _scalar(group["weight_decay"])
        ams = group["amsgrad"]
        b1, b2 = group["betas"]
        b1, b2 = _scalar(b1), _scalar(b2)
        decoupled = group.get("decoupled_weight_decay", self._decoupled)
        if not ams and group.get("foreach") is not False and adam_step(self, group, lr, b1, b2, eps, wd, decoupled):
            return          # the whole group in one call (Note [multi-tensor updates in the optimizers])
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
