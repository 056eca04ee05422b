"""``Exponential(rate)``: reparameterised as ``-log(u) / rate``.

Example:
    >>> import tapegrad as torch
    >>> from tapegrad.distributions import Exponential
    >>> Exponential(2.0).mean
    tensor(0.5000)
"""
import tapegrad
from . import constraints
from .distribution import Distribution
from .utils import _is_number, _uniform01, broadcast_all

__all__ = ["Exponential"]


class Exponential(Distribution):
    """The exponential distribution with rate ``rate`` (mean ``1 / rate``).

    Example:
        >>> import tapegrad as torch
        >>> Exponential(torch.tensor([1.0, 2.0])).log_prob(torch.tensor([0.0, 0.0]))
        tensor([0.0000, 0.6931])
    """

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = () if _is_number(rate) else self.rate.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Exponential, _instance)
        batch_shape = tapegrad.Size(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return tapegrad.zeros_like(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = _uniform01(shape, self.rate)
        return -tapegrad.log1p(-u) / self.rate          # 1 - u lies in (0, 1]: never log(0)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - tapegrad.exp(-self.rate * value)

    def icdf(self, value):
        return -tapegrad.log1p(-value) / self.rate

    def entropy(self):
        return 1.0 - tapegrad.log(self.rate)
