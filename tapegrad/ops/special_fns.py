"""Special functions composed of recorded ops: ``sinc i0 polygamma mvlgamma`` (also Tensor methods) and
``xlog1py entr ndtr erfcx log_ndtr i0e i1 i1e`` (for ``tapegrad.special``).

# Note [special functions composed]
Each is composed of ops that already have VJPs, so every order of derivative
comes free; where a formula has a removable singularity or two regimes, the
input of each branch is first replaced where the other branch is taken (the
"double where"), so the branch not taken never sees a value whose derivative
is inf or nan (0 * inf would poison the gradient through ``where``).
``i0 i0e i1 i1e`` are the power series ``(x/2)^nu sum (x^2/4)^k / (k! (k+nu)!)``
(Horner, 46 terms: all positive, so no cancellation) for ``|x| <= 30`` and the
asymptotic series ``e^|x| / sqrt(2 pi |x|) * sum (-1)^k a_k(nu) / |x|^k`` above,
both to float64 rounding. ``erfcx`` is ``exp(x^2) erfc(x)`` below 10 and its
asymptotic series above; ``log_ndtr`` uses it for negative inputs, where
``ndtr`` underflows. ``xlog1py`` is the one primitive: ``x * log1p(y)`` with
PyTorch's gradients at ``x == 0`` (the twin of ``xlogy`` in ops/pointwise.py).
"""
import math

from .registry import op, apply
from . import _jvp
from . import comparison as C
from . import elementwise as E
from . import unary as U
from . import special as S

__all__ = ["sinc", "i0", "polygamma", "mvlgamma"]

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2 = math.sqrt(2.0)
_I_SERIES = ([1.0], [1.0])              # per nu: 1 / (k! (k + nu)!)
_I_ASYMPTOTIC = ([1.0], [1.0])          # per nu: (-1)^k prod_{j <= k} (4 nu^2 - (2j-1)^2) / (k! 8^k)
for _nu in (0, 1):
    for _k in range(1, 46):
        _I_SERIES[_nu].append(_I_SERIES[_nu][-1] / (_k * (_k + _nu)))
    for _k in range(1, 30):
        _I_ASYMPTOTIC[_nu].append(-_I_ASYMPTOTIC[_nu][-1] * (4 * _nu * _nu - (2 * _k - 1) ** 2) / (8 * _k))
_ERFCX_ASYMPTOTIC = [1.0]                 # (-1)^k (2k-1)!! / 2^k
for _k in range(1, 16):
    _ERFCX_ASYMPTOTIC.append(-_ERFCX_ASYMPTOTIC[-1] * (2 * _k - 1) / 2)


def _float(input):
    return input if input.dtype.is_floating_point else input * 1.0


def _horner(coeffs, t):
    """``sum coeffs[k] * t**k``, innermost first."""
    acc = coeffs[-1] + t * 0
    for c in reversed(coeffs[:-1]):
        acc = acc * t + c
    return acc


@op("xlog1py", save=("a", "b"), promote="float", tensors=2, math=None)
def xlog1py_op(be, a, b):
    """Forward of ``special.xlog1py``: ``a * log1p(b)``, 0 where ``a == 0`` and ``b`` is not nan."""
    return be.where(be.logical_and(a == 0, be.logical_not(be.isnan(b))), 0.0, a * be.log1p(b))


@xlog1py_op.vjp
def _(F, ctx, g, a, b):
    # PyTorch's formulas: d/da = log1p(b), but 0 where a == 0 and b <= -1; d/db = a / (1 + b)
    n = ctx.needs
    ga = F.where(F.logical_and(a == 0, b <= -1), 0.0, g * F.log1p(b)) if n[0] else None
    return ga, (g * a / (b + 1) if n[1] else None)


xlog1py_op.jvp(_jvp.diagonal(xlog1py_op))   # elementwise: the VJP applied to each tangent (ops/_jvp.py)


def xlog1py(input, other):
    """``input * log1p(other)``, and 0 where ``input`` is 0 (unless ``other`` is nan), as ``torch.special``'s.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.xlog1py(tapegrad.tensor([0.0, 2.0]), tapegrad.tensor([-1.0, 1e-10]))
        tensor([0.0000e+00, 2.0000e-10])
    """
    return apply(xlog1py_op, input, other)


def sinc(input):
    """The normalized sinc ``sin(pi x) / (pi x)``, 1 at 0 (gradient 0 there), as ``torch.sinc``.

    Example:
        >>> import tapegrad
        >>> tapegrad.sinc(tapegrad.tensor([0.0, 0.5, 1.0])).tolist()[:2]
        [1.0, 0.6366197466850281]
    """
    x = _float(input)
    zero = C.eq(x, 0)
    px = E.where(zero, 1.0, x) * math.pi                 # Note [special functions composed]: the double where
    return E.where(zero, 1.0, U.sin(px) / px)


def _bessel_i(nu, input, scaled):
    """``I_nu(x)`` (``nu`` 0 or 1), times ``exp(-|x|)`` when ``scaled`` (Note [special functions composed])."""
    x = _float(input)
    ax = U.abs(x)
    small = C.le(ax, 30.0)
    xs = E.where(small, x, 0.0)
    series = _horner(_I_SERIES[nu], xs * xs / 4)
    if nu:
        series = series * xs / 2
    if scaled:
        series = series * U.exp(-U.abs(xs))
    xa = E.where(small, 31.0, ax)
    big = _horner(_I_ASYMPTOTIC[nu], 1 / xa)
    big = big * U.rsqrt(xa * (2 * math.pi)) if scaled else big * U.exp(xa - 0.5 * U.log(xa * (2 * math.pi)))
    if nu:
        big = big * U.sign(E.where(small, 1.0, x))            # I_1 is odd
    return E.where(small, series, big)


def i0(input):
    """The modified Bessel function of the first kind of order 0, as ``torch.i0`` (Note [special functions
    composed]).

    Example:
        >>> import tapegrad
        >>> tapegrad.i0(tapegrad.tensor([0.0, 1.0, -2.0]))
        tensor([1.0000, 1.2661, 2.2796])
    """
    return _bessel_i(0, input, False)


def i0e(input):
    """``exp(-|x|) * i0(x)``, finite for every ``x``, as ``torch.special.i0e``.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.i0e(tapegrad.tensor([0.0, 1000.0]))
        tensor([1.0000, 0.0126])
    """
    return _bessel_i(0, input, True)


def i1(input):
    """The modified Bessel function of the first kind of order 1, as ``torch.special.i1``.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.i1(tapegrad.tensor([0.0, 1.0, -2.0]))
        tensor([ 0.0000,  0.5652, -1.5906])
    """
    return _bessel_i(1, input, False)


def i1e(input):
    """``exp(-|x|) * i1(x)``, as ``torch.special.i1e``.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.i1e(tapegrad.tensor([1.0, -1000.0]))
        tensor([ 0.2079, -0.0126])
    """
    return _bessel_i(1, input, True)


def polygamma(n, input):
    """The ``n``-th derivative of ``digamma``, as ``torch.polygamma``; tapegrad has ``n = 0`` and ``n = 1``.

    Args:
        n: the order: 0 is ``digamma``, 1 the trigamma function (first derivatives only: the
            derivative of ``polygamma(1, x)`` is ``polygamma(2, x)``, which raises).
        input: the tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.polygamma(1, tapegrad.tensor([1.0, 2.0]))
        tensor([1.6449, 0.6449])
    """
    n = int(n)
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n (got n={n})")
    if n == 0:
        return S.digamma(input)
    if n == 1:
        return apply(S.trigamma_op, input)
    raise NotImplementedError(f"polygamma: order n={n} is not implemented in tapegrad (n = 0, digamma, and n = 1, "
                              f"trigamma, are); input {input.dtype} of shape {tuple(input.shape)}")


def _polygamma_method(input, n):
    """``polygamma(n, self)``: the ``n``-th derivative of ``digamma`` (``n`` = 0 or 1 in tapegrad).

    Example:
        >>> import tapegrad
        >>> tapegrad.tensor([1.0]).polygamma(0)
        tensor([-0.5772])
    """
    return polygamma(n, input)


def mvlgamma(input, p):
    """The multivariate log-gamma of dimension ``p``, as ``torch.mvlgamma`` (``special.multigammaln``).

    ``sum_{j < p} lgamma(x - j / 2) + p (p - 1) / 4 * log(pi)``, defined for ``x > (p - 1) / 2``; like
    PyTorch 2.13, elements below are not refused (the formula's value is returned).

    Example:
        >>> import tapegrad
        >>> tapegrad.mvlgamma(tapegrad.tensor([2.5]), 2)
        tensor([0.8570])
    """
    if p < 1:
        raise RuntimeError(f"mvlgamma: p has to be greater than or equal to 1, got p={p}")
    x = _float(input)
    out = S.lgamma(x)
    for j in range(1, p):
        out = out + S.lgamma(x - j / 2)
    return out + p * (p - 1) / 4 * math.log(math.pi)


def entr(input):
    """The elementwise entropy ``-x log x`` (0 at 0, -inf below), as ``torch.special.entr``.

    Gradients agree with PyTorch's for ``x > 0``; at ``x <= 0`` they are 0 (PyTorch's are inf and nan).

    Example:
        >>> import tapegrad
        >>> tapegrad.special.entr(tapegrad.tensor([0.5, 0.0, -1.0]))
        tensor([0.3466, 0.0000,   -inf])
    """
    x = _float(input)
    pos = C.gt(x, 0)
    xs = E.where(pos, x, 1.0)
    out = E.where(pos, -xs * U.log(xs), E.where(C.eq(x, 0), 0.0, -math.inf))
    return E.where(C.isnan(x), x, out)


def ndtr(input):
    """The standard normal distribution function ``P(Z <= x)``, as ``torch.special.ndtr``.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.ndtr(tapegrad.tensor([0.0, 1.0]))
        tensor([0.5000, 0.8413])
    """
    return 0.5 * S.erfc(_float(input) * (-1 / _SQRT_2))


def erfcx(input):
    """The scaled complementary error function ``exp(x^2) erfc(x)``, as ``torch.special.erfcx``.

    Finite where ``erfc`` underflows (large ``x``): its asymptotic series is used above 10.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.erfcx(tapegrad.tensor([0.0, 1.0, 100.0]))
        tensor([1.0000, 0.4276, 0.0056])
    """
    x = _float(input)
    small = C.lt(x, 10.0)
    xs = E.where(small, x, 0.0)
    direct = U.exp(xs * xs) * S.erfc(xs)
    xa = E.where(small, 10.0, x)
    asymptotic = _horner(_ERFCX_ASYMPTOTIC, 1 / (xa * xa)) / (xa * _SQRT_PI)
    return E.where(small, direct, asymptotic)


def log_ndtr(input):
    """``log(ndtr(x))``, finite far into the left tail, as ``torch.special.log_ndtr``.

    Example:
        >>> import tapegrad
        >>> tapegrad.special.log_ndtr(tapegrad.tensor([0.0, -40.0]))
        tensor([-6.9315e-01, -8.0461e+02])
    """
    x = _float(input)
    neg = C.lt(x, 0)
    xn = E.where(neg, x, 0.0)       # left: log(erfcx(-x / sqrt 2) / 2) - x^2 / 2, no underflow
    left = U.log(erfcx(xn * (-1 / _SQRT_2)) * 0.5) - xn * xn / 2
    xp = E.where(neg, 0.0, x)
    right = U.log1p(-0.5 * S.erfc(xp * (1 / _SQRT_2)))
    return E.where(neg, left, right)


METHODS = {"sinc": sinc, "i0": i0, "polygamma": _polygamma_method, "mvlgamma": mvlgamma}
