"""Old-style ``nn.utils.spectral_norm`` / ``remove_spectral_norm``: ``weight_orig``, ``weight_u``, ``weight_v``.

As ``torch.nn.utils.spectral_norm``: a forward pre-hook runs power
iteration (in training mode) and sets the plain attribute ``weight`` to
``weight_orig / sigma``. PyTorch's state-dict version hooks (for checkpoints
older than PyTorch 1.1) are not reproduced.
"""
from ... import _creation as C
from ...tape import grad_mode as _gm
from ..parameter import Parameter
from ._norms import normalize, reshape_to_matrix

__all__ = ["SpectralNorm", "spectral_norm", "remove_spectral_norm"]


class SpectralNorm:
    """The forward pre-hook that sets ``module.<name>`` to ``<name>_orig`` divided by its spectral norm."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.dim, self.n_power_iterations, self.eps = name, dim, n_power_iterations, eps

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        mat = reshape_to_matrix(weight, self.dim)
        if do_power_iteration:
            with _gm.no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(normalize(mat.T @ u, self.eps))
                    u.copy_(normalize(mat @ v, self.eps))
                u, v = u.clone(), v.clone()
        return weight / (u * (mat @ v)).sum()

    def remove(self, module):
        with _gm.no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        for suffix in ("_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        with _gm.no_grad():
            h, w = reshape_to_matrix(weight, dim).shape
            u = normalize(C.randn(h, dtype=weight.dtype, device=weight.device), eps)
            v = normalize(C.randn(w, dtype=weight.dtype, device=weight.device), eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its largest singular value before each forward (PyTorch's hook-based form).

    Example:
        >>> from tapegrad import nn
        >>> lin = nn.utils.spectral_norm(nn.Linear(4, 3))
        >>> list(lin.state_dict())
        ['bias', 'weight_orig', 'weight_u', 'weight_v']
    """
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo ``spectral_norm``: ``module.<name>`` becomes a Parameter holding the normalised weight.

    Example:
        >>> from tapegrad import nn
        >>> lin = nn.utils.remove_spectral_norm(nn.utils.spectral_norm(nn.Linear(4, 3)))
        >>> list(lin.state_dict())
        ['bias', 'weight']
    """
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
