"""RMSprop with momentum and the centered variant."""
from .._tensor import Tensor
from .optimizer import Optimizer, _check_nonneg, _check_tensor_lr, _grads, _impl_flags, _scalar, _store

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop with PyTorch's update rule.

    ``s = alpha s + (1-alpha) d^2`` (``d = grad + weight_decay * p``); centered:
    ``a = alpha a + (1-alpha) d`` and ``avg = sqrt(s - a^2) + eps``, else
    ``avg = sqrt(s) + eps``; with momentum ``buf = momentum buf + d / avg`` and
    ``p -= lr buf``, else ``p -= lr d / avg``.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant (default 0.99).
        eps: added to the denominator (default 1e-8).
        weight_decay, momentum: default 0.
        centered: normalize by an estimate of the gradient's variance.
        maximize: ascend the objective instead.
        capturable, foreach, differentiable: PyTorch's implementation switches (``optimizer._impl_flags``).

    Example:
        >>> import tapegrad
        >>> w = tapegrad.nn.Parameter(tapegrad.tensor([1.0]))
        >>> opt = tapegrad.optim.RMSprop([w], lr=0.01)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 4)
        0.9
    """

    _sparse_error = "RMSprop does not support sparse gradients"     # as PyTorch

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize,
                        **_impl_flags("RMSprop", foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))
        self._check_group(defaults)         # before the parameters, as in PyTorch
        super().__init__(params, defaults)

    def _check_group(self, g):
        # PyTorch's tests, in its order: ``not 0 <= x``, so NaN fails too.
        _check_tensor_lr("RMSprop", g["lr"])
        for k, what in (("lr", "learning rate"), ("eps", "epsilon value"), ("momentum", "momentum value"),
                        ("weight_decay", "weight_decay value"), ("alpha", "alpha value")):
            _check_nonneg("RMSprop", what, g[k])

    def _update_group(self, group):
        lr, alpha, eps, wd, mom = (_scalar(group[k]) for k in ("lr", "alpha", "eps", "weight_decay", "momentum"))
        centered = group["centered"]
        state = self.state
        for p, a, g, be in _grads(group, group["maximize"]):
            st = state.get(p)
            if st is None:
                st = state[p] = {"step": 0, "square_avg": Tensor._make(be.zeros(a.shape, a.dtype), None)}
                if mom > 0:
                    st["momentum_buffer"] = Tensor._make(be.zeros(a.shape, a.dtype), None)
                if centered:
                    st["grad_avg"] = Tensor._make(be.zeros(a.shape, a.dtype), None)
            st["step"] += 1
            if wd:
                g = g + wd * a
            s = st["square_avg"]._data
            x = s
            x *= alpha
            x += (1 - alpha) * (g * g)
            _store(be, s, x)
            if centered:
                ga = st["grad_avg"]._data
                x = ga
                x *= alpha
                x += (1 - alpha) * g
                _store(be, ga, x)
                avg = be.sqrt(s - ga * ga)
            else:
                avg = be.sqrt(s)
            avg += eps
            if mom > 0:
                buf = st["momentum_buffer"]._data
                x = buf
                x *= mom
                x += g / avg
                _store(be, buf, x)
                x = a
                x -= lr * buf
            else:
                x = a
                x -= lr * (g / avg)
            _store(be, a, x)
            p._version[0] += 1
