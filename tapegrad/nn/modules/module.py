"""``tapegrad.nn.modules.module``: where PyTorch keeps ``Module`` and the global module hooks.

Example:
    >>> from tapegrad.nn.modules.module import Module, register_module_forward_hook
    >>> Module.__name__
    'Module'
"""
from ..module import Module
from .._hooks import (RemovableHandle, register_module_forward_pre_hook, register_module_forward_hook,  # noqa: F401
                      register_module_full_backward_pre_hook, register_module_full_backward_hook)
from .._state_dict import _IncompatibleKeys  # noqa: F401  (importable from here, as in PyTorch)

__all__ = ["Module", "register_module_forward_pre_hook", "register_module_forward_hook",
           "register_module_full_backward_pre_hook", "register_module_full_backward_hook"]
