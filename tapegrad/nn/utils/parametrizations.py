"""Parametrizations as ``torch.nn.utils.parametrizations``: ``weight_norm`` and ``spectral_norm``.

Both go through ``parametrize.register_parametrization``, so their state-dict
keys are PyTorch's (``parametrizations.weight.original0``/``original1`` for
weight norm; ``parametrizations.weight.original`` and the ``_u``/``_v``
buffers for spectral norm).
"""
from ... import _creation as C
from ..._tensor import Tensor
from ...tape import grad_mode as _gm
from ..module import Module
from . import parametrize
from ._norms import norm_except_dim, weight_norm as _weight_norm, normalize, reshape_to_matrix

__all__ = ["weight_norm", "spectral_norm"]


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as ``g * v / ||v||`` (norm over every dim but ``dim``; all when None).

    ``g`` and ``v`` are ``module.parametrizations.<name>.original0`` and
    ``original1``.

    Example:
        >>> from tapegrad import nn
        >>> lin = nn.utils.parametrizations.weight_norm(nn.Linear(3, 2))
        >>> [(k, tuple(v.shape)) for k, v in lin.state_dict().items()]
        [('bias', (2,)), ('parametrizations.weight.original0', (2, 1)), ('parametrizations.weight.original1', (2, 3))]
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got "
                             f"{dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            mat = reshape_to_matrix(weight, self.dim)
            h, w = mat.shape
            self.register_buffer("_u", normalize(C.randn(h, dtype=weight.dtype, device=weight.device), eps))
            self.register_buffer("_v", normalize(C.randn(w, dtype=weight.dtype, device=weight.device), eps))
            self._power_method(mat, 15)

    def _power_method(self, mat, n):
        with _gm.no_grad():
            for _ in range(n):
                self._u.copy_(normalize(mat @ self._v, self.eps))
                self._v.copy_(normalize(mat.T @ self._u, self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return normalize(weight, self.eps)
        mat = reshape_to_matrix(weight, self.dim)
        if self.training:
            self._power_method(mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        return weight / (u * (mat @ v)).sum()

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Reparametrize ``module.<name>`` as the weight divided by its largest singular value (power iteration).

    Args:
        module: the module.
        name: the parameter's name.
        n_power_iterations: power-iteration steps per forward in training mode.
        eps: the floor of norms when normalising.
        dim: the dimension that is the output (rows); 0 (1 for ConvTranspose) by default.

    Example:
        >>> import tapegrad
        >>> from tapegrad import nn
        >>> lin = nn.utils.parametrizations.spectral_norm(nn.Linear(4, 3))
        >>> sorted(lin.parametrizations.weight[0].state_dict())
        ['_u', '_v']
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
