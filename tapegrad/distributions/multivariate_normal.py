"""``MultivariateNormal(loc, covariance_matrix=, precision_matrix=, scale_tril=)``: the Gaussian in n dims.

Everything is computed through the lower Cholesky factor ``scale_tril``: ``rsample`` is
``loc + scale_tril @ eps`` and ``log_prob`` solves ``scale_tril @ y = value - loc`` by forward
substitution (both composed of recorded ops: Note [composed cholesky] in ``_linalg.py``).

Example:
    >>> import tapegrad as torch
    >>> from tapegrad.distributions import MultivariateNormal
    >>> MultivariateNormal(torch.zeros(2), torch.eye(2)).log_prob(torch.zeros(2))
    tensor(-1.8379)
"""
import math

import tapegrad
from . import constraints
from .distribution import Distribution
from .utils import _standard_normal, lazy_property
from ._linalg import cholesky, diagonal, solve_lower

__all__ = ["MultivariateNormal"]


def _batch_mahalanobis(l, x):
    """``x^T (L L^T)^{-1} x`` for lower ``l`` (..., n, n) and ``x`` (..., n), broadcast over batch dims."""
    y = solve_lower(l, x.unsqueeze(-1)).squeeze(-1)
    return y.pow(2).sum(-1)


def _precision_to_scale_tril(p):
    # chol(P^-1) without inverting P: flip, factor, flip back, then invert a triangular matrix.
    lf = cholesky(p.flip((-2, -1)))
    l_inv = lf.flip((-2, -1)).mT
    eye = tapegrad.eye(p.shape[-1], dtype=p.dtype, device=p.device)
    return solve_lower(l_inv, eye.expand(tuple(l_inv.shape)))


class MultivariateNormal(Distribution):
    """The multivariate normal, given exactly one of covariance, precision or lower Cholesky scale.

    Example:
        >>> import tapegrad as torch
        >>> d = MultivariateNormal(torch.zeros(3, 2), scale_tril=torch.eye(2))
        >>> d.batch_shape, d.event_shape
        (tapegrad.Size([3]), tapegrad.Size([2]))
    """

    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [(n, m) for n, m in (("scale_tril", scale_tril), ("covariance_matrix", covariance_matrix),
                                     ("precision_matrix", precision_matrix)) if m is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        name, matrix = given[0]
        if matrix.dim() < 2:
            what = "scale_tril matrix" if name == "scale_tril" else name
            raise ValueError(f"{what} must be at least two-dimensional, with optional leading batch dimensions")
        batch_shape = tapegrad.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1]))
        setattr(self, name, matrix.expand(tuple(batch_shape) + (-1, -1)))
        self.loc = loc.expand(tuple(batch_shape) + (-1,))
        super().__init__(self.loc.shape[:-1], self.loc.shape[-1:], validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = tapegrad.Size(batch_shape)
        loc_shape = tuple(batch_shape) + tuple(self.event_shape)
        cov_shape = loc_shape + tuple(self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(cov_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self):
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        l = self._unbroadcasted_scale_tril
        return (l @ l.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        l = self._unbroadcasted_scale_tril
        eye = tapegrad.eye(l.shape[-1], dtype=l.dtype, device=l.device)
        l_inv = solve_lower(l, eye.expand(tuple(l.shape)))
        return (l_inv.mT @ l_inv).expand(self._matrix_shape())

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, self.loc)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        m = _batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        half_log_det = diagonal(self._unbroadcasted_scale_tril).log().sum(-1)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + m) - half_log_det

    def entropy(self):
        half_log_det = diagonal(self._unbroadcasted_scale_tril).log().sum(-1)
        h = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        return h if len(self._batch_shape) == 0 else h.expand(self._batch_shape)
