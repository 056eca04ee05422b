"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""

from .._dtype import get_default_dtype
from .._tensor import Tensor
from .adamax import _check_betas
from .optimizer import Optimizer, _check_nonneg, _grads, _impl_flags, _without, _scalar, _store

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam with PyTorch's update rule.

    ``mu_t = b1 (1 - 0.5 * 0.96^(t * momentum_decay))``; ``mu_product`` is the
    running product of the ``mu_t``; with ``m``, ``v`` as in Adam and
    ``den = sqrt(v / (1 - b2^t)) + eps``:
    ``p -= lr (1 - mu_t) / (1 - mu_product) * d / den + lr mu_{t+1} / (1 - mu_product mu_{t+1}) * m / den``.

    ``mu_product`` is a 0-d tensor of the default float dtype, as in PyTorch (float32 unless changed), so its
    rounding, and the trajectory, match PyTorch's.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 2e-3).
        betas: ``(b1, b2)`` (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty (default 0), added to the gradient unless ``decoupled_weight_decay``.
        momentum_decay: (default 4e-3).
        decoupled_weight_decay: shrink the parameters directly, as AdamW does.
        maximize: ascend the objective instead.
        foreach, capturable, differentiable: PyTorch's implementation switches (``optimizer._impl_flags``);
            accepted and change no result; differentiable=True raises NotImplementedError, as for SGD and Adam.

    Example:
        >>> import tapegrad
        >>> w = tapegrad.nn.Parameter(tapegrad.tensor([1.0]))
        >>> opt = tapegrad.optim.NAdam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> sorted(opt.state[w])
        ['exp_avg', 'exp_avg_sq', 'mu_product', 'step']
    """

    _unshaped_state = ("mu_product",)

    _sparse_error = "NAdam does not support sparse gradients"     # as PyTorch

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=bool(decoupled_weight_decay),
                        maximize=maximize,
                        **_without("fused", _impl_flags("NAdam", foreach=foreach, capturable=capturable,
                                                         differentiable=differentiable)))
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, g):
        _check_betas("NAdam", g)
        _check_nonneg("NAdam", "momentum_decay value", g["momentum_decay"])

    def _update_group(self, group):
        lr, eps, wd, md = (_scalar(group[k]) for k in ("lr", "eps", "weight_decay", "momentum_decay"))
        b1, b2 = (_scalar(b) for b in group["betas"])
        decoupled = group.get("decoupled_weight_decay", False)
        for p, a, g, be in _grads(group, group["maximize"]):
            st = self.state.get(p)
            if st is None:
                st = self.state[p] = {"step": 0, "mu_product": _scalar_tensor(1.0),
                                      "exp_avg": Tensor._make(be.zeros(a.shape, a.dtype), None),
                                      "exp_avg_sq": Tensor._make(be.zeros(a.shape, a.dtype), None)}
            step = st["step"] = st["step"] + 1
            bc2 = 1 - b2 ** step
            if wd:
                if decoupled:
                    x = a
                    x *= 1 - lr * wd
                    _store(be, a, x)
                else:
                    g = g + wd * a
            mu = b1 * (1.0 - 0.5 * 0.96 ** (step * md))
            mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * md))
            mp = st["mu_product"]
            mp.mul_(mu)                  # rounded in mu_product's dtype, as in PyTorch
            mu_product = mp.item()
            m = st["exp_avg"]._data
            v = st["exp_avg_sq"]._data
            x = m
            x += (1 - b1) * (g - m)
            _store(be, m, x)
            x = v
            x *= b2
            x += (1 - b2) * (g * g)
            _store(be, v, x)
            denom = be.sqrt(v / bc2)
            denom += eps
            x = a
            x -= lr * (1.0 - mu) / (1.0 - mu_product) * (g / denom)
            x -= lr * mu_next / (1.0 - mu_product * mu_next) * (m / denom)
            _store(be, a, x)
            p._version[0] += 1


def _scalar_tensor(value):
    """A 0-d CPU tensor of the default float dtype (PyTorch's ``_get_scalar_dtype()``) holding ``value``."""
    from .._creation import tensor
    return tensor(value, dtype=get_default_dtype())


