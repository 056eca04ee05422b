"""Helpers shared by the distributions: broadcasting parameters, probs <-> logits, lazy properties.

Example:
    >>> import tapegrad as torch
    >>> from tapegrad.distributions.utils import probs_to_logits
    >>> probs_to_logits(torch.tensor([0.5]), is_binary=True)
    tensor([0.])
"""
import numbers

import tapegrad

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits"]


def broadcast_all(*values):
    """Broadcast tensors and Python numbers to one shape, numbers taking the tensors' dtype.

    Example:
        >>> import tapegrad as torch
        >>> a, b = broadcast_all(torch.zeros(2), 1.0)
        >>> b
        tensor([1., 1.])
    """
    if not all(isinstance(v, (tapegrad.Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, tapegrad.Tensor or objects "
                         f"implementing __torch_function__, got {[type(v).__name__ for v in values]}")
    tensors = [v for v in values if isinstance(v, tapegrad.Tensor)]
    if not tensors:
        dtype = tapegrad.get_default_dtype()
        return tuple(tapegrad.tensor(float(v), dtype=dtype) for v in values)
    like = tensors[0]
    values = [v if isinstance(v, tapegrad.Tensor) else tapegrad.tensor(v, dtype=like.dtype, device=like.device)
              for v in values]
    return tuple(tapegrad.broadcast_tensors(*values))


def _sum_rightmost(value, dim):
    """Sum out the ``dim`` rightmost dimensions."""
    return value.reshape(tuple(value.shape[:value.dim() - dim]) + (-1,)).sum(-1) if dim > 0 else value


def clamp_probs(probs):
    """Clamp probabilities into the open interval (eps, 1 - eps) of their dtype.

    Example:
        >>> import tapegrad as torch
        >>> clamp_probs(torch.tensor([0.0, 1.0], dtype=torch.float64)).tolist()[0] > 0
        True
    """
    eps = tapegrad.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    """Turn logits into probabilities: a sigmoid if ``is_binary``, else a softmax over the last dim.

    Example:
        >>> import tapegrad as torch
        >>> logits_to_probs(torch.tensor([0.0, 0.0]))
        tensor([0.5000, 0.5000])
    """
    return tapegrad.sigmoid(logits) if is_binary else tapegrad.softmax(logits, dim=-1)


def probs_to_logits(probs, is_binary=False):
    """Turn probabilities into logits (log-odds if ``is_binary``, else log-probabilities), clamped first.

    Example:
        >>> import tapegrad as torch
        >>> probs_to_logits(torch.tensor([1.0, 1.0]) / 2)
        tensor([-0.6931, -0.6931])
    """
    ps = clamp_probs(probs)
    return tapegrad.log(ps) - tapegrad.log1p(-ps) if is_binary else tapegrad.log(ps)


class lazy_property:
    """A property computed on first access and then stored on the instance (``probs`` from ``logits``)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with tapegrad.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def _standard_normal(shape, like):
    """Standard normal draws of ``shape`` with ``like``'s dtype and device, from the default generator."""
    return tapegrad.randn(*shape, dtype=like.dtype, device=like.device)


def _uniform01(shape, like):
    """Uniform draws in [0, 1) of ``shape`` with ``like``'s dtype and device, from the default generator."""
    return tapegrad.rand(*shape, dtype=like.dtype, device=like.device)


def _is_number(x):
    return isinstance(x, numbers.Number)
