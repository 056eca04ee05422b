"""Hyperbolic and inverse trigonometric functions, logarithms of other bases, and special functions.

``sinh cosh asin acos atan asinh acosh atanh log2 log10 exp2 trunc erfc erfinv
lgamma digamma`` (with NumPy's ``arc*`` names and ``fix`` as aliases): each is
one backend ufunc with a one-line VJP, declared together below. ``trunc`` has
gradient zero; ``digamma``'s VJP is ``polygamma(1, x)`` (the ``trigamma``
primitive), whose own derivative is not implemented (it raises, naming it).
"""
import math

from .registry import op, apply
from .unary import _unary
from ._alias import alias
from . import _jvp

_SQRT_PI_2 = math.sqrt(math.pi) / 2
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)

sinh_op = _unary("sinh", lambda be, x: be.sinh(x), "x",
                 lambda F, ctx, g, x: g * F.cosh(x), "Forward of ``sinh``.")
cosh_op = _unary("cosh", lambda be, x: be.cosh(x), "x",
                 lambda F, ctx, g, x: g * F.sinh(x), "Forward of ``cosh``.")
asin_op = _unary("asin", lambda be, x: be.arcsin(x), "x",
                 lambda F, ctx, g, x: g * (1 / F.sqrt(1 - x * x)), "Forward of ``asin``.",
                 math="arcsin")
acos_op = _unary("acos", lambda be, x: be.arccos(x), "x",
                 lambda F, ctx, g, x: -g * (1 / F.sqrt(1 - x * x)), "Forward of ``acos``.",
                 math="arccos")
atan_op = _unary("atan", lambda be, x: be.arctan(x), "x",
                 lambda F, ctx, g, x: g / (1 + x * x), "Forward of ``atan``.",
                 math="arctan")
asinh_op = _unary("asinh", lambda be, x: be.arcsinh(x), "x",
                  lambda F, ctx, g, x: g * (1 / F.sqrt(x * x + 1)), "Forward of ``asinh``.",
                  math="arcsinh")
acosh_op = _unary("acosh", lambda be, x: be.arccosh(x), "x",
                  lambda F, ctx, g, x: g * (1 / F.sqrt(x * x - 1)), "Forward of ``acosh``.",
                  math="arccosh")
atanh_op = _unary("atanh", lambda be, x: be.arctanh(x), "x",
                  lambda F, ctx, g, x: g / (1 - x * x), "Forward of ``atanh``.",
                  math="arctanh")
log2_op = _unary("log2", lambda be, x: be.log2(x), "x",
                 lambda F, ctx, g, x: g / (x * math.log(2)), "Forward of ``log2``.")
log10_op = _unary("log10", lambda be, x: be.log10(x), "x",
                  lambda F, ctx, g, x: g / (x * math.log(10)), "Forward of ``log10``.")
exp2_op = _unary("exp2", lambda be, x: be.exp2(x), "out",
                 lambda F, ctx, g, out: g * out * math.log(2), "Forward of ``exp2``.")
erfc_op = _unary("erfc", lambda be, x: be.erfc(x), "x",
                 lambda F, ctx, g, x: -_TWO_OVER_SQRT_PI * g * F.exp(-x * x),
                 "Forward of ``erfc``.")
erfinv_op = _unary("erfinv", lambda be, x: be.erfinv(x), "out",
                   lambda F, ctx, g, out: _SQRT_PI_2 * g * F.exp(out * out),
                   "Forward of ``erfinv``.")
lgamma_op = _unary("lgamma", lambda be, x: be.lgamma(x), "x",
                   lambda F, ctx, g, x: g * F.digamma(x), "Forward of ``lgamma``.")
digamma_op = _unary("digamma", lambda be, x: be.digamma(x), "x",
                    lambda F, ctx, g, x: g * F.trigamma(x), "Forward of ``digamma``.")
for _d in (sinh_op, cosh_op, asin_op, acos_op, atan_op, asinh_op, acosh_op, atanh_op, log2_op, log10_op, exp2_op,
           erfc_op, erfinv_op, lgamma_op, digamma_op):
    _d.jvp(_jvp.diagonal(_d))           # elementwise: the JVP is the VJP of the tangent (ops/_jvp.py)


@op("trigamma", save="x", promote="float", tensors=1)
def trigamma_op(be, x):
    """Forward of ``polygamma(1, x)`` (digamma's derivative)."""
    return be.trigamma(x)


@trigamma_op.vjp
def _(F, ctx, g, x):
    raise NotImplementedError("the derivative of polygamma(1, x) (digamma's second derivative, polygamma(2, x)) "
                              "is not implemented in tapegrad")


trigamma_op.jvp(_jvp.diagonal(trigamma_op))


@op("trunc", promote="all", tensors=1)
def trunc_op(be, x):
    """Forward of ``trunc`` (toward zero; integers unchanged)."""
    return be.trunc(x)


@trunc_op.vjp
def _(F, ctx, g):
    return g * 0


trunc_op.jvp(_jvp.diagonal(trunc_op))


def _public(name, opdef, summary, example, result):
    def f(input):
        return apply(opdef, input)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"""{summary}

    Example:
        >>> import tapegrad
        >>> tapegrad.{name}(tapegrad.tensor({example}))
        {result}
    """
    return f


sinh = _public("sinh", sinh_op, "Hyperbolic sine of each element.", "[0.0, 1.0]", "tensor([0.0000, 1.1752])")
cosh = _public("cosh", cosh_op, "Hyperbolic cosine of each element.", "[0.0, 1.0]", "tensor([1.0000, 1.5431])")
asin = _public("asin", asin_op, "Inverse sine of each element (nan outside [-1, 1]).", "[0.0, 1.0]",
               "tensor([0.0000, 1.5708])")
acos = _public("acos", acos_op, "Inverse cosine of each element (nan outside [-1, 1]).", "[1.0, 0.0]",
               "tensor([0.0000, 1.5708])")
atan = _public("atan", atan_op, "Inverse tangent of each element.", "[0.0, 1.0]", "tensor([0.0000, 0.7854])")
asinh = _public("asinh", asinh_op, "Inverse hyperbolic sine of each element.", "[0.0, 1.0]",
                "tensor([0.0000, 0.8814])")
acosh = _public("acosh", acosh_op, "Inverse hyperbolic cosine of each element (nan below 1).", "[1.0, 2.0]",
                "tensor([0.0000, 1.3170])")
atanh = _public("atanh", atanh_op, "Inverse hyperbolic tangent of each element (+-inf at +-1).", "[0.0, 0.5]",
                "tensor([0.0000, 0.5493])")
log2 = _public("log2", log2_op, "Base-2 logarithm of each element (exact at powers of two).", "[1.0, 8.0]",
               "tensor([0., 3.])")
log10 = _public("log10", log10_op, "Base-10 logarithm of each element.", "[1.0, 10.0]", "tensor([0., 1.])")
exp2 = _public("exp2", exp2_op, "``2 ** x`` for each element.", "[0.0, 3.0]", "tensor([1., 8.])")
trunc = _public("trunc", trunc_op, "Each element rounded toward zero (gradient zero).", "[-1.5, 2.7]",
                "tensor([-1.,  2.])")
erfc = _public("erfc", erfc_op, "Complementary error function ``1 - erf(x)``, accurate where erf is near 1.",
               "[0.0, 5.0]", "tensor([1.0000e+00, 1.5375e-12])")
erfinv = _public("erfinv", erfinv_op, "Inverse error function on (-1, 1) (+-inf at +-1, nan outside).",
                 "[0.0, 0.5]", "tensor([0.0000, 0.4769])")
lgamma = _public("lgamma", lgamma_op, "``log|gamma(x)|`` of each element (inf at 0 and the negative integers).",
                 "[1.0, 5.0]", "tensor([0.0000, 3.1781])")
digamma = _public("digamma", digamma_op, "``psi(x)``, the derivative of ``lgamma`` (-inf at 0, nan at negative "
                  "integers).", "[1.0, 2.0]", "tensor([-0.5772,  0.4228])")

arcsin = alias(asin, "arcsin", "tapegrad.arcsin(tapegrad.tensor([0.0]))", "tensor([0.])")
arccos = alias(acos, "arccos", "tapegrad.arccos(tapegrad.tensor([1.0]))", "tensor([0.])")
arctan = alias(atan, "arctan", "tapegrad.arctan(tapegrad.tensor([0.0]))", "tensor([0.])")
arcsinh = alias(asinh, "arcsinh", "tapegrad.arcsinh(tapegrad.tensor([0.0]))", "tensor([0.])")
arccosh = alias(acosh, "arccosh", "tapegrad.arccosh(tapegrad.tensor([1.0]))", "tensor([0.])")
arctanh = alias(atanh, "arctanh", "tapegrad.arctanh(tapegrad.tensor([0.0]))", "tensor([0.])")
fix = alias(trunc, "fix", "tapegrad.fix(tapegrad.tensor([-1.5]))", "tensor([-1.])")

__all__ = ["sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "arcsin", "arccos", "arctan",
           "arcsinh", "arccosh", "arctanh", "log2", "log10", "exp2", "trunc", "fix", "erfc", "erfinv", "lgamma",
           "digamma"]
METHODS = {n: globals()[n] for n in __all__}
