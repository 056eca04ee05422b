"""``nn.init``: in-place initializers with PyTorch's formulas and names.

Each fills ``tensor`` in place without recording on the tape, draws from
tapegrad's global generator (so ``tapegrad.manual_seed`` makes it
reproducible) and returns the tensor.
"""
import math

from .. import backend as B
from .._tensor import Tensor

__all__ = ["calculate_gain", "zeros_", "ones_", "constant_", "normal_", "uniform_", "xavier_uniform_",
           "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]


def _check(tensor, fn):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init.{fn}: expected a Tensor, got {type(tensor).__name__}")


def _write(tensor, values):
    a = tensor._data
    be = B.BY_TYPE[type(a)]
    if getattr(values, "dtype", None) is not None and values.dtype != a.dtype:
        values = be.astype(values, a.dtype)
    be.setitem(a, Ellipsis, values)
    tensor._version[0] += 1
    return tensor


def _float_shape(tensor, fn):
    _check(tensor, fn)
    a = tensor._data
    if a.dtype.kind not in "fV":              # V: bfloat16 (Note [bfloat16 kind] in _dtype.py)
        raise TypeError(f"nn.init.{fn}: expected a floating point tensor, got {tensor.dtype}")
    return B.BY_TYPE[type(a)], a.shape, a.dtype


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for an activation (PyTorch's table).

    Example:
        >>> from tapegrad import nn
        >>> round(nn.init.calculate_gain("relu"), 4)
        1.4142
    """
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; supported: "
                     f"{', '.join(linear)}, tanh, relu, leaky_relu, selu")


def _fans(shape, fn):
    if len(shape) < 2:
        raise ValueError(f"nn.init.{fn}: fan in and fan out can not be computed for a tensor with fewer "
                         f"than 2 dimensions (got shape {tuple(shape)})")
    receptive = 1
    for s in shape[2:]:
        receptive *= s
    return shape[1] * receptive, shape[0] * receptive


def zeros_(tensor):
    """Fill with zeros.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.init.zeros_(tapegrad.ones(2))
        tensor([0., 0.])
    """
    return constant_(tensor, 0.0)


def ones_(tensor):
    """Fill with ones.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.init.ones_(tapegrad.zeros(2))
        tensor([1., 1.])
    """
    return constant_(tensor, 1.0)


def constant_(tensor, val):
    """Fill with the constant ``val``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.init.constant_(tapegrad.zeros(2), 0.5)
        tensor([0.5000, 0.5000])
    """
    _check(tensor, "constant_")
    return _write(tensor, val)


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with values drawn from U(a, b).

    Example:
        >>> import tapegrad
        >>> t = tapegrad.nn.init.uniform_(tapegrad.empty(100), -1, 1)
        >>> bool((t >= -1).all() and (t < 1).all())
        True
    """
    be, shape, dt = _float_shape(tensor, "uniform_")
    if not a <= b:
        raise ValueError(f"nn.init.uniform_: expected a <= b, got a={a}, b={b}")
    return _write(tensor, be.rand(shape, dt) * dt.type(b - a) + dt.type(a))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with values drawn from N(mean, std**2).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.init.normal_(tapegrad.empty(3, 4)).shape
        tapegrad.Size([3, 4])
    """
    be, shape, dt = _float_shape(tensor, "normal_")
    if std < 0:
        raise ValueError(f"nn.init.normal_: std must be non-negative, got {std}")
    return _write(tensor, be.randn(shape, dt) * dt.type(std) + dt.type(mean))


def xavier_uniform_(tensor, gain=1.0):
    """Glorot uniform: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    Example:
        >>> import tapegrad
        >>> w = tapegrad.nn.init.xavier_uniform_(tapegrad.empty(3, 5))
        >>> bool(w.abs().max() <= (6 / 8) ** 0.5)
        True
    """
    fan_in, fan_out = _fans(_float_shape(tensor, "xavier_uniform_")[1], "xavier_uniform_")
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a)


def xavier_normal_(tensor, gain=1.0):
    """Glorot normal: N(0, std**2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.init.xavier_normal_(tapegrad.empty(3, 5)).shape
        tapegrad.Size([3, 5])
    """
    fan_in, fan_out = _fans(_float_shape(tensor, "xavier_normal_")[1], "xavier_normal_")
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity, fn):
    shape = _float_shape(tensor, fn)[1]
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"nn.init.{fn}: mode {mode!r} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _fans(shape, fn)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """He uniform: U(-bound, bound) with ``bound = gain * sqrt(3 / fan)``.

    ``nn.Linear`` uses ``a=sqrt(5)``, which gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    Example:
        >>> import tapegrad
        >>> w = tapegrad.nn.init.kaiming_uniform_(tapegrad.empty(4, 9), a=5 ** 0.5)
        >>> bool(w.abs().max() <= 1 / 3)
        True
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """He normal: N(0, std**2) with ``std = gain / sqrt(fan)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.init.kaiming_normal_(tapegrad.empty(4, 9)).shape
        tapegrad.Size([4, 9])
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std)
