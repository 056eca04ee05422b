"""``Laplace(loc, scale)``: the double exponential, reparameterised through its inverse CDF.

Example:
    >>> import tapegrad as torch
    >>> from tapegrad.distributions import Laplace
    >>> Laplace(0.0, 1.0).variance
    tensor(2.)
"""
import tapegrad
from ._loc_scale import LocScale
from .utils import _uniform01

__all__ = ["Laplace"]


class Laplace(LocScale):
    """The Laplace distribution with location ``loc`` and scale ``scale``.

    Example:
        >>> import tapegrad as torch
        >>> Laplace(torch.zeros(2), 1.0).log_prob(torch.zeros(2))
        tensor([-0.6931, -0.6931])
    """

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return 2 ** 0.5 * self.scale

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = tapegrad.finfo(self.loc.dtype).eps
        u = _uniform01(shape, self.loc) * (2 - eps) + (eps - 1)      # in (-1, 1): never log1p(-1)
        return self.loc - self.scale * u.sign() * tapegrad.log1p(-u.abs())

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -tapegrad.log(2 * self.scale) - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = value - self.loc
        return 0.5 - 0.5 * z.sign() * tapegrad.expm1(-z.abs() / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * tapegrad.log1p(-2 * term.abs())

    def entropy(self):
        return 1 + tapegrad.log(2 * self.scale)
