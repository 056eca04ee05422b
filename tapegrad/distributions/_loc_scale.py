"""``LocScale``: what ``Normal`` and ``Laplace`` share (real support, ``loc``/``scale`` parameters, ``expand``).

Example:
    >>> from tapegrad.distributions import Laplace, Normal
    >>> Normal(0.0, 2.0).expand((3,)).mean.shape, Laplace(1.0, 1.0).mode
    (tapegrad.Size([3]), tensor(1.))
"""
import tapegrad
from . import constraints
from .distribution import Distribution
from .utils import _is_number, broadcast_all

__all__ = []


class LocScale(Distribution):
    """A reparameterisable distribution on the reals with a location ``loc`` (its mean and mode) and a scale."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        batch_shape = () if _is_number(loc) and _is_number(scale) else self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        family = next(c for c in type(self).__mro__ if LocScale in c.__bases__)    # Normal or Laplace
        new = self._get_checked_instance(family, _instance)
        batch_shape = tapegrad.Size(batch_shape)
        new.loc, new.scale = self.loc.expand(batch_shape), self.scale.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc
