"""Parametrizations as ``torch.nn.utils.parametrizations``: ``weight_norm``, ``spectral_norm`` and ``orthogonal``.

Both go through ``parametrize.register_parametrization``, so their state-dict
keys are PyTorch's (``parametrizations.weight.original0``/``original1`` for
weight norm; ``parametrizations.weight.original`` and the ``_u``/``_v``
buffers for spectral norm).
"""
from ... import _creation as C
from ... import _dtype as D
from ..._tensor import Tensor
from ...tape import grad_mode as _gm
from ..module import Module
from . import parametrize
from ._norms import norm_except_dim, weight_norm as _weight_norm, normalize, reshape_to_matrix
from . import _matrix as M
from ...ops.joining import cat as _cat
from ...ops.linalg_funcs import solve as _solve

__all__ = ["orthogonal", "weight_norm", "spectral_norm"]


class _Orthogonal(Module):
    """PyTorch's ``_Orthogonal`` for one real matrix: ``matrix_exp``, ``cayley`` or ``householder`` map, optional
    ``base``."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape
        transposed = n < k
        if transposed:
            X = X.T
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = M.tril(X)
            if n != k:
                X = _cat([X, C.zeros(n, n - k, dtype=X.dtype, device=X.device)], dim=-1)
            A = X - X.T                              # skew-symmetric
            if self.orthogonal_map == "matrix_exp":
                Q = M.matrix_exp(A)
            else:                                    # the Cayley retraction (I - A/2)^{-1} (I + A/2), as torch
                eye = C.eye(n, dtype=A.dtype, device=A.device)
                Q = _solve(eye - 0.5 * A, eye + 0.5 * A)
            if n != k:
                Q = Q[:, :k]
        else:
            A = M.tril(X, -1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = M.householder_product(A, tau)
            Q = Q * M.diagonal(X).to(D.int32).to(Q.dtype).reshape(1, k)     # truncated, as torch's .int()
        if "base" in self._buffers:
            Q = self.base @ Q
        return Q.T if transposed else Q

    def right_inverse(self, Q):
        if tuple(Q.shape) != tuple(self.shape):
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of "
                             f"shape {Q.shape}.")
        with _gm.no_grad():
            q_init = Q
            n, k = Q.shape
            if n < k:
                Q = Q.T
                n, k = k, n
            if "base" not in self._buffers:
                raise NotImplementedError("It is not possible to assign to the matrix exponential or the Cayley "
                                          "parametrizations when use_trivialization=False.")
            if n == k:
                Q = Q.clone() if M.is_orthogonal(Q) else M.make_orthogonal(Q)
            else:
                N = C.randn(n, n - k, dtype=Q.dtype, device=Q.device)
                Q = M.make_orthogonal(_cat([Q, N], dim=-1))
            self.base = Q
            return -C.eye(*q_init.shape, dtype=q_init.dtype, device=q_init.device)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Constrain the matrix ``module.<name>`` to be orthogonal (orthonormal columns or rows), as PyTorch.

    Args:
        module: the module.
        name: the parameter's name (a 2-D matrix).
        orthogonal_map: ``"matrix_exp"`` (the default for square matrices), ``"cayley"`` or ``"householder"``
            (the default otherwise).
        use_trivialization: keep a ``base`` buffer and parametrize around it (PyTorch's default).

    Example:
        >>> import tapegrad
        >>> from tapegrad import nn
        >>> lin = nn.utils.parametrizations.orthogonal(nn.Linear(3, 3))
        >>> q = lin.weight
        >>> bool(((q.T @ q - tapegrad.eye(3)).abs() < 1e-5).all())
        True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if weight.ndim > 2:
        raise NotImplementedError(f"orthogonal: batches of matrices (shape {tuple(weight.shape)}) are not "
                                  "supported; tapegrad parametrizes one 2-D matrix")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in ("matrix_exp", "cayley", "householder"):
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    if orthogonal_map == "householder" and not use_trivialization:
        raise NotImplementedError("orthogonal: 'householder' with use_trivialization=False needs geqrf, which "
                                  "tapegrad lacks; keep use_trivialization=True")
    parametrize.register_parametrization(module, name, _Orthogonal(weight, orthogonal_map,
                                                                  use_trivialization=use_trivialization),
                                         unsafe=True)
    return module


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

    def _weight_norm_compat_hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                 error_msgs):
        # A checkpoint of the old-style nn.utils.weight_norm: weight_g / weight_v become original0 / original1.
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
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
