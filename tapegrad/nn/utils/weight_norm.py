"""The old-style ``nn.utils.weight_norm`` / ``remove_weight_norm``: ``weight_g`` and ``weight_v`` parameters.

As ``torch.nn.utils.weight_norm``: the parameter ``name`` is replaced by
``name_g`` (its norm over every dim but ``dim``) and ``name_v`` (its
direction), and a forward pre-hook recomputes the plain attribute ``name``
before each call.
"""
import warnings

from ..parameter import Parameter
from ._norms import norm_except_dim, weight_norm as _weight_norm

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        return _weight_norm(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"), self.dim)

    @staticmethod
    def apply(module, name, dim):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"weight_norm: module {type(module).__name__} has no parameter '{name}'")
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, 2, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Replace ``module.<name>`` by ``<name>_g * <name>_v / ||<name>_v||`` (PyTorch's deprecated form).

    Prefer ``nn.utils.parametrizations.weight_norm``; this one warns, as PyTorch's does.

    Example:
        >>> import warnings
        >>> from tapegrad import nn
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     lin = nn.utils.weight_norm(nn.Linear(3, 2))
        >>> [n for n, _ in lin.named_parameters()]
        ['bias', 'weight_g', 'weight_v']
    """
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo ``weight_norm``: ``module.<name>`` becomes a Parameter again, holding the current weight.

    Example:
        >>> import warnings
        >>> from tapegrad import nn
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     lin = nn.utils.remove_weight_norm(nn.utils.weight_norm(nn.Linear(3, 2)))
        >>> [n for n, _ in lin.named_parameters()]
        ['bias', 'weight']
    """
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
