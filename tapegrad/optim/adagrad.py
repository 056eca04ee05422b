"""Adagrad: per-coordinate step sizes from the running sum of squared gradients."""
from .._tensor import Tensor
from ..ops._sparse_array import CooArray
from .optimizer import (Optimizer, _check_fused_flags, _check_nonneg, _check_tensor_lr, _grads, _impl_flags,
                        _scalar, _store, _without)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad with PyTorch's update rule.

    With ``d = grad + weight_decay * p``: ``sum += d^2``,
    ``p -= lr / (1 + (t - 1) lr_decay) * d / (sqrt(sum) + eps)``. The state
    (``step``, ``sum`` filled with ``initial_accumulator_value``) is made in
    the constructor, as in PyTorch, so ``state_dict`` has it before any step.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay per step (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        initial_accumulator_value: starting value of ``sum`` (default 0).
        eps: added to the denominator (default 1e-10).
        maximize: ascend the objective instead.
        foreach, fused, differentiable: PyTorch's implementation switches (``optimizer._impl_flags``);
            accepted and change no result; differentiable=True raises NotImplementedError, as for SGD and Adam.

    Example:
        >>> import tapegrad
        >>> w = tapegrad.nn.Parameter(tapegrad.tensor([1.0]))
        >>> opt = tapegrad.optim.Adagrad([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 4)
        0.9
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize,
                        **_without("capturable", _impl_flags("Adagrad", foreach=foreach, fused=fused,
                                                             differentiable=differentiable)))
        self._check_group(defaults)         # before the parameters, as in PyTorch
        super().__init__(params, defaults)
        _check_fused_flags(defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _check_group(self, g):
        _check_tensor_lr("Adagrad", g["lr"])
        for k, what in (("lr", "learning rate"), ("lr_decay", "lr_decay value"),
                        ("weight_decay", "weight_decay value"),
                        ("initial_accumulator_value", "initial_accumulator_value value"), ("eps", "epsilon value")):
            _check_nonneg("Adagrad", what, g[k])

    def _init_state(self, p, group):
        a = p._data
        be = p._backend
        self.state[p] = {"step": 0, "sum": Tensor._make(be.full(a.shape, group["initial_accumulator_value"],
                                                                a.dtype), None)}

    def _update_group(self, group):
        lr, lr_decay, eps, wd = (_scalar(group[k]) for k in ("lr", "lr_decay", "eps", "weight_decay"))
        for p, a, g, be in _grads(group, group["maximize"]):
            if p not in self.state:
                self._init_state(p, group)
            st = self.state[p]
            if isinstance(g, CooArray):
                if wd:
                    raise RuntimeError("weight_decay option is not compatible with sparse gradients")
                st["step"] += 1
                _sparse_step(p, a, g, be, st, lr / (1 + (st["step"] - 1) * lr_decay), eps)
                continue
            step = st["step"] = st["step"] + 1
            if wd:
                g = g + wd * a
            clr = lr / (1 + (step - 1) * lr_decay)
            s = st["sum"]._data
            x = s
            x += g * g
            _store(be, s, x)
            std = be.sqrt(s)
            std += eps
            x = a
            x -= clr * (g / std)
            _store(be, a, x)
            p._version[0] += 1


def _sparse_step(p, a, g, be, st, clr, eps):
    """PyTorch's Adagrad step on a sparse gradient: the sum and the parameter change only at its rows."""
    c = g.coalesce()            # one entry per row: the update squares the gradient
    if c.nnz == 0:
        return
    key, gv = c._key(), c.values
    s = st["sum"]._data
    sv = be.getitem(s, key) + gv * gv
    be.setitem(s, key, sv)
    std = be.sqrt(sv)
    std += eps
    be.setitem(a, key, be.getitem(a, key) + (-clr) * (gv / std))
    st["sum"]._version[0] += 1
    p._version[0] += 1
