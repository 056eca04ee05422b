"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""
from .._tensor import Tensor
from ..ops._sparse_array import CooArray
from .sparse_adam import sparse_sgd_step
from ._multi import sgd_step
from .optimizer import Optimizer, _check_fused_flags, _check_tensor_lr, _fusable, _grads, _impl_flags, _scalar, _store

__all__ = ["SGD"]


class SGD(Optimizer):
    """SGD with PyTorch's update rule.

    With ``d = grad + weight_decay * p``: ``buf = d`` on the first step, then
    ``buf = momentum * buf + (1 - dampening) * d``; the step direction is
    ``d + momentum * buf`` (nesterov) or ``buf``; ``p -= lr * direction``.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        momentum, dampening, weight_decay: as above (default 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening == 0).
        maximize: ascend the objective instead.
        foreach, fused, differentiable: PyTorch's implementation switches (see ``optimizer._impl_flags``).

    Example:
        >>> import tapegrad
        >>> w = tapegrad.nn.Parameter(tapegrad.tensor([1.0]))
        >>> opt = tapegrad.optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w
        Parameter containing:
        tensor([0.8000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize,
                        **_impl_flags("SGD", foreach=foreach, fused=fused, differentiable=differentiable))
        self._check_group(defaults)         # before the parameters, as in PyTorch
        super().__init__(params, defaults)
        _check_fused_flags(defaults)

    def _check_group(self, g):
        # PyTorch's tests, in its order: ``x < 0`` (a NaN lr/momentum/weight_decay passes, as there).
        _check_tensor_lr("SGD", g["lr"])
        if g["lr"] < 0.0:
            raise ValueError(f"SGD: Invalid learning rate: {g['lr']} (must be >= 0)")
        if g["momentum"] < 0.0:
            raise ValueError(f"SGD: Invalid momentum value: {g['momentum']} (must be >= 0)")
        if g["weight_decay"] < 0.0:
            raise ValueError(f"SGD: Invalid weight_decay value: {g['weight_decay']} (must be >= 0)")
        if g["nesterov"] and (g["momentum"] <= 0 or g["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening, got "
                             f"momentum={g['momentum']}, dampening={g['dampening']}")

    def _update_group(self, group):
        lr, mom, damp, wd = _scalar(group["lr"]), _scalar(group["momentum"]), _scalar(group["dampening"]), \
            _scalar(group["weight_decay"])
        nesterov = group["nesterov"]
        if group.get("foreach") is not False and sgd_step(self, group, lr, mom, damp, wd, nesterov):
            return          # the whole group in one call (Note [multi-tensor updates in the optimizers])
        state = self.state
        for p, a, g, be in _grads(group, group["maximize"]):
            if isinstance(g, CooArray):     # Note [sparse optimizer steps] in optim/sparse_adam.py
                sparse_sgd_step(self, p, a, g, lr, mom, damp, wd, nesterov)
                continue
            fused = getattr(be, "sgd_update_", None)
            st = state.get(p)
            buf = st.get("momentum_buffer") if mom and st is not None else None
            # the buffer too: one made from a strided gradient keeps its layout (Note [fused updates])
            if fused is not None and _fusable(be, a, g, *(() if buf is None else (buf._data,))):
                _fused_step(self, fused, be, p, a, g, lr, mom, damp, wd, nesterov)
                continue
            if wd:
                g = g + wd * a
            if mom:
                st = state.get(p)
                if st is None or st.get("momentum_buffer") is None:
                    buf = be.copy(g)
                    state[p] = {"momentum_buffer": Tensor._make(buf, None)}
                else:
                    buf = st["momentum_buffer"]._data
                    b = buf
                    b *= mom
                    b += (1 - damp) * g
                    _store(be, buf, b)
                g = g + mom * buf if nesterov else buf
            x = a
            x -= lr * g
            _store(be, a, x)
            p._version[0] += 1


def _fused_step(opt, fused, be, p, a, g, lr, mom, damp, wd, nesterov):
    """One fused kernel for the whole update (GPU backends: Note [fused updates] in optimizer.py)."""
    st = opt.state.get(p)
    first = mom and (st is None or st.get("momentum_buffer") is None)
    if first:
        opt.state[p] = st = {"momentum_buffer": Tensor._make(be.empty(a.shape, a.dtype), None)}
    buf = st["momentum_buffer"]._data if mom else None
    fused(a, g, buf, lr, momentum=mom, dampening=damp, weight_decay=wd, nesterov=nesterov, first_step=bool(first))
    p._version[0] += 1
