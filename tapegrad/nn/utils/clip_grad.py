"""Gradient clipping: ``clip_grad_norm_``, ``clip_grad_value_``, ``get_total_norm``, ``clip_grads_with_norm_``.

As ``torch.nn.utils.clip_grad``: the total norm is the norm of the vector of
each tensor's own norm, and gradients are scaled in place by
``min(max_norm / (total_norm + 1e-6), 1)``. Nothing here is recorded.
"""
import math
import types
import warnings

from ... import _creation as C
from ..._tensor import Tensor
from ...tape import grad_mode as _gm
from ...ops.joining import stack as _stack

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _vector_norm(x, p):
    """``torch.linalg.vector_norm(x, p)`` for one tensor, in its dtype."""
    a = x.abs()
    if p == math.inf:
        return a.max()
    if p == -math.inf:
        return a.min()
    if p == 0:
        return (x != 0).sum().to(x.dtype)
    if p == 1:
        return a.sum()
    if p == 2:
        return (a * a).sum().sqrt()
    return (a ** p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of ``tensors`` seen as one vector (the norm of their norms).

    Args:
        tensors: a Tensor or an iterable of Tensors.
        norm_type: the p of the p-norm; ``float('inf')`` for the largest absolute value.
        error_if_nonfinite: raise when the total is nan or infinite.
        foreach: accepted for PyTorch compatibility; the result is the same either way.

    Returns:
        a 0-d Tensor (``tensor(0.)`` when there are no tensors).

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn.utils import get_total_norm
        >>> get_total_norm([tapegrad.tensor([3.0]), tapegrad.tensor([4.0])])
        tensor(5.)
    """
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return C.tensor(0.0)
    with _gm.no_grad():
        first = tensors[0].device
        norms = [_vector_norm(t, norm_type).to(first) for t in tensors]
        total = _vector_norm(_stack(norms), norm_type)
    if error_if_nonfinite and bool(total.isnan() | total.isinf()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                           "so it cannot be clipped. To disable this error and scale the gradients by the "
                           "non-finite norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients of ``parameters`` in place by ``min(max_norm / (total_norm + 1e-6), 1)``.

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn.utils import clip_grads_with_norm_
        >>> p = tapegrad.ones(2, requires_grad=True)
        >>> (p * 3).sum().backward()
        >>> clip_grads_with_norm_([p], 1.0, tapegrad.tensor(6.0))
        >>> p.grad
        tensor([0.5000, 0.5000])
    """
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    with _gm.no_grad():
        coef = (max_norm / (total_norm + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.device))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Clip the gradients of ``parameters`` so that their total ``norm_type``-norm is at most ``max_norm``.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` is scaled in place.
        max_norm: the largest total norm allowed.
        norm_type: the p of the p-norm (``float('inf')`` allowed).
        error_if_nonfinite: raise when the total norm is nan or infinite.
        foreach: accepted for PyTorch compatibility.

    Returns:
        the total norm of the gradients before clipping (a 0-d Tensor).

    Example:
        >>> import tapegrad
        >>> from tapegrad import nn
        >>> p = nn.Parameter(tapegrad.ones(4))
        >>> (p * 2).sum().backward()
        >>> nn.utils.clip_grad_norm_([p], max_norm=1.0)
        tensor(4.)
        >>> p.grad
        tensor([0.5000, 0.5000, 0.5000, 0.5000])
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated name of ``clip_grad_norm_`` (warns, as PyTorch's).

    Example:
        >>> import warnings, tapegrad
        >>> from tapegrad import nn
        >>> p = nn.Parameter(tapegrad.ones(2))
        >>> p.grad = tapegrad.tensor([3.0, 4.0])
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     nn.utils.clip_grad_norm(p, 10.0)
        tensor(5.)
    """
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp the gradients of ``parameters`` in place to ``[-clip_value, clip_value]``.

    Example:
        >>> import tapegrad
        >>> from tapegrad import nn
        >>> p = nn.Parameter(tapegrad.tensor([1.0, -1.0]))
        >>> (p * tapegrad.tensor([5.0, 0.1])).sum().backward()
        >>> nn.utils.clip_grad_value_([p], 0.5)
        >>> p.grad
        tensor([0.5000, 0.1000])
    """
    clip_value = float(clip_value)
    with _gm.no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)
