"""Channel-wise and alpha dropout: ``F.dropout1d/2d/3d``, ``F.alpha_dropout``, ``F.feature_alpha_dropout``.

A mask is drawn with the backend's ``bernoulli`` and multiplied in (so the
gradient is the mask). Feature (channel-wise) variants draw one value per
``(N, C)`` and broadcast it over the spatial dims, as PyTorch's
``feature_dropout`` does. ``inplace=True`` writes the result into the input and
returns it, as PyTorch (``in_place``; a leaf that requires grad refuses, as there).
"""
import math
import warnings

from ... import backend as B
from ..._tensor import Tensor

__all__ = ["dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]

_SELU_ALPHA = 1.7580993408473766     # SELU's alpha * scale: the value alpha dropout drops to is -this


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _noise(input, p, feature):
    """A ``bernoulli(1 - p)`` mask array: ``input``'s shape, or ``(N, C, 1, ...)`` for a feature dropout."""
    a = input._data
    be = B.BY_TYPE[type(a)]
    shape = tuple(a.shape[:2]) + (1,) * (a.ndim - 2) if feature else tuple(a.shape)
    return be, be.bernoulli(1.0 - p, shape, a.dtype)


def in_place(name, input, inplace, p, training, fn):
    """``fn(input)``, written into ``input`` and returning it when ``inplace`` (Note [in-place] in ops/inplace.py)."""
    if not inplace or not training or p == 0:
        return fn(input)
    from ...ops.inplace import _inplace
    return _inplace(name + "_", input, fn, True)


def _dropout_impl(input, p, training, feature, alpha, fn):
    _check_p(p)
    if feature and input.ndim < 2:
        raise RuntimeError(f"{fn}: feature dropout requires at least 2 dimensions in the input, got shape "
                           f"{tuple(input.shape)}")
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        return input * 0.0
    be, noise = _noise(input, p, feature)
    dt = noise.dtype.type
    if not alpha:
        return input * Tensor._make(noise * dt(1.0 / (1.0 - p)), None)
    a = 1.0 / math.sqrt((_SELU_ALPHA * _SELU_ALPHA * p + 1) * (1 - p))
    b = (noise - dt(1)) * dt(_SELU_ALPHA * a) + dt(_SELU_ALPHA * a * p)
    return input * Tensor._make(noise * dt(a), None) + Tensor._make(b, None)


def _batched(input, p, training, batched_ndim, fn):
    if input.ndim == batched_ndim - 1:      # unbatched: (C, ...) is one sample
        return _dropout_impl(input.unsqueeze(0), p, training, True, False, fn).squeeze(0)
    return _dropout_impl(input, p, training, True, False, fn)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, L)`` (or unbatched ``(C, L)``) with probability ``p``, scaling by 1/(1-p).

    Example:
        >>> import tapegrad
        >>> y = tapegrad.nn.functional.dropout1d(tapegrad.ones(4, 8, 5), 0.5)
        >>> all(len(set(row)) == 1 for row in y.reshape(32, 5).tolist())
        True
    """
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return in_place("dropout1d", input, inplace, p, training, lambda v: _batched(v, p, training, 3, "dropout1d"))


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, H, W)`` with probability ``p``, scaling the rest by 1/(1-p).

    As in PyTorch, a 3-D input is taken as ``(N, C, L)`` (with a warning), and inputs that are
    neither 3-D nor 4-D are deprecated (a warning) but still dropped channel-wise.

    Example:
        >>> import tapegrad
        >>> y = tapegrad.nn.functional.dropout2d(tapegrad.ones(2, 3, 4, 4), 0.5)
        >>> sorted(set(y.flatten().tolist())) in ([0.0], [2.0], [0.0, 2.0])
        True
    """
    _check_p(p)
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this warning, "
                      "please use dropout instead. Note that dropout2d exists to provide channel-wise dropout on "
                      "inputs with 2 spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 3D or 4D inputs).", UserWarning, stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a "
                      "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                      "please switch to using dropout1d instead.", UserWarning, stacklevel=2)
    return in_place("dropout2d", input, inplace, p, training,
                    lambda v: _dropout_impl(v, p, training, True, False, "dropout2d"))


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, D, H, W)`` (or unbatched ``(C, D, H, W)``) with probability ``p``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.dropout3d(tapegrad.ones(1, 2, 2, 2, 2), 0.5, training=False).sum()
        tensor(16.)
    """
    _check_p(p)
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this warning, "
                      "please use dropout instead. Note that dropout3d exists to provide channel-wise dropout on "
                      "inputs with 3 spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 4D or 5D inputs).", UserWarning, stacklevel=2)
    if input.ndim != 5:
        return in_place("dropout3d", input, inplace, p, training,
                        lambda v: _dropout_impl(v.unsqueeze(0), p, training, True, False, "dropout3d").squeeze(0))
    return in_place("dropout3d", input, inplace, p, training,
                    lambda v: _dropout_impl(v, p, training, True, False, "dropout3d"))


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped units go to SELU's negative saturation, then an affine
    correction keeps the mean and variance (PyTorch's constants). Off unless ``training``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.alpha_dropout(tapegrad.ones(3), 0.5)
        tensor([1., 1., 1.])
    """
    return in_place("alpha_dropout", input, inplace, p, training,
                    lambda v: _dropout_impl(v, p, training, False, True, "alpha_dropout"))


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels (one draw per ``(N, C)``). Off unless ``training``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.feature_alpha_dropout(tapegrad.ones(1, 2), 0.5).tolist()
        [[1.0, 1.0]]
    """
    return in_place("feature_alpha_dropout", input, inplace, p, training,
                    lambda v: _dropout_impl(v, p, training, True, True, "feature_alpha_dropout"))
