"""Neural-network primitives with hand-written stable VJPs: softmax, log_softmax, fused cross-entropy.

Stability is why these are primitives rather than compositions: the forward
subtracts the row maximum before ``exp``, and the VJPs use the saved output
(softmax) or recompute log-probabilities, never ``1 / p``.
"""
from .. import _dtype as D
from .registry import op, apply
from .graph_math import backend_array, lift
from ._dims import wrap_dim
from . import _jvp

_REDUCTIONS = ("none", "mean", "sum")


def _log_softmax(be, x, axis):
    if x.size == 0:
        return be.copy(x)
    s = x - be.max(x, axis=axis, keepdims=True)
    s -= be.log(be.sum(be.exp(s), axis=axis, keepdims=True))      # in place: s is fresh
    return s


@op("softmax", save="out", promote=None, tensors=1)
def softmax_op(be, x, axis):
    if x.size == 0:
        return be.copy(x)
    if axis == x.ndim - 1 and x.ndim > 1:      # the last dim: one fused pass a row (Note [softmax rows])
        return be.reshape(be.softmax_rows(be.reshape(x, (x.size // x.shape[-1], x.shape[-1]))), x.shape)
    e = be.exp(x - be.max(x, axis=axis, keepdims=True))
    e /= be.sum(e, axis=axis, keepdims=True)        # in place: e is fresh (one output-sized temporary fewer)
    return e


@softmax_op.vjp
def _(F, ctx, g, out, axis):
    return out * (g - F.sum(g * out, axis=axis, keepdims=True))


softmax_op.jvp(_jvp.diagonal(softmax_op))      # the softmax Jacobian is symmetric: J t is its VJP of t


@op("log_softmax", save="out", promote=None, tensors=1)
def log_softmax_op(be, x, axis):
    return _log_softmax(be, x, axis)


@log_softmax_op.vjp
def _(F, ctx, g, out, axis):
    return g - F.exp(out) * F.sum(g, axis=axis, keepdims=True)


@log_softmax_op.jvp
def _(F, primals, tangents, out, axis):
    return tangents[0] - F.sum(F.exp(out) * tangents[0], axis=axis, keepdims=True)


def _prep(name, input, dim, dtype):
    if dtype is not None:
        input = input.to(D.to_dtype(dtype))
    if not input.is_floating_point():
        raise RuntimeError(f"{name}: expected a floating point input, got {input.dtype}; pass dtype=tapegrad.float32")
    d = wrap_dim(dim, input.ndim, name)
    return input, (None if input.ndim == 0 else d)


def softmax(input, dim, dtype=None):
    """``exp(x) / exp(x).sum(dim)``, computed stably (the row maximum is subtracted first).

    Example:
        >>> import tapegrad
        >>> tapegrad.softmax(tapegrad.tensor([0.0, 0.0, 1000.0]), dim=0)
        tensor([0., 0., 1.])
    """
    input, axis = _prep("softmax", input, dim, dtype)
    return apply(softmax_op, input, axis=axis)


def log_softmax(input, dim, dtype=None):
    """``x - logsumexp(x, dim)``, computed stably.

    Example:
        >>> import tapegrad
        >>> tapegrad.log_softmax(tapegrad.tensor([0.0, 0.0]), dim=0)
        tensor([-0.6931, -0.6931])
    """
    input, axis = _prep("log_softmax", input, dim, dtype)
    return apply(log_softmax_op, input, axis=axis)


# ----------------------------------------------------------------- binary cross-entropy

_BCE_EPS = 9.999999960041972e-13       # float32(1e-12): the EPSILON PyTorch uses in every dtype


@op("binary_cross_entropy", save=("x", "t"), promote="float", tensors=2)
def bce_op(be, x, t):
    """Elementwise ``-(t log x + (1 - t) log(1 - x))`` with the logs clamped at -100, as in PyTorch."""
    return (t - 1) * be.maximum(be.log1p(-x), -100.0) - t * be.maximum(be.log(x), -100.0)


@bce_op.vjp
def _(F, ctx, g, x, t):
    # Note [bce at 0 and 1]: PyTorch's formulas, finite where the clamped logs are flat:
    # (x - t) / max(x (1 - x), eps) for the input (0 at x == t in {0, 1}, +-1e12 for a
    # saturated wrong prediction) and -logit(x) for the target.
    n = ctx.needs
    gx = g * (x - t) / F.maximum((1 - x) * x, _BCE_EPS) if n[0] else None
    gt = g * (F.log1p(-x) - F.log(x)) if n[1] else None
    return gx, gt


# ----------------------------------------------------------------- losses over class indices

def _check_loss_args(name, input, target, weight, reduction):
    from .._tensor import Tensor
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction; expected one of {_REDUCTIONS}")
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{name}: input and target must be Tensors, got {type(input).__name__} and "
                        f"{type(target).__name__}")
    if not input.is_floating_point():
        raise RuntimeError(f"{name}: expected a floating point input, got {input.dtype}")
    if input.ndim == 0:
        raise RuntimeError(f"{name}: input must have a class dimension, got a 0-d tensor")
    axis = 0 if input.ndim == 1 else 1
    C = input.shape[axis]
    if weight is not None:
        if not isinstance(weight, Tensor) or weight.ndim != 1 or weight.shape[0] != C:
            raise RuntimeError(f"{name}: weight must be a 1-D tensor of size {C} (the number of classes), got "
                               f"{tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__}")
        if weight.device != input.device:
            raise RuntimeError(f"{name}: weight is on {weight.device} but input is on {input.device}")
    return axis, C


def _check_target_meta(name, input, target, axis):
    """Validate a class-index target's dtype, shape and device (no pass over its values)."""
    if target.dtype not in (D.int64, D.int32):
        raise RuntimeError(f"{name}: expected target of dtype int64 (class indices) or a float target of the "
                           f"input's shape (probabilities), got {target.dtype} with shape {tuple(target.shape)}")
    want = tuple(input.shape[:axis]) + tuple(input.shape[axis + 1:])
    if tuple(target.shape) != want:
        raise RuntimeError(f"{name}: expected target of shape {want} for input of shape {tuple(input.shape)}, got "
                           f"{tuple(target.shape)}")
    if target.device != input.device:
        raise RuntimeError(f"{name}: target is on {target.device} but input is on {input.device}")


def _check_index_target(name, input, target, axis, C, ignore_index):
    """Validate class-index targets; return (safe targets, valid mask) as backend arrays."""
    _check_target_meta(name, input, target, axis)
    be = input._backend
    try:
        valid, ts = _targets(be, target._data, ignore_index, C, input.shape)
    except IndexError as e:
        raise IndexError(f"{name}: {e}") from None
    return ts, valid


def _expand(be, a, axis):
    return be.expand_dims(a, axis)


def _targets(be, target, ignore_index, C, shape):
    """(valid mask, targets with ignored ones set to 0); raises on a class out of range."""
    valid = target != ignore_index
    ts = be.where(valid, target, 0)
    if ts.size and (be.min(ts) < 0 or be.max(ts) >= C):
        bad = be.to_numpy(ts)
        v = int(bad[(bad < 0) | (bad >= C)].reshape(-1)[0])
        raise IndexError(f"Target {v} is out of bounds for {C} classes (input shape {tuple(shape)})")
    return valid, ts


@op("cross_entropy", save=("x", "target", "weight"), promote="all", promote_args=(0, 2), tensors=3)
def cross_entropy_op(be, x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0, axis=1):
    if weight is None and not label_smoothing and x.ndim == 2:
        # The common case in one pass over the rows (Note [fused cross-entropy] in backend/_kernels.py).
        loss, count = be.ce_rows(x, target, ignore_index)
        if reduction == "none":
            return loss
        total = be.sum(loss)
        return total if reduction == "sum" else total / x.dtype.type(count)
    logp = _log_softmax(be, x, axis)
    C = x.shape[axis]
    valid, ts = _targets(be, target, ignore_index, C, x.shape)
    picked = be.squeeze(be.take_along_axis(logp, _expand(be, ts, axis), axis), axis)
    wt = be.astype(valid, x.dtype) if weight is None else be.take(weight, ts) * valid
    loss = -(picked * wt)
    if label_smoothing:
        lw = logp if weight is None else logp * be.reshape(weight, (C,) + (1,) * (x.ndim - axis - 1))
        smooth = -be.sum(lw, axis=axis) * valid
        loss = (1 - label_smoothing) * loss + (label_smoothing / C) * smooth
    if reduction == "none":
        return loss
    if reduction == "sum":
        return be.sum(loss)
    return be.sum(loss) / be.sum(wt)


@cross_entropy_op.vjp
def _(F, ctx, g, x, target, weight, ignore_index, reduction, label_smoothing, axis):
    # d loss / d x = (softmax(x) * sum_c(a) - a) * scale, where a is the smoothed, weighted one-hot
    # target; without class weights sum_c(a) is just the valid mask.
    if len(ctx.needs) > 2 and ctx.needs[2]:
        raise NotImplementedError("cross_entropy: the derivative for 'weight' is not implemented (as in PyTorch); "
                                  "detach the weight")
    be, xa = backend_array(x)
    ta = backend_array(target)[1]
    # a backend kernel on arrays (absent under create_graph); looked up first: the compiled step's hot path
    fused = getattr(F, "ce_rows_grad", None) if weight is None and not label_smoothing else None
    if fused is not None and xa.ndim == 2:
        if reduction == "none":
            return fused(xa, ta, ignore_index, g), None, None
        # Note [all targets ignored]: the mean loss is 0/0 = nan (as in PyTorch) but the gradient is 0,
        # so the count is clamped at 1; it only differs when every row is ignored, and then every row's
        # gradient is 0 whatever the scale. One backend call for the scale and the gradient.
        return F.ce_rows_grad_reduced(xa, ta, ignore_index, g, reduction == "mean"), None, None
    wa = backend_array(weight)[1] if weight is not None else None
    C = xa.shape[axis]
    nd = xa.ndim
    bshape = (C,) + (1,) * (nd - axis - 1)
    valid = _expand(be, ta != ignore_index, axis)
    ts = be.where(valid, _expand(be, ta, axis), 0)
    onehot = ts == be.reshape(be.arange(0, C, 1, ts.dtype), bshape)
    a = (1 - label_smoothing) * onehot + label_smoothing / C if label_smoothing else onehot
    if wa is None:
        a = a * valid
        suma = be.astype(valid, xa.dtype)
        denom = be.sum(suma) if reduction == "mean" else None
    else:
        a = a * (be.reshape(wa, bshape) * valid)
        suma = be.sum(a, axis=axis, keepdims=True)
        denom = be.sum(be.take(wa, be.squeeze(ts, axis)) * be.squeeze(valid, axis)) if reduction == "mean" else None
    if denom is not None:
        # Note [all targets ignored]: every row ignored gives a zero gradient, not 0 * inf. A zero
        # total weight with some valid rows (weight 0 on their classes) stays nan, as in PyTorch.
        denom = be.where(be.any(valid), denom, 1)
        denom = lift(F, be.asarray(denom), like=g, dtype=xa.dtype)   # a device array, not a host number
    a, suma = lift(F, a, like=g, dtype=xa.dtype), lift(F, suma, like=g, dtype=xa.dtype)
    # softmax(x), recorded under create_graph; the row maximum is a constant (softmax does not depend on it).
    m = lift(F, be.max(xa, axis=axis, keepdims=True), like=g) if xa.size else 0
    e = F.exp(x - m)
    p = e / F.sum(e, axis=axis, keepdims=True)
    if reduction == "none":
        g = F.reshape(g, shape=tuple(1 if i == axis else s for i, s in enumerate(xa.shape)))
    elif reduction == "mean":
        g = g / denom
    return (p * suma - a) * g, None, None


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits and class-index targets: log-softmax and NLL fused in one stable op.

    Args:
        input: logits of shape (N, C), (N, C, d1, ...) or (C,).
        target: int64 class indices of shape (N,), (N, d1, ...) or (), or
            float class probabilities of the input's shape.
        weight: optional per-class weights of shape (C,) (not differentiated).
        ignore_index: targets equal to it contribute nothing (class-index targets).
        reduction: 'none', 'mean' (divided by the summed weights of the
            non-ignored targets) or 'sum'.
        label_smoothing: in [0, 1]; mixes the target with the uniform distribution.

    Returns:
        The loss: a scalar, or per element for ``reduction='none'``.

    Example:
        >>> import tapegrad
        >>> logits = tapegrad.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
        >>> tapegrad.ops.nn.cross_entropy(logits, tapegrad.tensor([0, 2]))
        tensor(0.6691)
    """
    axis, C = _check_loss_args("cross_entropy", input, target, weight, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    if target.is_floating_point():
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing, axis, C)
    _check_target_meta("cross_entropy", input, target, axis)   # the class range is checked in the op's one pass
    args = (input, target) if weight is None else (input, target, weight)
    return apply(cross_entropy_op, *args, ignore_index=int(ignore_index), reduction=reduction,
                 label_smoothing=float(label_smoothing), axis=axis)


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing, axis, C):
    from .reduction import sum as _sum
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"cross_entropy: a float (probability) target must have the input's shape "
                           f"{tuple(input.shape)}, got {tuple(target.shape)}")
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / C
    logp = log_softmax(input, axis)
    if weight is not None:
        from .shape import reshape_op
        logp = logp * apply(reshape_op, weight, shape=(C,) + (1,) * (input.ndim - axis - 1))
    loss = -_sum(logp * target, axis)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return _sum(loss)
    return _sum(loss) / (input.numel() // C if C else 0)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class-index targets given log-probabilities ``input``.

    Args:
        input: log-probabilities of shape (N, C), (N, C, d1, ...) or (C,).
        target: int64 class indices of shape (N,), (N, d1, ...) or ().
        weight: optional per-class weights of shape (C,).
        ignore_index: targets equal to it contribute nothing.
        reduction: 'none', 'mean' (divided by the summed weights of the
            non-ignored targets) or 'sum'.

    Example:
        >>> import tapegrad
        >>> logp = tapegrad.tensor([[-0.5, -1.0], [-2.0, -0.1]])
        >>> tapegrad.ops.nn.nll_loss(logp, tapegrad.tensor([0, 1]))
        tensor(0.3000)
    """
    from .indexing import index_op
    from .reduction import sum as _sum
    from .._tensor import Tensor
    axis, C = _check_loss_args("nll_loss", input, target, weight, reduction)
    ts, valid = _check_index_target("nll_loss", input, target, axis, C, ignore_index)
    be = input._backend
    tnd = ts.ndim
    key = []
    for d in range(input.ndim):
        if d == axis:
            key.append(ts)
        else:
            td = d if d < axis else d - 1
            key.append(be.reshape(be.arange(0, input.shape[d], 1, ts.dtype),
                                  tuple(input.shape[d] if k == td else 1 for k in range(tnd))))
    picked = apply(index_op, input, key=tuple(key))
    w = be.ones((C,), input._data.dtype) if weight is None else be.astype(weight._data, input._data.dtype)
    wt = Tensor._make(be.asarray(be.take(w, ts) * valid), None)     # a 0-d result may be a NumPy scalar
    loss = -(picked * wt)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return _sum(loss)
    if not bool(be.to_numpy(be.any(valid))):
        # Note [all targets ignored]: PyTorch's mean is nan, with a zero gradient (not 0 * inf).
        return _sum(loss) + float("nan")
    return _sum(loss) / _sum(wt)


__all__ = ["softmax", "log_softmax"]
METHODS = {n: globals()[n] for n in __all__}
