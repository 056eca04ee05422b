"""``Categorical(probs=None, logits=None)``: one of ``K`` categories, drawn by inverse CDF.

Example:
    >>> import tapegrad as torch
    >>> from tapegrad.distributions import Categorical
    >>> Categorical(torch.tensor([0.25, 0.75])).log_prob(torch.tensor(1))
    tensor(-0.2877)
"""
import tapegrad
from . import constraints
from .distribution import Distribution
from .utils import _uniform01, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Categorical"]


def _cumsum_last(x):
    """Inclusive prefix sums along the last dim in log2(K) shifted adds (Hillis-Steele), O(K log K) work."""
    k, shift = x.shape[-1], 1
    while shift < k:
        pad = tapegrad.zeros(tuple(x.shape[:-1]) + (shift,), dtype=x.dtype, device=x.device)
        x = x + tapegrad.cat([pad, x[..., :k - shift]], -1)
        shift *= 2
    return x


class Categorical(Distribution):
    """The categorical distribution over ``0 .. K-1``, ``K = probs.shape[-1]``; the rest are batch dims.

    ``probs`` need not sum to one (they are normalised); ``logits`` are unnormalised log-probabilities.

    Example:
        >>> import tapegrad as torch
        >>> Categorical(logits=torch.zeros(3, 4)).sample((2,)).shape
        tapegrad.Size([2, 3])
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.dim() > 1 else ()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Categorical, _instance)
        batch_shape = tapegrad.Size(batch_shape)
        param_shape = tuple(batch_shape) + (self._num_events,)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(param_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(param_shape)
            new._param = new.logits
        new._num_events = self._num_events
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return tapegrad.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype, device=self.probs.device)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return tapegrad.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype, device=self.probs.device)

    def sample(self, sample_shape=()):
        # Inverse CDF: the index is the number of cumulative probabilities at or below a uniform draw.
        shape = self._extended_shape(sample_shape)
        with tapegrad.no_grad():
            probs = self.probs
            cdf = _cumsum_last(probs)[..., :-1]                # without the last entry (the total)
            cdf = cdf / probs.sum(-1, keepdim=True)            # a CDF ending at 1 even after rounding
            u = _uniform01(tuple(shape) + (1,), probs)
            return (cdf <= u).sum(-1).long()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = tapegrad.broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=tapegrad.finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = tapegrad.arange(self._num_events, dtype=tapegrad.long, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
