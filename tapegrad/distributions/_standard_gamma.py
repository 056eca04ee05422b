"""Standard gamma draws with an implicit reparameterisation gradient (what ``Gamma.rsample`` uses).

# Note [implicit gamma gradient]
A draw is made by Marsaglia and Tsang's rejection method (2000): for ``a >= 1``, ``d = a - 1/3``,
``c = 1 / sqrt(9 d)``, propose ``v = (1 + c z)^3`` with ``z ~ N(0, 1)`` and accept when
``log u < z^2 / 2 + d - d v + d log v``; for ``a < 1`` a draw at ``a + 1`` is scaled by ``u^(1/a)``.
Rejection has no useful pathwise derivative, so, as PyTorch does, the gradient is the implicit one
(Figurnov et al. 2018): holding the CDF ``P(a, x)`` (the regularised lower incomplete gamma function)
fixed, ``dx/da = -(dP/da) / p(x; a)``. ``P`` is evaluated with its power series when ``x < a + 1`` and
its continued fraction (modified Lentz) otherwise, in float64, and ``dP/da`` by a central difference in
``a`` (relative step 1e-5, error far below float32 resolution). PyTorch evaluates the same derivative
with fitted approximations (``torch._standard_gamma_grad``); tests compare the two.

Example:
    >>> import tapegrad as torch
    >>> _ = torch.manual_seed(0)
    >>> standard_gamma(torch.tensor([2.0, 3.0])).shape
    tapegrad.Size([2])
"""
import tapegrad
from tapegrad.autograd import Function

__all__ = ["standard_gamma", "standard_gamma_grad"]

_MAX_ITERS = 4000


def _marsaglia_tsang(alpha):
    """One gamma(alpha, 1) draw per element of ``alpha`` (no gradient)."""
    boost = alpha < 1
    a = tapegrad.where(boost, alpha + 1, alpha)
    d = a - 1.0 / 3.0
    c = 1.0 / (9.0 * d).sqrt()
    out = tapegrad.zeros_like(alpha)
    done = tapegrad.zeros_like(alpha).bool()
    while not bool(done.all()):
        z = tapegrad.randn(*alpha.shape, dtype=alpha.dtype, device=alpha.device)
        u = tapegrad.rand(*alpha.shape, dtype=alpha.dtype, device=alpha.device)
        v = (1 + c * z) ** 3
        safe_v = tapegrad.where(v > 0, v, tapegrad.ones_like(v))
        accept = (v > 0) & (u.log() < 0.5 * z * z + d - d * safe_v + d * safe_v.log()) & ~done
        out = tapegrad.where(accept, d * safe_v, out)
        done = done | accept
    u = tapegrad.rand(*alpha.shape, dtype=alpha.dtype, device=alpha.device)
    scale = tapegrad.where(boost, u.pow(1.0 / alpha), tapegrad.ones_like(u))
    return (out * scale).clamp(min=tapegrad.finfo(alpha.dtype).tiny)


def _log_prefactor(a, x):
    return a * x.log() - x - tapegrad.lgamma(a)


def _lower_or_upper(a, x, use_series):
    """P(a, x) where ``use_series`` (power series), else Q(a, x) = 1 - P (continued fraction); no gradient.

    Returning Q itself, not 1 - Q, keeps its derivative accurate in the far tail where P rounds to 1.
    """
    # power series: P = x^a e^-x / Gamma(a+1) * sum_n x^n / ((a+1)...(a+n))
    term = 1.0 / a
    total = term
    ap = a
    for i in range(_MAX_ITERS):
        ap = ap + 1
        term = term * x / ap
        total = total + term
        if i % 16 == 15 and not bool(((term.abs() > total.abs() * 1e-17) & use_series).any()):
            break
    series = total * _log_prefactor(a, x).exp()
    # continued fraction for Q = 1 - P (modified Lentz)
    tiny = 1e-300
    b = x + 1 - a
    c = tapegrad.full_like(x, 1 / tiny)
    d = 1.0 / tapegrad.where(b.abs() < tiny, tapegrad.full_like(b, tiny), b)
    h = d
    for i in range(1, _MAX_ITERS):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = tapegrad.where(d.abs() < tiny, tapegrad.full_like(d, tiny), d)
        c = b + an / c
        c = tapegrad.where(c.abs() < tiny, tapegrad.full_like(c, tiny), c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if i % 16 == 0 and not bool((((delta - 1).abs() > 1e-15) & ~use_series).any()):
            break
    return tapegrad.where(use_series, series, _log_prefactor(a, x).exp() * h)


def standard_gamma_grad(alpha, x):
    """``dx/dalpha`` of a standard gamma draw ``x`` at concentration ``alpha``, holding its CDF fixed.

    Example:
        >>> import tapegrad as torch
        >>> g = standard_gamma_grad(torch.tensor([1.0], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64))
        >>> round(g.item(), 4)
        1.1736
    """
    with tapegrad.no_grad():
        a, v = alpha.double(), x.double()
        h = 1e-5 * a.clamp(min=1e-3)
        series = v < a + 1
        d_da = (_lower_or_upper(a + h, v, series) - _lower_or_upper(a - h, v, series)) / (2 * h)
        dp_da = tapegrad.where(series, d_da, -d_da)         # dP/da = -dQ/da
        log_pdf = (a - 1) * v.log() - v - tapegrad.lgamma(a)
        return (-dp_da / log_pdf.exp()).to(alpha.dtype)


class _StandardGamma(Function):
    @staticmethod
    def forward(ctx, alpha):
        x = _marsaglia_tsang(alpha.detach())
        ctx.save_for_backward(alpha, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        return grad * standard_gamma_grad(alpha.detach(), x.detach())


def standard_gamma(alpha):
    """Draw gamma(alpha, 1) samples, one per element, differentiable in ``alpha`` (implicit gradient).

    Example:
        >>> import tapegrad as torch
        >>> _ = torch.manual_seed(0)
        >>> bool((standard_gamma(torch.ones(4)) > 0).all())
        True
    """
    return _StandardGamma.apply(alpha)
