"""Rprop: per-coordinate step sizes grown or shrunk by the sign agreement of successive gradients."""
from .._tensor import Tensor
from .optimizer import Optimizer, _check_tensor_lr, _grads, _impl_flags, _scalar, _store

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop with PyTorch's update rule.

    ``s = sign(grad * prev)``; each ``step_size`` is multiplied by ``etas[1]`` where ``s > 0``, by ``etas[0]``
    where ``s < 0``, and clipped to ``step_sizes``; where ``s < 0`` the gradient is taken as 0 (no move, and
    ``prev = 0``); ``p -= sign(grad) * step_size`` and ``prev = grad``.

    Args:
        params: parameters or parameter groups.
        lr: the initial step size (default 1e-2).
        etas: ``(etaminus, etaplus)`` (default (0.5, 1.2)).
        step_sizes: ``(min, max)`` step size (default (1e-6, 50)).
        maximize: ascend the objective instead.
        foreach, capturable, differentiable: PyTorch's implementation switches (``optimizer._impl_flags``);
            accepted and change no result; differentiable=True raises NotImplementedError, as for SGD and Adam.

    Example:
        >>> import tapegrad
        >>> w = tapegrad.nn.Parameter(tapegrad.tensor([1.0]))
        >>> opt = tapegrad.optim.Rprop([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 4)
        0.9
    """

    _sparse_error = "Rprop does not support sparse gradients"     # as PyTorch

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), maximize=maximize,
                        **_impl_flags("Rprop", foreach=foreach, capturable=capturable, differentiable=differentiable))
        defaults.pop("fused")
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, g):
        _check_tensor_lr("Rprop", g["lr"])
        if not 0.0 <= g["lr"]:
            raise ValueError(f"Rprop: Invalid learning rate: {g['lr']} (must be a number >= 0)")
        lo, hi = g["etas"]
        if not 0.0 < lo < 1.0 < hi:
            raise ValueError(f"Rprop: Invalid eta values: {lo}, {hi} (need 0 < etaminus < 1 < etaplus)")

    def _update_group(self, group):
        lr = _scalar(group["lr"])
        etaminus, etaplus = group["etas"]
        smin, smax = group["step_sizes"]
        for p, a, g, be in _grads(group, group["maximize"]):
            st = self.state.get(p)
            if st is None:
                st = self.state[p] = {"step": 0, "prev": Tensor._make(be.zeros(a.shape, a.dtype), None),
                                      "step_size": Tensor._make(be.full(a.shape, lr, a.dtype), None)}
            st["step"] += 1
            prev = st["prev"]._data
            size = st["step_size"]._data
            s = be.sign(g * prev)
            down = s < 0
            # the factors in the parameter's dtype, as PyTorch writes them into its ``sign`` tensor
            factor = be.where(s > 0, be.full(s.shape, etaplus, a.dtype),
                              be.where(down, be.full(s.shape, etaminus, a.dtype), be.ones(s.shape, a.dtype)))
            _store(be, size, be.clip(size * factor, smin, smax))
            g = be.where(down, be.zeros(s.shape, a.dtype), g)
            x = a
            x -= be.sign(g) * size
            _store(be, a, x)
            be.setitem(prev, Ellipsis, g)
            p._version[0] += 1
