"""Normalization functions of ``nn.functional``: layer, batch, instance, group, RMS and local response norm.

``layer_norm``, ``batch_norm`` and ``instance_norm`` are one recorded op each
(tapegrad/ops/normalization.py, Note [batch_norm primitive]); the others are
composed of registered ops. Running statistics are updated in place, outside
the tape, with PyTorch's rule: ``(1 - momentum) * running + momentum * batch``,
the variance unbiased.
"""
import math

from ... import _dtype as D
from ..._tensor import Tensor
from ...ops.normalization import layer_norm, batch_norm_op, batch_stats  # noqa: F401  (layer_norm: one definition)
from ...ops.registry import apply

__all__ = ["layer_norm", "batch_norm", "instance_norm", "group_norm", "rms_norm", "normalize", "local_response_norm"]

_EPS = {2: 0.0009765625, 4: 1.1920928955078125e-07, 8: 2.220446049250313e-16}   # finfo(dtype).eps by size


def _check_input(name, input, min_dim):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if not input.is_floating_point():
        raise RuntimeError(f"{name}: expected a floating point input, got {input.dtype}")
    if input.ndim < min_dim:
        raise ValueError(f"{name}: expected an input with at least {min_dim} dims (N, C, ...), got shape "
                         f"{tuple(input.shape)}")


def _check_channel(name, what, t, c):
    if t is not None and (not isinstance(t, Tensor) or t.numel() != c):
        got = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
        raise RuntimeError(f"{name}: expected {what} with {c} elements (the input's channels), got {got}")


def _norm(input, weight, bias, axis, paxis, eps, stats, fixed):
    c = input.shape[1]
    pshape = (c,) + (1,) * (input.ndim - 2)
    args = (input, weight, bias) if bias is not None else (input, weight) if weight is not None else (input,)
    return apply(batch_norm_op, *args, axis=axis, paxis=paxis, pshape=pshape, eps=float(eps), stats=stats,
                 fixed=fixed)


def _update(running, batch, momentum):
    """``running = (1 - momentum) * running + momentum * batch`` in place, off the tape.

    One backend write and a version bump, as an in-place op makes (Note [in-place] in
    ops/inplace.py), without its per-op machinery: this runs twice per training step.
    """
    be = running._backend
    r = running._data
    be.setitem(r, Ellipsis, r * (1 - momentum) + be.astype(batch, r.dtype) * momentum)
    v = running._version
    v[0] += 1
    v[1] = "batch_norm"


def _verify(name, input, axis, message):
    if math.prod(input.shape[a] for a in axis) == 1:
        raise ValueError(f"{name}: {message}, got input size {list(input.shape)}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalization over all dims but the channel dim 1, with optional running statistics.

    In training the batch's statistics normalize the input and, when
    ``running_mean``/``running_var`` are given, update them in place
    (the variance unbiased); otherwise the running statistics are used.

    Args:
        input: ``(N, C, *)``.
        running_mean, running_var: ``(C,)`` buffers, or None.
        weight, bias: optional ``(C,)`` affine parameters.
        training: use (and track) the batch's statistics.
        momentum: the weight of the new statistics in the running average.
        eps: added to the variance.

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn import functional as F
        >>> rm, rv = tapegrad.zeros(2), tapegrad.ones(2)
        >>> F.batch_norm(tapegrad.tensor([[1.0, 2.0], [3.0, 6.0]]), rm, rv, training=True)
        tensor([[-1.0000, -1.0000],
                [ 1.0000,  1.0000]])
        >>> rm, rv
        (tensor([0.2000, 0.4000]), tensor([1.1000, 1.7000]))
    """
    _check_input("batch_norm", input, 2)
    c = input.shape[1]
    for what, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        _check_channel("batch_norm", what, t, c)
    axis = (0,) + tuple(range(2, input.ndim))
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var must be given in evaluation mode "
                               "(training=False)")
        shape = (1, c) + (1,) * (input.ndim - 2)
        be = input._backend
        # copies: the node keeps them, and a later training step updates the buffers in place
        stats = tuple(be.reshape(be.copy(be.astype(t._data, input._data.dtype)), shape)
                      for t in (running_mean, running_var))
        return _norm(input, weight, bias, axis, axis, eps, stats, True)
    _verify("batch_norm", input, axis, "Expected more than 1 value per channel when training")
    stats = batch_stats(input._backend, input._data, axis) if input.numel() else None
    if stats is not None:
        n = input.numel() // c
        if running_mean is not None:
            _update(running_mean, input._backend.reshape(stats[0], (c,)), momentum)
        if running_var is not None:
            _update(running_var, input._backend.reshape(stats[1], (c,)) * (n / (n - 1)), momentum)
    return _norm(input, weight, bias, axis, axis, eps, stats, False)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Instance normalization: each sample's channel normalized over its spatial dims.

    With ``use_input_stats`` the instance statistics are used and, when given,
    ``running_mean``/``running_var`` are updated with their mean over the batch;
    otherwise the running statistics normalize every instance.

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn import functional as F
        >>> F.instance_norm(tapegrad.tensor([[[1.0, 3.0], [0.0, 4.0]]]))
        tensor([[[-1.0000,  1.0000],
                 [-1.0000,  1.0000]]])
    """
    _check_input("instance_norm", input, 3)
    c = input.shape[1]
    for what, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        _check_channel("instance_norm", what, t, c)
    axis = tuple(range(2, input.ndim))
    paxis = (0,) + axis
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("instance_norm: running_mean and running_var must be given when "
                               "use_input_stats=False")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    _verify("instance_norm", input, axis, "Expected more than 1 spatial element when training")
    be = input._backend
    stats = batch_stats(be, input._data, axis) if input.numel() else None
    if stats is not None:
        n = input.numel() // (c * input.shape[0])
        if running_mean is not None:
            _update(running_mean, be.sum(be.reshape(stats[0], input.shape[:2]), axis=0) / input.shape[0], momentum)
        if running_var is not None:
            v = be.sum(be.reshape(stats[1], input.shape[:2]), axis=0) * (n / (n - 1) / input.shape[0])
            _update(running_var, v, momentum)
    return _norm(input, weight, bias, axis, paxis, eps, stats, False)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization: the channels split into ``num_groups`` groups, each normalized per sample.

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn import functional as F
        >>> F.group_norm(tapegrad.tensor([[1.0, 3.0, 0.0, 4.0]]), 2)
        tensor([[-1.0000,  1.0000, -1.0000,  1.0000]])
    """
    _check_input("group_norm", input, 2)
    n, c = input.shape[0], input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"group_norm: expected the number of channels in the input ({c}) to be divisible by "
                           f"num_groups={num_groups}, got input of shape {tuple(input.shape)}")
    _check_channel("group_norm", "weight", weight, c)
    _check_channel("group_norm", "bias", bias, c)
    rest = math.prod(input.shape[1:]) // num_groups
    if n * rest == 1:       # PyTorch's check: (N * C / G) * spatial values
        raise ValueError(f"group_norm: Expected more than 1 value per channel when training, got input size "
                         f"{[n * c // num_groups, num_groups] + list(input.shape[2:])}")
    y = layer_norm(input.reshape(n, num_groups, rest), rest, eps=eps).reshape(tuple(input.shape))
    pshape = (c,) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(pshape)
    if bias is not None:
        y = y + bias.reshape(pshape)
    return y


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalization over the trailing ``normalized_shape`` dims: ``x / rms(x) * weight``.

    ``eps`` defaults to the machine epsilon of the input's dtype, as in PyTorch.

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn import functional as F
        >>> F.rms_norm(tapegrad.tensor([[3.0, -3.0]]), [2])
        tensor([[ 1., -1.]])
    """
    _check_input("rms_norm", input, 0)
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != ns:
        raise RuntimeError(f"rms_norm: given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size {list(input.shape)}")
    if weight is not None and tuple(weight.shape) != ns:
        raise RuntimeError(f"rms_norm: expected weight of shape {list(ns)} (normalized_shape), got "
                           f"{list(weight.shape)}")
    if eps is None:
        eps = _EPS[D.to_dtype(input.dtype).np.itemsize]
    dims = tuple(range(input.ndim - k, input.ndim))
    y = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return y if weight is None else y * weight


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``.

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn import functional as F
        >>> F.normalize(tapegrad.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """
    if out is not None:
        raise TypeError("normalize: out= is not supported")
    from ...ops.statistics import norm
    return input / norm(input, p, dim, keepdim=True).clamp(min=eps)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalization across channels: ``x / (k + alpha * mean of x**2 over size channels)**beta``.

    The window of ``size`` channels is zero-padded (``size // 2`` before,
    ``(size - 1) // 2`` after) and the mean divides by ``size``, as in PyTorch.

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn import functional as F
        >>> F.local_response_norm(tapegrad.ones(1, 3, 1), 2, alpha=1.0, beta=1.0, k=0.0)
        tensor([[[2.],
                 [1.],
                 [1.]]])
    """
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected 3D or higher dimensionality input (got {input.ndim} "
                         "dimensions)")
    if input.numel() == 0:
        return input
    from ...ops.joining import cat
    from ..._creation import zeros
    c = input.shape[1]
    sq = input * input
    before, after = size // 2, (size - 1) // 2
    side = tuple(input.shape)
    parts = [zeros(*side[:1], before, *side[2:], dtype=input.dtype, device=input.device)] if before else []
    parts.append(sq)
    if after:
        parts.append(zeros(*side[:1], after, *side[2:], dtype=input.dtype, device=input.device))
    padded = cat(parts, 1) if len(parts) > 1 else sq
    win = padded.narrow(1, 0, c)
    for j in range(1, size):
        win = win + padded.narrow(1, j, c)
    div = (win * (alpha / size) + k) ** beta
    return input / div
