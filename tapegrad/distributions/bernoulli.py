"""``Bernoulli(probs=None, logits=None)``: a coin flip with values 0 and 1.

Example:
    >>> import tapegrad as torch
    >>> from tapegrad.distributions import Bernoulli
    >>> Bernoulli(logits=torch.tensor(0.0)).probs
    tensor(0.5000)
"""
import tapegrad
from . import constraints
from .distribution import Distribution
from .utils import _is_number, _uniform01, broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Bernoulli"]


def _softplus(x):
    from ..nn import functional as nnf
    return nnf.softplus(x)


class Bernoulli(Distribution):
    """The Bernoulli distribution, given ``probs`` or ``logits`` (not both).

    Example:
        >>> import tapegrad as torch
        >>> Bernoulli(torch.tensor([0.25])).log_prob(torch.tensor([1.0]))
        tensor([-1.3863])
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = _is_number(probs)
            (self.probs,) = broadcast_all(probs)
        else:
            is_scalar = _is_number(logits)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(() if is_scalar else self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Bernoulli, _instance)
        batch_shape = tapegrad.Size(batch_shape)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(batch_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(batch_shape)
            new._param = new.logits
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def param_shape(self):
        return self._param.size()

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).type_as(self.probs)
        return tapegrad.where(self.probs == 0.5, tapegrad.full_like(mode, float("nan")), mode)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with tapegrad.no_grad():
            probs = self.probs.expand(shape)
            return (_uniform01(shape, probs) < probs).type_as(probs)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = tapegrad.broadcast_tensors(self.logits, value)
        return logits * value - _softplus(logits)        # -BCE-with-logits, stable for large |logits|

    def entropy(self):
        return _softplus(self.logits) - self.logits * self.probs

    def enumerate_support(self, expand=True):
        values = tapegrad.arange(2, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
