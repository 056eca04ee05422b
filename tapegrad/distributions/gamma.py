"""``Gamma(concentration, rate)``: reparameterised through an implicit gradient (Note [implicit gamma gradient]).

Example:
    >>> import tapegrad as torch
    >>> from tapegrad.distributions import Gamma
    >>> Gamma(2.0, 4.0).mean
    tensor(0.5000)
"""
import tapegrad
from . import constraints
from .distribution import Distribution
from .utils import _is_number, broadcast_all
from ._standard_gamma import standard_gamma

__all__ = ["Gamma"]


class Gamma(Distribution):
    """The gamma distribution with shape ``concentration`` and inverse scale ``rate``.

    Example:
        >>> import tapegrad as torch
        >>> Gamma(torch.tensor([1.0]), torch.tensor([1.0])).log_prob(torch.tensor([1.0]))
        tensor([-1.])
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        batch_shape = () if _is_number(concentration) and _is_number(rate) else self.concentration.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = tapegrad.Size(batch_shape)
        new.concentration, new.rate = self.concentration.expand(batch_shape), self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        value = standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        tiny = tapegrad.finfo(value.dtype).tiny
        return value + (value.clamp(min=tiny) - value).detach()       # never exactly 0, gradient unchanged

    def log_prob(self, value):
        value = tapegrad.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        c, r = self.concentration, self.rate
        return tapegrad.xlogy(c, r) + tapegrad.xlogy(c - 1, value) - r * value - tapegrad.lgamma(c)

    def entropy(self):
        c = self.concentration
        return c - tapegrad.log(self.rate) + tapegrad.lgamma(c) + (1.0 - c) * tapegrad.digamma(c)
