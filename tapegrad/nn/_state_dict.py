"""``Module.state_dict`` and ``Module.load_state_dict`` (bound into ``Module``'s class body in ``module.py``)."""
import functools
from collections import OrderedDict, namedtuple

from .._tensor import Tensor
from .parameter import Parameter
from ._state import _copy_into
from ._hooks import RemovableHandle

__all__ = ["state_dict", "load_state_dict", "register_load_state_dict_pre_hook"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it missed and the keys it did not use (PyTorch's named tuple)."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def state_dict(self, destination=None, prefix="", keep_vars=False):
    """An ordered dict of every parameter and persistent buffer by dotted name.

    The values share storage with the module (detached unless ``keep_vars``).
    Buffers registered with ``persistent=False`` are left out.

    Example:
        >>> from tapegrad import nn
        >>> list(nn.Sequential(nn.Linear(2, 2), nn.ReLU()).state_dict())
        ['0.weight', '0.bias']
    """
    out = OrderedDict() if destination is None else destination
    for pre, _, k, v in _entries(self, prefix.rstrip(".")):
        out[pre + k] = v if keep_vars else v.detach()
    return out


def _entries(module, prefix="", remove_duplicate=False):
    """``(prefix_with_dot, owner, name, tensor)`` for every parameter and persistent buffer."""
    for mname, m in module.named_modules(prefix=prefix, remove_duplicate=remove_duplicate):
        pre = mname + "." if mname else ""
        for k, p in m._parameters.items():
            if p is not None:
                yield pre, m, k, p
        for k, b in m._buffers.items():
            if b is not None and k not in m._non_persistent:
                yield pre, m, k, b


def load_state_dict(self, state_dict, strict=True, assign=False):
    """Copy parameters and buffers from ``state_dict`` into this module, in place.

    Every entry is checked before anything changes: with ``strict``, a missing
    or unexpected key raises, and a shape mismatch always raises, leaving the
    module untouched. Values are cast to each tensor's dtype and device. With
    ``assign`` the module takes the state dict's tensors themselves instead
    (wrapped as Parameters keeping each parameter's ``requires_grad``), as
    PyTorch's ``assign=True``; an optimizer must then be built afterwards.

    Returns:
        a named tuple ``(missing_keys, unexpected_keys)``.

    Example:
        >>> import tapegrad
        >>> from tapegrad import nn
        >>> a, b = nn.Linear(2, 2), nn.Linear(2, 2)
        >>> b.load_state_dict(a.state_dict())
        <All keys matched successfully>
        >>> bool((a.weight == b.weight).all())
        True
        >>> w = tapegrad.zeros(2, 2)
        >>> b.load_state_dict({"weight": w}, strict=False, assign=True)
        _IncompatibleKeys(missing_keys=['bias'], unexpected_keys=[])
        >>> w.fill_(3.0)
        tensor([[3., 3.],
                [3., 3.]])
        >>> b.weight.sum().item(), b.weight.requires_grad
        (12.0, True)
    """
    if not hasattr(state_dict, "items"):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
    state_dict = OrderedDict(state_dict)      # the pre-hooks may rename keys; the caller's dict stays as it is
    errors, hook_missing, hook_unexpected = [], [], []
    for mname, m in self.named_modules(remove_duplicate=False):
        for hook in list(m.__dict__.get("_load_state_dict_pre_hooks", {}).values()):
            hook(state_dict, mname + "." if mname else "", {}, True, hook_missing, hook_unexpected, errors)
    targets = OrderedDict((pre + k, (m, k, t)) for pre, m, k, t in _entries(self))
    missing = hook_missing + [k for k in targets if k not in state_dict]
    unexpected = hook_unexpected + [k for k in state_dict if k not in targets]
    if strict:
        if unexpected:
            errors.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if missing:
            errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
    plan = []
    for k, (m, name, t) in targets.items():
        if k not in state_dict:
            continue
        v = state_dict[k]
        if not isinstance(v, Tensor):
            errors.append(f'While copying the parameter named "{k}", expected a Tensor in the state_dict, '
                          f"got {type(v).__name__}.")
            continue
        if tuple(v.shape) != tuple(t.shape):
            errors.append(f"size mismatch for {k}: copying a param with shape {tuple(v.shape)} from "
                          f"checkpoint, the shape in current model is {tuple(t.shape)}.")
            continue
        plan.append((m, name, t, v))
    if errors:
        raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
    for m, name, t, v in plan:
        if not assign:
            _copy_into(t, v)
        elif isinstance(t, Parameter):
            if isinstance(v, Parameter):
                v.requires_grad_(t.requires_grad)
            else:
                v = Parameter(v, requires_grad=t.requires_grad)
            m._parameters[name] = v
        else:
            m._buffers[name] = v
    return _IncompatibleKeys(missing, unexpected)


def _register_load_state_dict_pre_hook(self, hook, with_module=False):
    """PyTorch's private form: ``hook(state_dict, prefix, local_metadata, strict, missing_keys,
    unexpected_keys, error_msgs)`` (with the module first when ``with_module``)."""
    hooks = self._load_state_dict_pre_hooks
    handle = RemovableHandle(hooks)
    hooks[handle.id] = functools.partial(hook, self) if with_module else hook
    return handle


def register_load_state_dict_pre_hook(self, hook):
    """Register ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)``.

    It runs at the start of ``load_state_dict`` (on a copy of the given dict,
    which it may edit, e.g. to rename old keys) for this module, with
    ``prefix`` its dotted path. Returns a ``RemovableHandle``.

    Example:
        >>> import tapegrad
        >>> from tapegrad import nn
        >>> lin = nn.Linear(1, 1)
        >>> def rename(module, sd, prefix, *rest):
        ...     if prefix + "w" in sd:
        ...         sd[prefix + "weight"] = sd.pop(prefix + "w")
        >>> h = lin.register_load_state_dict_pre_hook(rename)
        >>> lin.load_state_dict({"w": tapegrad.ones(1, 1), "bias": tapegrad.zeros(1)})
        <All keys matched successfully>
    """
    return _register_load_state_dict_pre_hook(self, hook, with_module=True)
