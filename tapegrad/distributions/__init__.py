"""``tapegrad.distributions``: probability distributions with PyTorch's API, sampling and KL divergences.

Each distribution has ``sample``/``rsample`` (reparameterised where ``has_rsample``), ``log_prob``,
``entropy``, ``mean``/``mode``/``variance``/``stddev``, ``batch_shape``/``event_shape``, ``expand`` and
argument validation as PyTorch's (``Distribution.set_default_validate_args``).

Example:
    >>> import tapegrad as torch
    >>> from tapegrad.distributions import Categorical
    >>> Categorical(torch.tensor([0.5, 0.5])).entropy()
    tensor(0.6931)
"""
from . import constraints
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .uniform import Uniform

__all__ = ["Bernoulli", "Beta", "Categorical", "Dirichlet", "Distribution", "Exponential", "Gamma", "Independent",
           "Laplace", "MultivariateNormal", "Normal", "OneHotCategorical", "Uniform", "constraints", "kl_divergence",
           "register_kl"]
