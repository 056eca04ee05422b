"""Normalization primitives: ``layer_norm`` and ``batch_norm``, one recorded op each with a hand-written VJP.

Note [layer_norm primitive]: composed of mean, subtract, square, mean, add,
rsqrt, multiply, multiply and add, layer norm records about nine nodes per
call, on the hot path of every transformer block. One node with one VJP is
cheaper where per-op overhead dominates (32 x 64 float32, forward and
backward: about 100 us against 175 us composed) and no slower on large inputs
(64 x 128 x 256: within this machine's noise). The composition is what the
gradient harness checks it against.

A node saves forward arguments only (Note [saved values] in registry.py), so
the VJP recomputes the mean and ``rstd`` from the saved input: one extra pass
over ``x``, and under ``create_graph`` they must be recorded functions of
``x`` anyway for the second derivative to be right.
"""
import math

from .._tensor import Tensor
from .registry import op, apply
from .graph_math import lift

__all__ = ["layer_norm"]


def _stats(F, x, axis, n, eps):
    """``(x - mean) * rstd`` and ``rstd`` over ``axis`` (``n`` elements), in ``F``'s mode."""
    mu = F.sum(x, axis=axis, keepdims=True) / n
    xc = x - mu
    rstd = 1 / F.sqrt(F.sum(xc * xc, axis=axis, keepdims=True) / n + eps)
    return xc * rstd, rstd


@op("layer_norm", save=("x", "w"), tensors=3, math=None)   # no VJP calls it
def layer_norm_op(be, x, w=None, b=None, axis=(-1,), eps=1e-5):
    if x.size == 0:
        return be.copy(x)
    n = math.prod(x.shape[a] for a in axis)     # the normalized dims are the trailing ones
    rows = be.reshape(x, (x.size // n, n))
    out = be.layer_norm_rows(rows, _flat(be, w, n), _flat(be, b, n), eps)   # Note [fused layer_norm rows]
    return be.reshape(out, x.shape)


def _flat(be, a, n):
    return None if a is None else be.reshape(a, (n,))


@layer_norm_op.vjp
def _(F, ctx, g, x, w, axis, eps):
    fused = getattr(F, "layer_norm_rows_grad", None)    # a backend kernel on arrays; absent under create_graph
    if fused is not None and x.size:
        shape = tuple(x.shape)
        n = math.prod(shape[a] for a in axis)
        gx, gw, gb = fused(F.reshape(g, (x.size // n, n)), F.reshape(x, (x.size // n, n)), _flat(F, w, n), eps,
                           tuple(ctx.needs) + (False,) * (3 - len(ctx.needs)))
        res = (None if gx is None else F.reshape(gx, shape), None if gw is None else F.reshape(gw, w.shape),
               None if gb is None else F.reshape(gb, w.shape if w is not None else shape[len(shape) - len(axis):]))
        return res[:len(ctx.needs)]
    lead = tuple(range(len(x.shape) - len(axis)))
    return _norm_vjp(F, ctx.needs, g, x, w, axis, lead, None, eps)


def _norm_vjp(F, needs, g, x, w, axis, paxis, pshape, eps, stats=None):
    """Gradients of ``(x - mean) * rstd * w + b`` (statistics over ``axis``) for x, w, b.

    ``paxis``: the axes the parameter gradients sum over; ``pshape``: how ``w``
    broadcasts against ``x`` (None: as it is). ``stats``: fixed ``(mean, var)``
    arrays (running statistics in eval mode), constants of the gradient; without
    them the statistics are the batch's own, recomputed from ``x``.
    """
    n = math.prod(x.shape[a] for a in axis)
    if stats is None:
        xhat, rstd = _stats(F, x, axis, n, eps)
    else:
        mean, var = (lift(F, s, like=g) for s in stats)
        rstd = 1 / F.sqrt(var + eps)
        xhat = (x - mean) * rstd
    gx = gw = gb = None
    if needs[0]:
        gy = g if w is None else g * (w if pshape is None else F.reshape(w, shape=pshape))
        if stats is None:
            gx = rstd * (gy - F.sum(gy, axis=axis, keepdims=True) / n
                         - xhat * (F.sum(gy * xhat, axis=axis, keepdims=True) / n))
        else:
            gx = gy * rstd
    if len(needs) > 1 and needs[1]:
        gw = F.sum(g * xhat, axis=paxis)
    if len(needs) > 2 and needs[2]:
        gb = F.sum(g, axis=paxis)
    return (gx, gw, gb)[:len(needs)]


# Note [batch_norm primitive]: batch and instance norm, one node each like layer_norm: the
# statistics are over ``axis`` (all but the channel dim for batch norm, the spatial dims
# for instance norm), the parameters are per channel (``pshape`` broadcasts them) and their
# gradients sum over ``paxis``. ``stats`` are the (mean, biased var) the forward uses: the
# batch's own, computed once by the caller that also updates the running statistics (the VJP
# recomputes them from x, Note [layer_norm primitive]); or, with ``fixed=True``, the running
# statistics of eval mode, constants of the gradient.
@op("batch_norm", save=("x", "w"), tensors=3, math=None)
def batch_norm_op(be, x, w=None, b=None, axis=(0,), paxis=(0,), pshape=(1,), eps=1e-5, stats=None, fixed=False):
    if x.size == 0:
        return be.copy(x)
    mean, var = stats if stats is not None else batch_stats(be, x, axis)
    out = x - mean
    out *= 1 / be.sqrt(var + x.dtype.type(eps))
    if w is not None:
        out *= be.reshape(w, pshape)
    if b is not None:
        out += be.reshape(b, pshape)
    return out


@batch_norm_op.vjp
def _(F, ctx, g, x, w, axis, paxis, pshape, eps, stats, fixed):
    return _norm_vjp(F, ctx.needs, g, x, w, axis, paxis, pshape, eps, stats if fixed else None)


def batch_stats(be, x, axis):
    """The mean and biased variance of array ``x`` over ``axis`` (kept dims), on its backend."""
    n = math.prod(x.shape[a] for a in axis)
    mean = be.sum(x, axis=axis, keepdims=True) / n
    return mean, be.sum(be.square(x - mean), axis=axis, keepdims=True) / n


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization over the trailing ``normalized_shape`` dims, as one recorded op.

    ``(x - mean) / sqrt(var + eps) * weight + bias``, with the biased variance
    over the last ``len(normalized_shape)`` dims.

    Args:
        input: a tensor whose trailing dims equal ``normalized_shape``.
        normalized_shape: an int or a sequence of ints.
        weight: optional elementwise scale of shape ``normalized_shape``.
        bias: optional elementwise shift of shape ``normalized_shape``.
        eps: added to the variance.

    Returns:
        A tensor of ``input``'s shape.

    Example:
        >>> import tapegrad
        >>> from tapegrad.ops.normalization import layer_norm
        >>> layer_norm(tapegrad.tensor([[1.0, 3.0]]), 2)
        tensor([[-1.0000,  1.0000]])
    """
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    ns = tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if not isinstance(input, Tensor):
        raise TypeError(f"layer_norm: input must be a Tensor, got {type(input).__name__}")
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != ns:
        raise RuntimeError(f"layer_norm: given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size {list(input.shape)}")
    if not input.is_floating_point():
        raise RuntimeError(f"layer_norm: expected a floating point input, got {input.dtype}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"layer_norm: expected {name} of shape {list(ns)} (normalized_shape), got "
                               f"{list(t.shape)}")
    axis = tuple(range(input.ndim - k, input.ndim))
    if bias is None:
        return apply(layer_norm_op, input, weight, axis=axis, eps=float(eps)) if weight is not None \
            else apply(layer_norm_op, input, axis=axis, eps=float(eps))
    return apply(layer_norm_op, input, weight, bias, axis=axis, eps=float(eps))
