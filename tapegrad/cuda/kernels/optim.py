"""Fused in-place optimizer updates: one kernel per parameter and step, no temporaries.

Signatures (all arrays contiguous and of one float dtype; scalars are Python numbers):

- ``sgd_update_(param, grad, buf, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False,
  maximize=False, first_step=False)``: PyTorch's SGD; ``buf`` is the momentum buffer (ignored when
  momentum is 0; on the first step it is set to the gradient).
- ``adam_update_(param, grad, exp_avg, exp_avg_sq, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
  weight_decay=0, decoupled=False, maximize=False)``: PyTorch's Adam (``decoupled=True`` is AdamW);
  ``step`` counts from 1.
"""
import math

import numpy as np

from .. import _nb

_KERNELS = {}


def _kernels():
    ks = _KERNELS.get("all")
    if ks is None:
        global cuda  # a module global: the simulator swaps in its fake module by scanning globals
        cuda = _nb.cuda

        # Host-side flags and precomputed (1 - x) factors: an int literal here would turn float32 into float64.
        def sgd(n, p, g, buf, lr, mom, one_m_damp, wd, use_wd, use_mom, nesterov, maximize, first):
            i = cuda.grid(1)
            step = cuda.gridsize(1)
            while i < n:
                d = -g[i] if maximize else g[i]
                if use_wd:
                    d += wd * p[i]
                if use_mom:
                    b = d if first else mom * buf[i] + one_m_damp * d
                    buf[i] = b
                    d = d + mom * b if nesterov else b
                p[i] -= lr * d
                i += step

        def adam(n, p, g, m, v, b1, one_m_b1, b2, one_m_b2, eps, wd, decay, coupled, maximize, step_size,
                 bc2_sqrt):
            i = cuda.grid(1)
            step = cuda.gridsize(1)
            while i < n:
                d = -g[i] if maximize else g[i]
                w = p[i] * decay
                if coupled:
                    d += wd * w
                mi = b1 * m[i] + one_m_b1 * d
                vi = b2 * v[i] + one_m_b2 * d * d
                m[i] = mi
                v[i] = vi
                p[i] = w - step_size * mi / (math.sqrt(vi) / bc2_sqrt + eps)
                i += step
        ks = _KERNELS["all"] = (cuda.jit(sgd), cuda.jit(adam))
    return ks


def _check(name, *arrays):
    p = arrays[0]
    for a in arrays:
        if a.shape != p.shape or a.dtype != p.dtype or not a.is_contiguous:
            raise ValueError(f"{name}: all arrays must be contiguous with one shape and dtype, got "
                             f"{[(x.shape, str(x.dtype)) for x in arrays]}")
    return p.dtype.type


def _in_float32(update, arrays, *args, **kwargs):
    """Run a fused update on float32 copies of float16 arrays and round the results back once (Note [float16
    computes in float32] in elementwise.py; a float16 ``eps=1e-8`` would be 0)."""
    from . import elementwise as E
    wide = [None if a is None else E.astype(a, np.float32) for a in arrays]
    update(*wide, *args, **kwargs)
    for a, w in zip(arrays, wide):
        if a is not None:
            E.assign(a, w)


def sgd_update_(param, grad, buf, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                maximize=False, first_step=False):
    if param.dtype == np.float16:
        return _in_float32(sgd_update_, (param, grad, buf if momentum else None), lr, momentum, dampening,
                           weight_decay, nesterov, maximize, first_step)
    t = _check("sgd_update_", param, grad, *([buf] if momentum else []))
    if param.size:
        b = buf if momentum else param
        grid, block = _nb.grid_for(param.size)
        _kernels()[0][grid, block](param.size, param.buf[param.off:], grad.buf[grad.off:], b.buf[b.off:], t(lr),
                                   t(momentum), t(1 - dampening), t(weight_decay), bool(weight_decay),
                                   bool(momentum), bool(nesterov), bool(maximize), bool(first_step))


def adam_update_(param, grad, exp_avg, exp_avg_sq, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                 weight_decay=0.0, decoupled=False, maximize=False):
    if param.dtype == np.float16:
        return _in_float32(adam_update_, (param, grad, exp_avg, exp_avg_sq), step, lr, beta1, beta2, eps,
                           weight_decay, decoupled, maximize)
    t = _check("adam_update_", param, grad, exp_avg, exp_avg_sq)
    if param.size:
        bc1 = 1 - beta1 ** step
        bc2_sqrt = math.sqrt(1 - beta2 ** step)
        grid, block = _nb.grid_for(param.size)
        _kernels()[1][grid, block](param.size, param.buf[param.off:], grad.buf[grad.off:],
                                   exp_avg.buf[exp_avg.off:], exp_avg_sq.buf[exp_avg_sq.off:], t(beta1), t(1 - beta1),
                                   t(beta2), t(1 - beta2), t(eps), t(weight_decay),
                                   t(1 - lr * weight_decay if decoupled else 1), bool(weight_decay and not decoupled),
                                   bool(maximize), t(lr / bc1), t(bc2_sqrt))
