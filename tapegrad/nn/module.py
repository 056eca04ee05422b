"""``nn.Module``: the base class of every layer and model.

Parameters, buffers and submodules are registered by attribute assignment and
kept in three ordered dicts, exactly as in PyTorch, so ``state_dict`` keys,
``named_parameters`` order and ``__repr__`` all follow definition order.
"""
from collections import OrderedDict, namedtuple

from .. import _dtype as D
from .. import backend as B
from .._device import device as _device, parse_to_args
from .._tensor import Tensor
from .parameter import Parameter
from ._state import _copy_into, _move_in_place, _zero_grad

__all__ = ["Module"]

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class for neural-network modules; subclasses define ``forward``.

    Example:
        >>> import tapegrad
        >>> from tapegrad import nn
        >>> class Net(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = nn.Linear(3, 2)
        ...     def forward(self, x):
        ...         return self.fc(x).relu()
        >>> net = Net()
        >>> [name for name, _ in net.named_parameters()]
        ['fc.weight', 'fc.bias']
        >>> net(tapegrad.ones(4, 3)).shape
        tapegrad.Size([4, 2])
    """
    training = True

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required \"forward\" function")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------- registration
    def _check_init(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call "
                                 f"(call super().__init__() first in {type(self).__name__}.__init__)")

    def __setattr__(self, name, value):
        d = self.__dict__
        if isinstance(value, Parameter):
            self._check_init("parameters")
            _remove_from(d, name, "_buffers", "_modules")
            d["_parameters"][name] = value
            d.pop(name, None)
        elif isinstance(value, Module):
            self._check_init("module")
            _remove_from(d, name, "_parameters", "_buffers")
            d["_modules"][name] = value
            d.pop(name, None)
        elif "_parameters" in d and name in d["_parameters"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(nn.Parameter or None expected)")
            d["_parameters"][name] = None
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(nn.Module or None expected)")
            d["_modules"][name] = None
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only reached when normal lookup fails, i.e. for registered entries.
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            s = d.get(store)
            if s is not None and name in s:
                return s[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if name in d.get(store, ()):
                del d[store][name]
                d["_non_persistent"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter or None) under ``name``."""
        self._check_init("parameters")
        _check_name(self, name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register a tensor that is state but not a parameter (e.g. running statistics).

        Buffers are moved by ``to()`` and, when ``persistent``, saved in ``state_dict``.

        Example:
            >>> import tapegrad
            >>> m = tapegrad.nn.Module()
            >>> m.register_buffer("steps", tapegrad.zeros(1))
            >>> list(m.state_dict())
            ['steps']
        """
        self._check_init("buffers")
        _check_name(self, name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        """Register a child module under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str) or "." in name or name == "":
            raise KeyError(f"module name must be a non-empty string without '.', got {name!r}")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at dotted path ``target`` (``""`` is self)."""
        mod = self
        for part in target.split(".") if target else ():
            if part not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no submodule '{part}' (looking up '{target}')")
            mod = mod._modules[part]
        return mod

    # ------------------------------------------------------------- traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield ``(dotted_name, module)`` for self and every descendant, each once."""
        if memo is None:
            memo = set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if remove_duplicate:
                if id(m) in memo:
                    continue
                memo.add(id(m))
            yield name, m
            children = [(name + ("." if name else "") + k, c) for k, c in m._modules.items() if c is not None]
            stack.extend(reversed(children))

    def modules(self):
        """Yield self and every descendant module."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """Yield ``(name, module)`` for the direct children."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        """Yield the direct child modules."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mname, m in mods:
            for k, v in getattr(m, store).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield (mname + "." if mname else "") + k, v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield ``(dotted_name, parameter)``; shared parameters appear once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Yield every parameter (each shared parameter once).

        Example:
            >>> from tapegrad import nn
            >>> sum(p.numel() for p in nn.Linear(3, 2).parameters())
            8
        """
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield ``(dotted_name, buffer)``."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Yield every buffer."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule (children first) and then self; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------- modes and grads
    def train(self, mode=True):
        """Set training mode on self and every descendant; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for m in self.modules():
            m.training = mode
        return self

    def eval(self):
        """Set evaluation mode (``train(False)``); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` on every parameter; returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of every parameter (to None by default, else to zeros in place)."""
        for p in self.parameters():
            _zero_grad(p, set_to_none)

    # ------------------------------------------------------------- state dict
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An ordered dict of every parameter and persistent buffer by dotted name.

        The values share storage with the module (detached unless ``keep_vars``).

        Example:
            >>> from tapegrad import nn
            >>> list(nn.Sequential(nn.Linear(2, 2), nn.ReLU()).state_dict())
            ['0.weight', '0.bias']
        """
        out = OrderedDict() if destination is None else destination
        for mname, m in self.named_modules(prefix=prefix.rstrip(".")):
            pre = mname + "." if mname else ""
            for k, p in m._parameters.items():
                if p is not None:
                    out[pre + k] = p if keep_vars else p.detach()
            for k, b in m._buffers.items():
                if b is not None and k not in m._non_persistent:
                    out[pre + k] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy parameters and buffers from ``state_dict`` into this module, in place.

        Every entry is checked before anything is copied: with ``strict``, a
        missing or unexpected key raises, and a shape mismatch always raises,
        leaving the module untouched. Values are cast to each parameter's dtype
        and device.

        Returns:
            a named tuple ``(missing_keys, unexpected_keys)``.

        Example:
            >>> from tapegrad import nn
            >>> a, b = nn.Linear(2, 2), nn.Linear(2, 2)
            >>> b.load_state_dict(a.state_dict())
            <All keys matched successfully>
            >>> bool((a.weight == b.weight).all())
            True
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        targets = OrderedDict()
        for mname, m in self.named_modules(remove_duplicate=False):
            pre = mname + "." if mname else ""
            for k, p in m._parameters.items():
                if p is not None:
                    targets[pre + k] = p
            for k, b in m._buffers.items():
                if b is not None and k not in m._non_persistent:
                    targets[pre + k] = b
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        errors = []
        if strict:
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        plan = []
        for k, t in targets.items():
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
            plan.append((t, v))
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        for t, v in plan:
            _copy_into(t, v)
        return _Keys(missing, unexpected)

    # ------------------------------------------------------------- devices and dtypes
    def to(self, *args, device=None, dtype=None):
        """Move (and/or cast) every parameter and buffer in place; returns self.

        Parameters keep their identity, so an optimizer built before ``to()``
        still updates them. ``dtype`` applies to floating-point tensors only.

        Example:
            >>> import tapegrad
            >>> from tapegrad import nn
            >>> m = nn.Linear(2, 2)
            >>> w = m.weight
            >>> m.to("cpu").to(tapegrad.float64).weight is w, w.dtype
            (True, tapegrad.float64)
        """
        dtype, device = parse_to_args(args, dtype, device)
        dev = _device(device).type if device is not None else None
        d = D.to_dtype(dtype) if dtype is not None else None
        if d is not None and not d.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={d}")
        dst = B.get(dev) if dev is not None else None
        for t in list(self.parameters()) + list(self.buffers()):
            _move_in_place(t, dst, d)
            if t._grad is not None:
                _move_in_place(t._grad, dst, d)
        return self

    def cpu(self):
        """Move every parameter and buffer to the CPU; returns self."""
        return self.to("cpu")

    def cuda(self, device=None):
        """Move every parameter and buffer to the GPU; returns self."""
        return self.to("cuda")

    def float(self):
        """Cast floating-point parameters and buffers to float32; returns self."""
        return self.to(dtype=D.float32)

    def double(self):
        """Cast floating-point parameters and buffers to float64; returns self."""
        return self.to(dtype=D.float64)

    # ------------------------------------------------------------- repr
    def extra_repr(self):
        """The text inside this module's parentheses in ``repr``; subclasses override it."""
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            text = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {text}")
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


class _Keys(_IncompatibleKeys):
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


def _remove_from(d, name, *stores):
    for s in stores:
        if s in d:
            d[s].pop(name, None)


def _check_name(module, name, what):
    if not isinstance(name, str):
        raise TypeError(f"{what} name should be a string, got {type(name).__name__}")
    if "." in name or name == "":
        raise KeyError(f"{what} name must be a non-empty string without '.', got {name!r}")
    if hasattr(type(module), name) or (name in module.__dict__):
        raise KeyError(f"attribute '{name}' already exists")
