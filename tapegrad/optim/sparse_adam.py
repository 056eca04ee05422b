"""SparseAdam (Adam with lazy moments, for sparse gradients) and SGD's step on a sparse gradient.

# Note [sparse optimizer steps]
A sparse gradient (``nn.Embedding(sparse=True)``, Note [sparse COO storage] in ops/_sparse_array.py)
touches a few rows of a large table. PyTorch's ``SparseAdam`` coalesces it and updates the moments and
the parameter at those rows only: the other rows' moments do not decay ("lazy" Adam), so its trajectory
differs from Adam's by design. ``SGD`` steps with a sparse gradient as PyTorch does: ``p -= lr * g``
adds at the touched rows; the momentum buffer is itself sparse (its entries accumulate, uncoalesced);
weight decay raises PyTorch's error (it would add a dense tensor to a sparse one).
"""
import math

from .._tensor import Tensor
from ..ops._sparse_array import CooArray
from .optimizer import Optimizer, _check_tensor_lr, _grads, _scalar

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """Adam for sparse gradients, with PyTorch's update rule: moments and parameters change only at the rows
    the (coalesced) gradient touches.

    At the touched entries, ``m += (1-b1)(g - m)``, ``v += (1-b2)(g^2 - v)``, and
    ``p -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``; ``t`` counts the steps that had a gradient.

    Args:
        params: dense parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: ``(b1, b2)`` (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        maximize: ascend the objective instead.

    Example:
        >>> import tapegrad
        >>> emb = tapegrad.nn.Embedding(4, 2, sparse=True)
        >>> opt = tapegrad.optim.SparseAdam(emb.parameters(), lr=0.1)
        >>> before = emb.weight.detach().clone()
        >>> emb(tapegrad.tensor([1])).sum().backward(); opt.step()
        >>> (emb.weight.detach() != before).any(1).tolist()
        [False, True, False, False]
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        _check_tensor_lr("SparseAdam", lr)
        if not 0.0 < _scalar(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i in (0, 1):
            if not 0.0 <= betas[i] < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        sparse_params = [[gi, pi] for gi, group in enumerate(self.param_groups)
                         for pi, p in enumerate(group["params"]) if isinstance(p._data, CooArray)]
        if sparse_params:
            raise ValueError(f"Sparse params at indices {sparse_params}: SparseAdam requires dense parameter tensors")

    def _update_group(self, group):
        lr, eps = _scalar(group["lr"]), group["eps"]
        b1, b2 = group["betas"]
        state = self.state
        for p, a, g, be in _grads(group, group.get("maximize", False)):
            if not isinstance(g, CooArray):
                raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
            st = state.get(p)
            if st is None:
                st = state[p] = {"step": 0, "exp_avg": Tensor._make(be.zeros(a.shape, a.dtype), None),
                                 "exp_avg_sq": Tensor._make(be.zeros(a.shape, a.dtype), None)}
            step = st["step"] = st["step"] + 1
            c = g.coalesce()        # the update is not linear in the gradient: one entry per row
            if c.nnz == 0:
                continue
            key = c._key()
            gv = c.values
            m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
            old_m = be.getitem(m, key)
            upd_m = (gv - old_m) * (1 - b1)
            be.setitem(m, key, old_m + upd_m)
            old_v = be.getitem(v, key)
            upd_v = (gv * gv - old_v) * (1 - b2)
            be.setitem(v, key, old_v + upd_v)
            numer = upd_m + old_m
            denom = be.sqrt(upd_v + old_v) + eps
            step_size = lr * math.sqrt(1 - b2 ** step) / (1 - b1 ** step)
            be.setitem(a, key, be.getitem(a, key) + (-step_size) * (numer / denom))
            st["exp_avg"]._version[0] += 1
            st["exp_avg_sq"]._version[0] += 1
            p._version[0] += 1


def sparse_sgd_step(opt, p, a, g, lr, momentum, dampening, weight_decay, nesterov):
    """SGD's update of parameter ``p`` (array ``a``) with the sparse gradient ``g`` (Note [sparse optimizer steps])."""
    if weight_decay:
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
    if momentum:
        st = opt.state.get(p)
        if st is None or st.get("momentum_buffer") is None:
            buf = g.copy()
            opt.state[p] = {"momentum_buffer": Tensor._make(buf, None)}
        else:
            t = st["momentum_buffer"]
            buf = t._data * momentum + g * (1 - dampening)
            t._data = buf
            t._version[0] += 1
        g = g + buf * momentum if nesterov else buf
    step = g * (-lr)
    if p._backend.device_type == "cpu":
        a += step                   # NumPy adds each entry in turn, as PyTorch's dense += sparse
    else:                           # other backends: one write per distinct row (backend methods only)
        be, c = p._backend, step.coalesce()
        key = c._key()
        be.setitem(a, key, be.getitem(a, key) + c.values)
    p._version[0] += 1
