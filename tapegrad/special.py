"""``tapegrad.special``: PyTorch's ``torch.special`` names, over tapegrad's differentiable ops.

Each function calls the op it names (``expit`` is ``sigmoid``, ``gammaln`` is
``lgamma``, ``psi`` is ``digamma`` ...); those composed for this namespace
(``entr ndtr erfcx log_ndtr i0e i1 i1e``, and ``xlog1py``) are in
ops/special_fns.py (Note [special functions composed]). Every one has
gradients of every order, except ``polygamma(1, x)``'s second derivative.
Not here: the Bessel functions of the first and second kind (``bessel_j0``
...), the orthogonal polynomials, ``zeta``, ``gammainc``/``gammaincc``,
``ndtri``, ``airy_ai`` and ``spherical_bessel_j0``.
"""
from . import ops as _ops  # noqa: F401  (registers the ops)
from .ops import nn as _nn, pointwise as _pw, special as _sp, special_fns as _sf, statistics as _st, unary as _u

__all__ = ["expit", "logit", "erf", "erfc", "erfcx", "erfinv", "gammaln", "digamma", "psi", "polygamma",
           "multigammaln", "log1p", "expm1", "exp2", "xlogy", "xlog1py", "sinc", "entr", "logsumexp", "softmax",
           "log_softmax", "i0", "i0e", "i1", "i1e", "ndtr", "log_ndtr", "round"]


def expit(input):
    """The logistic sigmoid ``1 / (1 + exp(-x))`` (``tapegrad.sigmoid``).

    Example:
        >>> import tapegrad
        >>> tapegrad.special.expit(tapegrad.tensor([0.0]))
        tensor([0.5000])
    """
    return _u.sigmoid(input)


def logit(input, eps=None):
    """``log(p / (1 - p))``, ``p`` clamped to ``[eps, 1 - eps]`` first when ``eps`` is given.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.logit(tapegrad.tensor([0.5]))
        tensor([0.])
    """
    return _pw.logit(input, eps)


def erf(input):
    """The error function.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.erf(tapegrad.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8427])
    """
    return _u.erf(input)


def erfc(input):
    """The complementary error function ``1 - erf(x)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.erfc(tapegrad.tensor([0.0]))
        tensor([1.])
    """
    return _sp.erfc(input)


def erfcx(input):
    """The scaled complementary error function ``exp(x^2) erfc(x)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.erfcx(tapegrad.tensor([0.0]))
        tensor([1.])
    """
    return _sf.erfcx(input)


def erfinv(input):
    """The inverse error function on (-1, 1).

    Example:
        >>> import tapegrad
        >>> tapegrad.special.erfinv(tapegrad.tensor([0.0]))
        tensor([0.])
    """
    return _sp.erfinv(input)


def gammaln(input):
    """``log|gamma(x)|`` (``tapegrad.lgamma``).

    Example:
        >>> import tapegrad
        >>> tapegrad.special.gammaln(tapegrad.tensor([1.0, 5.0]))
        tensor([0.0000, 3.1781])
    """
    return _sp.lgamma(input)


def digamma(input):
    """``psi(x)``, the derivative of ``gammaln``.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.digamma(tapegrad.tensor([1.0]))
        tensor([-0.5772])
    """
    return _sp.digamma(input)


def psi(input):
    """``digamma``, under its other name.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.psi(tapegrad.tensor([1.0]))
        tensor([-0.5772])
    """
    return _sp.digamma(input)


def polygamma(n, input):
    """The ``n``-th derivative of ``digamma`` (``n`` = 0 or 1 in tapegrad; others raise).

    Example:
        >>> import tapegrad
        >>> tapegrad.special.polygamma(1, tapegrad.tensor([1.0]))
        tensor([1.6449])
    """
    return _sf.polygamma(n, input)


def multigammaln(input, p):
    """The multivariate log-gamma of dimension ``p`` (``tapegrad.mvlgamma``).

    Example:
        >>> import tapegrad
        >>> tapegrad.special.multigammaln(tapegrad.tensor([2.5]), 2)
        tensor([0.8570])
    """
    return _sf.mvlgamma(input, p)


def log1p(input):
    """``log(1 + x)``, accurate for small ``x``.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.log1p(tapegrad.tensor([0.0]))
        tensor([0.])
    """
    return _u.log1p(input)


def expm1(input):
    """``exp(x) - 1``, accurate for small ``x``.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.expm1(tapegrad.tensor([0.0]))
        tensor([0.])
    """
    return _u.expm1(input)


def exp2(input):
    """``2 ** x``.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.exp2(tapegrad.tensor([3.0]))
        tensor([8.])
    """
    return _sp.exp2(input)


def xlogy(input, other):
    """``input * log(other)``, 0 where ``input`` is 0 (unless ``other`` is nan).

    Example:
        >>> import tapegrad
        >>> tapegrad.special.xlogy(tapegrad.tensor([0.0, 2.0]), tapegrad.tensor([0.0, 1.0]))
        tensor([0., 0.])
    """
    return _pw.xlogy(input, other)


def xlog1py(input, other):
    """``input * log1p(other)``, 0 where ``input`` is 0 (unless ``other`` is nan).

    Example:
        >>> import tapegrad
        >>> tapegrad.special.xlog1py(tapegrad.tensor([0.0, 1.0]), tapegrad.tensor([-1.0, 0.0]))
        tensor([0., 0.])
    """
    return _sf.xlog1py(input, other)


def sinc(input):
    """The normalized sinc ``sin(pi x) / (pi x)``, 1 at 0.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.sinc(tapegrad.tensor([0.0]))
        tensor([1.])
    """
    return _sf.sinc(input)


def entr(input):
    """The elementwise entropy ``-x log x`` (0 at 0, -inf below 0).

    Example:
        >>> import tapegrad
        >>> tapegrad.special.entr(tapegrad.tensor([1.0]))
        tensor([-0.])
    """
    return _sf.entr(input)


def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(input), dim))`` without overflow.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.logsumexp(tapegrad.tensor([0.0, 0.0]), 0)
        tensor(0.6931)
    """
    return _st.logsumexp(input, dim, keepdim)


def softmax(input, dim, dtype=None):
    """The softmax along ``dim`` (computed in ``dtype`` when given).

    Example:
        >>> import tapegrad
        >>> tapegrad.special.softmax(tapegrad.tensor([0.0, 0.0]), 0)
        tensor([0.5000, 0.5000])
    """
    return _nn.softmax(input, dim, dtype)


def log_softmax(input, dim, dtype=None):
    """The log of the softmax along ``dim``, computed stably (in ``dtype`` when given).

    Example:
        >>> import tapegrad
        >>> tapegrad.special.log_softmax(tapegrad.tensor([0.0, 0.0]), 0)
        tensor([-0.6931, -0.6931])
    """
    return _nn.log_softmax(input, dim, dtype)


def i0(input):
    """The modified Bessel function of the first kind of order 0.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.i0(tapegrad.tensor([0.0]))
        tensor([1.])
    """
    return _sf.i0(input)


def i0e(input):
    """``exp(-|x|) * i0(x)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.i0e(tapegrad.tensor([0.0]))
        tensor([1.])
    """
    return _sf.i0e(input)


def i1(input):
    """The modified Bessel function of the first kind of order 1.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.i1(tapegrad.tensor([0.0]))
        tensor([0.])
    """
    return _sf.i1(input)


def i1e(input):
    """``exp(-|x|) * i1(x)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.i1e(tapegrad.tensor([0.0]))
        tensor([0.])
    """
    return _sf.i1e(input)


def ndtr(input):
    """The standard normal distribution function ``P(Z <= x)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.ndtr(tapegrad.tensor([0.0]))
        tensor([0.5000])
    """
    return _sf.ndtr(input)


def log_ndtr(input):
    """``log(ndtr(x))``, finite far into the left tail.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.log_ndtr(tapegrad.tensor([0.0]))
        tensor([-0.6931])
    """
    return _sf.log_ndtr(input)


def round(input, *, decimals=0):  # noqa: A001
    """Round half to even to ``decimals`` decimal places (negative: to tens, hundreds ...); gradient zero.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.round(tapegrad.tensor([1.25, 1234.0]), decimals=1)
        tensor([1.2000e+00, 1.2340e+03])
    """
    if decimals == 0:
        return _u.round(input)
    scale = 10.0 ** abs(decimals)
    if decimals > 0:
        return _u.round(input * scale) / scale
    return _u.round(input / scale) * scale
