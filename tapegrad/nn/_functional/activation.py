"""Activation functions of ``nn.functional`` beyond relu/sigmoid/tanh/gelu/softmax, composed of registered ops.

Note [activation kinks]: each function is written with ``where`` so that the
gradient at a kink is PyTorch's (leaky_relu and prelu take the negative
slope at 0, elu/celu/selu the negative branch, hardtanh/relu6/hardsigmoid 0
at their bounds, hardswish 0 at -3 and 1 at 3, the shrinks 0 at
+-lambd). A branch that would overflow where it is not selected (expm1 of a
large x) gets its input clamped first, so no inf meets a zero gradient and
makes nan. ``softplus`` and ``logsigmoid`` use the shift of logsumexp, so
they are finite for any ``|x|`` and their gradient is the exact sigmoid.
"""
import warnings

from ... import _creation as C
from ..._tensor import Tensor
from ...ops import elementwise as E
from ...ops import unary as U
from ...ops import nn as N
from ...ops.inplace import _inplace

__all__ = ["leaky_relu", "leaky_relu_", "prelu", "relu_", "relu6", "elu", "elu_", "selu", "selu_", "celu", "celu_",
           "silu", "mish", "softplus", "softsign", "hardtanh", "hardtanh_", "hardswish", "hardsigmoid", "tanhshrink",
           "softshrink", "hardshrink", "threshold", "threshold_", "glu", "logsigmoid", "softmin", "gumbel_softmax"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _float(name, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if not input.is_floating_point():
        raise RuntimeError(f"{name}: expected a floating point input, got {input.dtype}")
    return input


def _maybe_inplace(name, input, inplace, fn):
    """``fn(input)``, or written into ``input`` and returning it when ``inplace`` (Note [in-place])."""
    _float(name, input)
    if inplace:
        return _inplace(name + "_", input, fn, True)
    return fn(input)


def relu_(input):
    """In-place ``max(x, 0)``; returns ``input``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([-1.0, 2.0])
        >>> tapegrad.nn.functional.relu_(x) is x, x
        (True, tensor([0., 2.]))
    """
    return _maybe_inplace("relu", input, True, U.relu)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` where ``x > 0``, else ``negative_slope * x`` (the slope is the gradient at 0).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.leaky_relu(tapegrad.tensor([-2.0, 3.0]), 0.5)
        tensor([-1.,  3.])
    """
    return _maybe_inplace("leaky_relu", input, inplace, lambda x: E.where(x > 0, x, x * negative_slope))


def leaky_relu_(input, negative_slope=0.01):
    """In-place ``leaky_relu``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.leaky_relu_(tapegrad.tensor([-1.0, 1.0]), 0.1)
        tensor([-0.1000,  1.0000])
    """
    return leaky_relu(input, negative_slope, True)


def prelu(input, weight):
    """``x`` where ``x > 0``, else ``weight * x``; ``weight`` has 1 element or one per channel (dim 1).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.prelu(tapegrad.tensor([[-2.0, -2.0]]), tapegrad.tensor([0.5, 0.25]))
        tensor([[-1.0000, -0.5000]])
    """
    _float("prelu", input)
    n = weight.numel()
    if n != 1:
        c = input.shape[1] if input.ndim >= 2 else 1
        if weight.ndim != 1 or n != c:
            raise RuntimeError(f"prelu: mismatch in parameter count: weight has {n} elements "
                               f"(shape {tuple(weight.shape)}) but the input's channel dim 1 has {c} "
                               f"(input shape {tuple(input.shape)}); use 1 or {c} parameters")
        weight = weight.reshape((c,) + (1,) * (input.ndim - 2))
    else:
        weight = weight.reshape(())         # one slope: the result keeps the input's shape
    return E.where(input > 0, input, weight * input)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Clamp into ``[min_val, max_val]``; the gradient is 0 at the bounds (PyTorch's rule for hardtanh).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.hardtanh(tapegrad.tensor([-3.0, 0.5, 3.0]))
        tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")

    def f(x):
        return E.where((x > min_val) & (x < max_val), x, E.clamp(x.detach(), min_val, max_val))
    return _maybe_inplace("hardtanh", input, inplace, f)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place ``hardtanh``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.hardtanh_(tapegrad.tensor([-3.0, 3.0]))
        tensor([-1.,  1.])
    """
    return hardtanh(input, min_val, max_val, True)


def relu6(input, inplace=False):
    """``min(max(x, 0), 6)``: ``hardtanh(x, 0, 6)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.relu6(tapegrad.tensor([-1.0, 3.0, 9.0]))
        tensor([0., 3., 6.])
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def _elu(x, alpha, scale, input_scale):
    neg = E.clamp(x, max=0) if input_scale == 1 else E.clamp(x, max=0) * input_scale
    out = E.where(x > 0, x, U.expm1(neg) * alpha)
    return out if scale == 1 else out * scale


def elu(input, alpha=1.0, inplace=False):
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.elu(tapegrad.tensor([-1000.0, 2.0]))
        tensor([-1.,  2.])
    """
    return _maybe_inplace("elu", input, inplace, lambda x: _elu(x, alpha, 1, 1))


def elu_(input, alpha=1.0):
    """In-place ``elu``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.elu_(tapegrad.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """
    return elu(input, alpha, True)


def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with the self-normalizing constants of Klambauer et al.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.selu(tapegrad.tensor([1.0]))
        tensor([1.0507])
    """
    return _maybe_inplace("selu", input, inplace, lambda x: _elu(x, _SELU_ALPHA, _SELU_SCALE, 1))


def selu_(input):
    """In-place ``selu``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.selu_(tapegrad.tensor([0.0]))
        tensor([0.])
    """
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.celu(tapegrad.tensor([-1000.0, 2.0]), alpha=2.0)
        tensor([-2.,  2.])
    """
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha must not be 0")
    return _maybe_inplace("celu", input, inplace, lambda x: _elu(x, alpha, 1, 1.0 / alpha))


def celu_(input, alpha=1.0):
    """In-place ``celu``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.celu_(tapegrad.tensor([0.0]))
        tensor([0.])
    """
    return celu(input, alpha, True)


def silu(input, inplace=False):
    """``x * sigmoid(x)`` (swish).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.silu(tapegrad.tensor([0.0, 1.0]))
        tensor([0.0000, 0.7311])
    """
    return _maybe_inplace("silu", input, inplace, lambda x: x * U.sigmoid(x))


def _softplus1(x):
    """``log(1 + exp(x))`` for any ``x``: ``m + log(exp(-m) + exp(x - m))`` with ``m = max(x, 0)`` held
    constant (Note [activation kinks]), so exp never overflows and the gradient is ``sigmoid(x)``."""
    m = U.relu(x).detach()
    return m + U.log(U.exp(-m) + U.exp(x - m))


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.softplus(tapegrad.tensor([0.0, 100.0]))
        tensor([  0.6931, 100.0000])
    """
    _float("softplus", input)
    bx = input if beta == 1 else input * beta
    sp = _softplus1(bx)
    return E.where(bx > threshold, input, sp if beta == 1 else sp / beta)


def logsigmoid(input):
    """``log(sigmoid(x)) = -softplus(-x)``, finite for any ``x``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.logsigmoid(tapegrad.tensor([-1000.0, 0.0]))
        tensor([-1.0000e+03, -6.9315e-01])
    """
    return -_softplus1(-_float("logsigmoid", input))


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.mish(tapegrad.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8651])
    """
    return _maybe_inplace("mish", input, inplace, lambda x: x * U.tanh(_softplus1(x)))


def softsign(input):
    """``x / (1 + |x|)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.softsign(tapegrad.tensor([-1.0, 3.0]))
        tensor([-0.5000,  0.7500])
    """
    return input / (U.abs(_float("softsign", input)) + 1)


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``; the gradient is ``x / 3 + 1/2`` strictly inside ``(-3, 3)``, 0 at -3, 1 at 3.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.hardswish(tapegrad.tensor([-4.0, 0.0, 1.0, 4.0]))
        tensor([-0.0000,  0.0000,  0.6667,  4.0000])
    """
    def f(x):
        return E.where(x <= -3, x * 0.0, E.where(x < 3, x * (x + 3) * (1 / 6), x))   # -0.0 below -3, as PyTorch
    return _maybe_inplace("hardswish", input, inplace, f)


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``; the gradient is ``1/6`` strictly inside ``(-3, 3)`` and 0 elsewhere.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.hardsigmoid(tapegrad.tensor([-4.0, 0.0, 4.0]))
        tensor([0.0000, 0.5000, 1.0000])
    """
    def f(x):
        return E.where((x > -3) & (x < 3), x * (1 / 6) + 0.5, (x >= 3).to(x.dtype))
    return _maybe_inplace("hardsigmoid", input, inplace, f)


def tanhshrink(input):
    """``x - tanh(x)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.tanhshrink(tapegrad.tensor([0.0]))
        tensor([0.])
    """
    return input - U.tanh(_float("tanhshrink", input))


_DTYPE_MAX = {2: ("Half", 65504.0), 4: ("Float", 3.4028234663852886e+38), 8: ("Double", 1.7976931348623157e+308)}


def _check_lambd(name, lambd, input):
    if lambd < 0:
        kind, hi = _DTYPE_MAX.get(input._data.dtype.itemsize, (str(input.dtype), float("inf")))
        raise RuntimeError(f"{name}: lambda must be in range [0, {hi:g}] for input dtype {kind}, but found "
                           f"{lambd:g}")


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.softshrink(tapegrad.tensor([-2.0, 0.2, 2.0]))
        tensor([-1.5000,  0.0000,  1.5000])
    """
    x = _float("softshrink", input)
    _check_lambd("softshrink", lambd, x)
    return E.where(x > lambd, x - lambd, E.where(x < -lambd, x + lambd, 0.0))


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.hardshrink(tapegrad.tensor([-2.0, 0.2, 2.0]))
        tensor([-2.,  0.,  2.])
    """
    x = _float("hardshrink", input)
    return E.where((x > lambd) | (x < -lambd), x, 0.0)


def threshold(input, threshold, value, inplace=False):
    """``x`` where ``x > threshold``, else ``value``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.threshold(tapegrad.tensor([0.5, 2.0]), 1.0, -1.0)
        tensor([-1.,  2.])
    """
    return _maybe_inplace("threshold", input, inplace,
                          lambda x: E.where(x > threshold, x, float(value)))


def threshold_(input, threshold, value):
    """In-place ``threshold``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.threshold_(tapegrad.tensor([0.5, 2.0]), 1.0, 0.0)
        tensor([0., 2.])
    """
    return _threshold(input, threshold, value, True)


_threshold = threshold


def glu(input, dim=-1):
    """Gated linear unit: ``a * sigmoid(b)`` with ``a, b`` the halves of ``input`` along ``dim``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.glu(tapegrad.tensor([2.0, 0.0]))
        tensor([1.])
    """
    _float("glu", input)
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim + input.ndim if dim < 0 else dim
    if not 0 <= d < input.ndim:
        raise IndexError(f"glu: dim {dim} is out of range for an input of {input.ndim} dims")
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    return input.narrow(d, 0, n // 2) * U.sigmoid(input.narrow(d, n // 2, n // 2))


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x)`` along ``dim``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.softmin(tapegrad.tensor([0.0, 0.0]), dim=0)
        tensor([0.5000, 0.5000])
    """
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        warnings.warn("Implicit dimension choice for softmin has been deprecated. Change the call to include "
                      "dim=X as an argument.", UserWarning, stacklevel=_stacklevel)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return N.softmax(-input, dim)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Samples of the Gumbel-softmax distribution: ``softmax((logits + g) / tau)`` with Gumbel(0, 1) noise ``g``.

    With ``hard=True`` the result is one-hot (the argmax) in the forward pass and
    has the soft sample's gradient (the straight-through estimator).

    Example:
        >>> import tapegrad
        >>> y = tapegrad.nn.functional.gumbel_softmax(tapegrad.zeros(4, 3), hard=True)
        >>> y.sum(-1).tolist(), sorted(set(y.flatten().tolist()))
        ([1.0, 1.0, 1.0, 1.0], [0.0, 1.0])
    """
    _float("gumbel_softmax", logits)
    u = C.rand(*logits.shape, dtype=logits.dtype, device=logits.device)
    return _gumbel_softmax(logits, -U.log(-U.log(u)), tau, hard, dim)    # -log(Exponential(1)): Gumbel(0, 1)


def _gumbel_softmax(logits, gumbels, tau, hard, dim):
    """``gumbel_softmax`` given its noise (the op database runs it so on every device, with the CPU's draws)."""
    y_soft = N.softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    be = y_soft._backend
    a = y_soft._data
    d = dim + a.ndim if dim < 0 else dim
    idx = be.expand_dims(be.argmax(a, axis=d), d)
    onehot = be.astype(idx == be.reshape(be.arange(0, a.shape[d], 1, idx.dtype),
                                         tuple(a.shape[d] if i == d else 1 for i in range(a.ndim))), a.dtype)
    return Tensor._make(onehot, None) - y_soft.detach() + y_soft

