"""Unary elementwise math and activations: exp, log, sqrt, trig, tanh, sigmoid, relu, gelu, rounding.

Each op's forward and VJP sit together (ops/registry.py, Note [two-mode VJPs]).
"""
import math

from .registry import op, apply
from . import _jvp

def _unary(name, fwd_name, save, vjp, doc, promote="float", math=True):
    """Declare a unary op whose forward is one backend call (``math``: its graph-mode name, as ``op``'s).

    ``fwd_name`` names the backend method, or is the forward itself (``lambda be, x: be.sinh(x)``).
    """
    if callable(fwd_name):
        f = fwd_name
    else:
        def f(be, x):
            return getattr(be, fwd_name)(x)
    f.__name__ = name
    f.__doc__ = doc
    d = op(name, save=save, promote=promote, tensors=1, math=math)(f)
    if vjp is not None:
        d.vjp(vjp)
    return d


def _doc(name, example, result):
    return f"""Elementwise ``{name}``.

    Example:
        >>> import tapegrad
        >>> tapegrad.{name}(tapegrad.tensor({example}))
        {result}
    """


exp = _unary("exp", "exp", "out", lambda F, ctx, g, out: g * out, _doc("exp", "[0.0]", "tensor([1.])"))
log = _unary("log", "log", "x", lambda F, ctx, g, x: g / x, _doc("log", "[1.0]", "tensor([0.])"))
log1p = _unary("log1p", "log1p", "x", lambda F, ctx, g, x: g / (1 + x), _doc("log1p", "[0.0]", "tensor([0.])"))
expm1 = _unary("expm1", "expm1", "out", lambda F, ctx, g, out: g * (out + 1),
               _doc("expm1", "[0.0]", "tensor([0.])"))
sqrt = _unary("sqrt", "sqrt", "out", lambda F, ctx, g, out: g / (2 * out), _doc("sqrt", "[4.0]", "tensor([2.])"))
abs = _unary("abs", "abs", "x", lambda F, ctx, g, x: g * F.sign(x), _doc("abs", "[-2.0]", "tensor([2.])"),  # noqa: A001
             promote="all")
sin = _unary("sin", "sin", "x", lambda F, ctx, g, x: g * F.cos(x), _doc("sin", "[0.0]", "tensor([0.])"))
cos = _unary("cos", "cos", "x", lambda F, ctx, g, x: -g * F.sin(x), _doc("cos", "[0.0]", "tensor([1.])"))
tan = _unary("tan", "tan", "out", lambda F, ctx, g, out: g * (1 + out * out), _doc("tan", "[0.0]", "tensor([0.])"))
tanh = _unary("tanh", "tanh", "out", lambda F, ctx, g, out: g * (1 - out * out), _doc("tanh", "[0.0]", "tensor([0.])"))
sigmoid = _unary("sigmoid", "sigmoid", "out", lambda F, ctx, g, out: g * (out * (1 - out)),
                 _doc("sigmoid", "[0.0]", "tensor([0.5000])"))
reciprocal = _unary("reciprocal", "reciprocal", "out", lambda F, ctx, g, out: -g * out * out,
                    _doc("reciprocal", "[2.0]", "tensor([0.5000])"))
square = _unary("square", "square", "x", lambda F, ctx, g, x: 2 * g * x, _doc("square", "[3.0]", "tensor([9.])"),
                promote="all")
erf = _unary("erf", "erf", "x", lambda F, ctx, g, x: g * (2 / math.sqrt(math.pi)) * F.exp(-x * x),
             _doc("erf", "[0.0]", "tensor([0.])"))
sign = _unary("sign", "sign", (), lambda F, ctx, g: g * 0, _doc("sign", "[-2.0, 3.0]", "tensor([-1.,  1.])"),
              promote="all")
for _d in (exp, log, log1p, expm1, sqrt, abs, sin, cos, tan, tanh, sigmoid, reciprocal, square, erf, sign):
    _d.jvp(_jvp.diagonal(_d))           # elementwise: the JVP is the VJP of the tangent (ops/_jvp.py)


@op("rsqrt", save="out", promote="float", tensors=1)
def rsqrt(be, x):
    """Forward of ``rsqrt``: ``1 / sqrt(x)``."""
    return 1 / be.sqrt(x)


@rsqrt.vjp
def _(F, ctx, g, out):
    return -0.5 * g * out * out * out


rsqrt.jvp(_jvp.diagonal(rsqrt))


@op("relu", save="out", promote="all", tensors=1)
def relu(be, x):
    """Forward of ``relu``: ``max(0, x)`` (a tie gives x, so relu(-0.0) is -0.0 as in PyTorch)."""
    return be.maximum(0, x)


@relu.vjp
def _(F, ctx, g, out):
    return g * (out > 0)


relu.jvp(_jvp.diagonal(relu))


# Non-differentiable rounding ops (their derivative is zero almost everywhere).
@op("floor", promote="all", tensors=1)
def floor(be, x):
    """Forward of ``floor``."""
    return be.floor(x)


@floor.vjp
def _(F, ctx, g):
    return g * 0


floor.jvp(_jvp.diagonal(floor))


@op("ceil", promote="all", tensors=1)
def ceil(be, x):
    """Forward of ``ceil``."""
    return be.ceil(x)


@ceil.vjp
def _(F, ctx, g):
    return g * 0


ceil.jvp(_jvp.diagonal(ceil))


@op("round", promote="all", tensors=1)
def round(be, x):  # noqa: A001
    """Forward of ``round`` (half to even)."""
    return be.round(x)


@round.vjp
def _(F, ctx, g):
    return g * 0


round.jvp(_jvp.diagonal(round))


def gelu(input, approximate="none"):
    """Gaussian error linear unit; ``approximate="tanh"`` for the tanh approximation.

    Composed of other ops, so it needs no VJP of its own.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.gelu(tapegrad.tensor([0.0]))
        tensor([0.])
    """
    if approximate == "none":
        return input * 0.5 * (1 + apply(erf_op, input * (1 / math.sqrt(2))))
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (input + 0.044715 * input * input * input)
        return 0.5 * input * (1 + apply(tanh_op, inner))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


# Note [public functions]
# The declarations above bind each op's name to its OpDef while its VJP attaches.
# From here on the public name is a plain function with its own signature,
# docstring and doctest, and the OpDef keeps the name ``<op>_op`` that ``apply``
# takes (as add_op, sum_op, reshape_op do in the other families). Tensor methods
# are bound from these functions in _tensor_methods.py.
(exp_op, log_op, log1p_op, expm1_op, sqrt_op, rsqrt_op, abs_op,
 sign_op, sin_op, cos_op, tan_op, tanh_op, sigmoid_op, relu_op,
 reciprocal_op, square_op, erf_op, floor_op, ceil_op, round_op) = (
    exp, log, log1p, expm1, sqrt, rsqrt, abs,
    sign, sin, cos, tan, tanh, sigmoid, relu,
    reciprocal, square, erf, floor, ceil, round)


def exp(input):
    """``e`` raised to each element of ``input``.

    Example:
        >>> import tapegrad
        >>> tapegrad.exp(tapegrad.tensor([0.0, 1.0]))
        tensor([1.0000, 2.7183])
    """
    return apply(exp_op, input)


def log(input):
    """Natural logarithm of each element.

    Example:
        >>> import tapegrad
        >>> tapegrad.log(tapegrad.tensor([1.0, 2.0]))
        tensor([0.0000, 0.6931])
    """
    return apply(log_op, input)


def log1p(input):
    """``log(1 + x)`` elementwise, accurate for small ``x``.

    Example:
        >>> import tapegrad
        >>> tapegrad.log1p(tapegrad.tensor([0.0, 1e-8]))
        tensor([0.0000e+00, 1.0000e-08])
    """
    return apply(log1p_op, input)


def expm1(input):
    """``exp(x) - 1`` elementwise, accurate for small ``x``.

    Example:
        >>> import tapegrad
        >>> tapegrad.expm1(tapegrad.tensor([0.0, 1e-8]))
        tensor([0.0000e+00, 1.0000e-08])
    """
    return apply(expm1_op, input)


def sqrt(input):
    """Square root of each element.

    Example:
        >>> import tapegrad
        >>> tapegrad.sqrt(tapegrad.tensor([4.0, 9.0]))
        tensor([2., 3.])
    """
    return apply(sqrt_op, input)


def rsqrt(input):
    """Reciprocal of the square root of each element, ``1 / sqrt(x)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.rsqrt(tapegrad.tensor([4.0, 0.25]))
        tensor([0.5000, 2.0000])
    """
    return apply(rsqrt_op, input)


def abs(input):  # noqa: A001
    """Absolute value of each element (also ``abs(t)``).

    Example:
        >>> import tapegrad
        >>> tapegrad.abs(tapegrad.tensor([-2.0, 3.0]))
        tensor([2., 3.])
    """
    return apply(abs_op, input)


def sign(input):
    """Sign of each element: -1, 0 or 1 (gradient zero).

    Example:
        >>> import tapegrad
        >>> tapegrad.sign(tapegrad.tensor([-2.0, 0.0, 3.0]))
        tensor([-1.,  0.,  1.])
    """
    return apply(sign_op, input)


def sin(input):
    """Sine of each element (radians).

    Example:
        >>> import tapegrad
        >>> tapegrad.sin(tapegrad.tensor([0.0]))
        tensor([0.])
    """
    return apply(sin_op, input)


def cos(input):
    """Cosine of each element (radians).

    Example:
        >>> import tapegrad
        >>> tapegrad.cos(tapegrad.tensor([0.0]))
        tensor([1.])
    """
    return apply(cos_op, input)


def tan(input):
    """Tangent of each element (radians).

    Example:
        >>> import tapegrad
        >>> tapegrad.tan(tapegrad.tensor([0.0]))
        tensor([0.])
    """
    return apply(tan_op, input)


def tanh(input):
    """Hyperbolic tangent of each element.

    Example:
        >>> import tapegrad
        >>> tapegrad.tanh(tapegrad.tensor([0.0, 100.0]))
        tensor([0., 1.])
    """
    return apply(tanh_op, input)


def sigmoid(input):
    """Logistic sigmoid ``1 / (1 + exp(-x))`` of each element.

    Example:
        >>> import tapegrad
        >>> tapegrad.sigmoid(tapegrad.tensor([0.0]))
        tensor([0.5000])
    """
    return apply(sigmoid_op, input)


def relu(input):
    """Rectified linear unit, ``max(x, 0)`` elementwise.

    Example:
        >>> import tapegrad
        >>> tapegrad.relu(tapegrad.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    return apply(relu_op, input)


def reciprocal(input):
    """``1 / x`` elementwise.

    Example:
        >>> import tapegrad
        >>> tapegrad.reciprocal(tapegrad.tensor([2.0, 4.0]))
        tensor([0.5000, 0.2500])
    """
    return apply(reciprocal_op, input)


def square(input):
    """``x * x`` elementwise.

    Example:
        >>> import tapegrad
        >>> tapegrad.square(tapegrad.tensor([3.0, -2.0]))
        tensor([9., 4.])
    """
    return apply(square_op, input)


def erf(input):
    """Gauss error function of each element.

    Example:
        >>> import tapegrad
        >>> tapegrad.erf(tapegrad.tensor([0.0]))
        tensor([0.])
    """
    return apply(erf_op, input)


def floor(input):
    """Largest integer not greater than each element (gradient zero).

    Example:
        >>> import tapegrad
        >>> tapegrad.floor(tapegrad.tensor([1.5, -1.5]))
        tensor([ 1., -2.])
    """
    return apply(floor_op, input)


def ceil(input):
    """Smallest integer not less than each element (gradient zero).

    Example:
        >>> import tapegrad
        >>> tapegrad.ceil(tapegrad.tensor([1.5, -1.5]))
        tensor([ 2., -1.])
    """
    return apply(ceil_op, input)


def round(input):  # noqa: A001
    """Each element rounded to the nearest integer, half to even (gradient zero).

    Example:
        >>> import tapegrad
        >>> tapegrad.round(tapegrad.tensor([1.4, 2.5]))
        tensor([1., 2.])
    """
    return apply(round_op, input)


__all__ = ["exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "abs", "sign", "sin", "cos", "tan", "tanh", "sigmoid",
           "relu", "gelu", "reciprocal", "square", "erf", "floor", "ceil", "round"]
METHODS = {n: globals()[n] for n in __all__ if n != "gelu"}
