"""``Normal(loc, scale)``: the Gaussian, reparameterised as ``loc + scale * eps``.

Example:
    >>> import tapegrad as torch
    >>> from tapegrad.distributions import Normal
    >>> Normal(0.0, 1.0).log_prob(torch.tensor(0.0))
    tensor(-0.9189)
"""
import math

import tapegrad
from ._loc_scale import LocScale
from .utils import _is_number, _standard_normal

__all__ = ["Normal"]


class Normal(LocScale):
    """The normal distribution with mean ``loc`` and standard deviation ``scale``.

    Example:
        >>> import tapegrad as torch
        >>> Normal(torch.tensor([0.0, 1.0]), 2.0).sample((5,)).shape
        tapegrad.Size([5, 2])
    """

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return self.loc + _standard_normal(shape, self.loc) * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale ** 2
        log_scale = math.log(self.scale) if _is_number(self.scale) else self.scale.log()
        return -((value - self.loc) ** 2) / (2 * var) - log_scale - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + tapegrad.erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value):
        return self.loc + self.scale * tapegrad.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + tapegrad.log(self.scale)
