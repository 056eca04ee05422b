"""ASGD: averaged stochastic gradient descent (the average of the iterates kept in ``ax``)."""
from .._tensor import Tensor
from .nadam import _scalar_tensor
from .optimizer import Optimizer, _check_nonneg, _check_tensor_lr, _grads, _impl_flags, _scalar, _store

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """ASGD with PyTorch's update rule.

    With ``d = grad + weight_decay * p``: ``p = p (1 - lambd eta) - eta d``; ``ax += mu (p - ax)`` (``ax = p``
    while ``mu == 1``); then ``eta = lr / (1 + lambd lr t)^alpha`` and ``mu = 1 / max(1, t - t0)``. ``eta`` and
    ``mu`` are 0-d tensors of the default float dtype, as in PyTorch, so their rounding matches.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        lambd: decay term (default 1e-4).
        alpha: power for the eta update (default 0.75).
        t0: the step at which averaging starts (default 1e6).
        weight_decay: L2 penalty added to the gradient (default 0).
        maximize: ascend the objective instead.
        foreach, capturable, differentiable: PyTorch's implementation switches (``optimizer._impl_flags``);
            accepted and change no result; differentiable=True raises NotImplementedError, as for SGD and Adam.

    Example:
        >>> import tapegrad
        >>> w = tapegrad.nn.Parameter(tapegrad.tensor([1.0]))
        >>> opt = tapegrad.optim.ASGD([w], lr=0.1, lambd=0.0)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 4)
        0.8
    """
    _unshaped_state = ("eta", "mu")

    _sparse_error = "ASGD does not support sparse gradients"     # as PyTorch

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, maximize=maximize,
                        **_impl_flags("ASGD", foreach=foreach, capturable=capturable, differentiable=differentiable))
        defaults.pop("fused")
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, g):
        _check_tensor_lr("ASGD", g["lr"])
        _check_nonneg("ASGD", "learning rate", g["lr"])
        _check_nonneg("ASGD", "weight_decay value", g["weight_decay"])

    def _update_group(self, group):
        lr, lambd, alpha, t0, wd = (_scalar(group[k]) for k in ("lr", "lambd", "alpha", "t0", "weight_decay"))
        for p, a, g, be in _grads(group, group["maximize"]):
            st = self.state.get(p)
            if st is None:
                st = self.state[p] = {"step": 0, "eta": _scalar_tensor(lr), "mu": _scalar_tensor(1.0),
                                      "ax": Tensor._make(be.zeros(a.shape, a.dtype), None)}
            step = st["step"] = st["step"] + 1
            if wd:
                g = g + wd * a
            eta = st["eta"].item()
            x = a
            x *= 1 - lambd * eta
            x -= eta * g
            _store(be, a, x)
            ax = st["ax"]._data
            mu = st["mu"].item()
            if mu != 1:
                x = ax
                x += (a - ax) * mu
                _store(be, ax, x)
            else:
                be.setitem(ax, Ellipsis, a)
            # PyTorch copies ``as_tensor(value)`` (the default dtype) in: rounded there even after a state dict
            # load has made eta and mu float64
            st["eta"].fill_(_scalar_tensor(lr / ((1 + lambd * lr * step) ** alpha)).item())
            st["mu"].fill_(_scalar_tensor(1 / max(1, step - t0)).item())
            p._version[0] += 1
