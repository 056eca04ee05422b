"""``Dirichlet(concentration)``: distributions on the simplex, sampled as normalised gamma draws.

Example:
    >>> import tapegrad as torch
    >>> from tapegrad.distributions import Dirichlet
    >>> Dirichlet(torch.tensor([1.0, 3.0])).mean
    tensor([0.2500, 0.7500])
"""
import tapegrad
from . import constraints
from .distribution import Distribution
from ._standard_gamma import standard_gamma

__all__ = ["Dirichlet"]


class Dirichlet(Distribution):
    """The Dirichlet distribution with concentration vector ``concentration`` (last dim = event).

    ``rsample`` normalises independent gamma draws, each differentiable through the implicit gamma
    gradient (Note [implicit gamma gradient]); PyTorch differentiates the normalised draw with its own
    ``_dirichlet_grad`` instead, so single-sample gradients differ while their expectations agree.

    Example:
        >>> import tapegrad as torch
        >>> Dirichlet(torch.ones(2, 3)).sample().shape
        tapegrad.Size([2, 3])
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = tapegrad.Size(batch_shape)
        new.concentration = self.concentration.expand(tuple(batch_shape) + tuple(self.event_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x = standard_gamma(self.concentration.expand(shape))
        tiny = tapegrad.finfo(x.dtype).tiny
        return x / x.sum(-1, keepdim=True).clamp(min=tiny)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return tapegrad.xlogy(c - 1.0, value).sum(-1) + tapegrad.lgamma(c.sum(-1)) - tapegrad.lgamma(c).sum(-1)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        c = self.concentration
        cm1 = (c - 1).clamp(min=0.0)
        mode = cm1 / cm1.sum(-1, keepdim=True)
        # every concentration below 1: a vertex, chosen as PyTorch does, by argmax of that row of ``mode``
        # (all NaN there, so the first NaN: vertex 0)
        vertex = (mode.argmax(-1).unsqueeze(-1) == tapegrad.arange(c.shape[-1], device=c.device)).type_as(c)
        return tapegrad.where((c < 1).all(-1, keepdim=True), vertex, mode)

    @property
    def variance(self):
        c0 = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (c0 - self.concentration) / (c0.pow(2) * (c0 + 1))

    def entropy(self):
        c = self.concentration
        k, a0 = c.size(-1), c.sum(-1)
        return (tapegrad.lgamma(c).sum(-1) - tapegrad.lgamma(a0) - (k - a0) * tapegrad.digamma(a0)
                - ((c - 1.0) * tapegrad.digamma(c)).sum(-1))
