"""``nn.Module``: the base class of every layer and model.

Parameters, buffers and submodules are registered by attribute assignment and
kept in three ordered dicts, exactly as in PyTorch, so ``state_dict`` keys,
``named_parameters`` order and ``__repr__`` all follow definition order.
"""
from collections import OrderedDict

from .. import _dtype as D
from .. import backend as B
from .._device import device as _device, parse_to_args
from .._tensor import Tensor
from .parameter import Parameter
from ._state import _move_in_place, _zero_grad
from . import _hooks, _state_dict

__all__ = ["Module"]


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
        _hooks.init_hooks(self)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required \"forward\" function")

    # ------------------------------------------------------------- calling and hooks (nn/_hooks.py)
    __call__ = _hooks.call_impl
    register_forward_pre_hook = _hooks.register_forward_pre_hook
    register_forward_hook = _hooks.register_forward_hook
    register_full_backward_pre_hook = _hooks.register_full_backward_pre_hook
    register_full_backward_hook = _hooks.register_full_backward_hook

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

    def get_parameter(self, target):
        """The parameter at dotted path ``target`` (e.g. ``"0.weight"``).

        Example:
            >>> from tapegrad import nn
            >>> nn.Sequential(nn.Linear(2, 3)).get_parameter("0.bias").shape
            tapegrad.Size([3])
        """
        mod, name = self._owner(target)
        if name not in mod._parameters or mod._parameters[name] is None:
            if not hasattr(mod, name):
                raise AttributeError(f"{type(mod).__name__} has no attribute `{name}`")
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return mod._parameters[name]

    def get_buffer(self, target):
        """The buffer at dotted path ``target``.

        Example:
            >>> import tapegrad
            >>> m = tapegrad.nn.Sequential(tapegrad.nn.Module())
            >>> m[0].register_buffer("count", tapegrad.zeros(1))
            >>> m.get_buffer("0.count")
            tensor([0.])
        """
        mod, name = self._owner(target)
        if name not in mod._buffers or mod._buffers[name] is None:
            if not hasattr(mod, name):
                raise AttributeError(f"{type(mod).__name__} has no attribute `{name}`")
            raise AttributeError(f"`{name}` is not a buffer")
        return mod._buffers[name]

    def _owner(self, target):
        path, _, name = target.rpartition(".")
        return self.get_submodule(path), name

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
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
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
    state_dict = _state_dict.state_dict
    load_state_dict = _state_dict.load_state_dict
    register_load_state_dict_pre_hook = _state_dict.register_load_state_dict_pre_hook
    _register_load_state_dict_pre_hook = _state_dict._register_load_state_dict_pre_hook

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

    def half(self):
        """Cast floating-point parameters and buffers to float16; returns self."""
        return self.to(dtype=D.float16)

    def bfloat16(self):
        """Cast floating-point parameters and buffers to bfloat16; returns self."""
        return self.to(dtype=D.bfloat16)

    def type(self, dst_type):
        """Cast every parameter and buffer to ``dst_type`` (a dtype or a name such as ``"torch.DoubleTensor"``).

        Example:
            >>> import tapegrad
            >>> tapegrad.nn.Linear(2, 2).type(tapegrad.float64).weight.dtype
            tapegrad.float64
        """
        d = _tensor_type(dst_type)
        for t in list(self.parameters()) + list(self.buffers()):
            _move_in_place(t, None, d, floating_only=False)
        return self

    def share_memory(self):
        """Returns self: CPU tensors live in this process's NumPy memory, so there is nothing to move.

        PyTorch moves storages to shared memory for ``torch.multiprocessing``;
        tapegrad has no multiprocessing sharing, and this call only keeps
        programs that make it running.
        """
        return self

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


_LEGACY_TYPES = {"FloatTensor": D.float32, "DoubleTensor": D.float64, "HalfTensor": D.float16,
                 "LongTensor": D.int64, "IntTensor": D.int32, "ShortTensor": D.int16, "CharTensor": D.int8,
                 "ByteTensor": D.uint8, "BoolTensor": D.bool}
_LEGACY_TYPES["BFloat16Tensor"] = D.bfloat16


def _tensor_type(dst_type):
    if isinstance(dst_type, str):
        short = dst_type.rsplit(".", 1)[-1]
        if short in _LEGACY_TYPES:
            return _LEGACY_TYPES[short]
    try:
        return D.to_dtype(dst_type)
    except (TypeError, ValueError):
        raise TypeError(f"Module.type: invalid type {dst_type!r}; expected a dtype or a name such as "
                        "'torch.DoubleTensor'") from None


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
