"""What a trace assumed, as one hashable key computed before every call.

A key holds: grad mode and anomaly mode; for each argument its structure,
Python values, and for tensors shape, strides, dtype, device (array type),
``requires_grad``, whether it is a leaf and whether its ``.grad`` is None;
for what the function captures (closure cells and the globals its code names):
the identity of modules, optimizers and tensors, Python numbers by value,
every submodule's ``training`` flag, the identity and the same tensor facts of
every parameter and buffer, and of every optimizer's parameters and state.
Two calls with equal keys run the same steps on arrays of the same layout;
a trace recorded under one key replays under the other once the optimizer
numbers it read also hold (Note [optimizer reads] in compile/optreads.py).
"""
import os
import types

from .._tensor import Tensor
from ..tape import grad_mode as _gm
from ..tape import anomaly as _anomaly

__all__ = ["captured_names", "captured", "key", "flatten"]

_SCALARS = (bool, int, float, complex, str, bytes, type(None))


def _codes(code):
    yield code
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield from _codes(c)


def captured_names(fn):
    """The globals the code of ``fn`` (and its nested functions) names."""
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return ()
    names = _NAMES.get(code)
    if names is None:
        names = []
        for c in _codes(code):
            names.extend(n for n in c.co_names if n not in names)
        names = _NAMES[code] = tuple(names)
    return names


_NAMES = {}


def captured(fn, names, extra=(), depth=0):
    """The objects ``fn`` can reach: ``extra``, its ``self``, closure cells, the named globals, and (two levels
    down) what the functions among them capture."""
    out = list(extra)
    self_ = getattr(fn, "__self__", None)
    if self_ is not None:
        out.append(self_)
    f = getattr(fn, "__func__", fn)
    for cell in getattr(f, "__closure__", None) or ():
        try:
            out.append(cell.cell_contents)
        except ValueError:          # an empty cell
            out.append(None)
    if not _library(f):
        g = getattr(f, "__globals__", {})
        for n in names:
            out.append(g.get(n, _MISSING))
    for o in list(out):
        if isinstance(o, types.FunctionType) and depth < 2 and o is not f:
            out.extend(captured(o, captured_names(o), depth=depth + 1))
        elif _is_plain(o):
            # a plain object (a trainer, a method's self): what it holds, one level down
            out.extend(v for v in vars(o).values() if isinstance(v, Tensor) or _is_module(v) or _is_optimizer(v))
    return out


def _library(f):
    """Whether ``f`` is tapegrad's own code (``Module.__call__``, a functional): its globals are the
    library's functions and classes, not user state, so the guards skip them (Note [fast guards]); the
    global hook dicts among them are guarded by ``_global_hooks``."""
    code = getattr(f, "__code__", None)      # by its file, not __module__ (a doctest's code claims the module's)
    return code is not None and code.co_filename.startswith(_ROOT)


_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep      # the tapegrad package


def _is_plain(o):
    return (hasattr(o, "__dict__") and not isinstance(o, (type, types.ModuleType, types.FunctionType,
                                                          types.MethodType, Tensor))
            and not _is_module(o) and not _is_optimizer(o) and not callable(o))


_MISSING = object()


def _is_module(x):
    return hasattr(x, "_parameters") and hasattr(x, "_modules") and hasattr(x, "training")


def _is_optimizer(x):
    return hasattr(x, "param_groups") and hasattr(x, "state") and hasattr(x, "step")


# Note [layout guard]
# A trace assumes its arrays' memory layout, not only their shapes: ``x.contiguous()``
# on a contiguous tensor records nothing (it returns ``x``), ``view`` succeeds or
# raises by the strides, a write through such a result reaches ``x`` or a copy,
# and a reduction sums in memory order, so a transposed argument of the same shape
# can give other bits. The strides of every guarded tensor are part of the key and
# of the generated check; a new layout retraces.

def strides(d):
    """An array's strides (its memory layout), or None for a storage without them (sparse COO)."""
    return getattr(d, "strides", None)


def _tensor_facts(t):
    d = t._data
    return (d.shape, strides(d), d.dtype, d.__class__, t._requires_grad, t._grad_fn is None, t._grad is None)


def walk_captured(objs, visit_tensor, visit_object):
    """Call ``visit_tensor(t, owner)`` for every tensor reachable from ``objs`` the guards cover."""
    for o in objs:
        if isinstance(o, (list, tuple)):
            walk_captured([x for x in o if isinstance(x, Tensor) or _is_module(x) or _is_optimizer(x)],
                          visit_tensor, visit_object)
        elif isinstance(o, Tensor):
            visit_tensor(o)
        elif _is_module(o):
            visit_object(o)
            for m in o.modules():
                for p in m._parameters.values():
                    if p is not None:
                        visit_tensor(p)
                for b in m._buffers.values():
                    if b is not None:
                        visit_tensor(b)
        elif _is_optimizer(o):
            visit_object(o)
            for g in o.param_groups:
                for p in g["params"]:
                    visit_tensor(p)
            for st in o.state.values():
                if isinstance(st, dict):
                    for v in st.values():
                        if isinstance(v, Tensor):
                            visit_tensor(v)


def key(objs, flat, spec, names=()):
    """The guard key of one call (module docstring); ``flat``/``spec`` from ``flatten``. ``names`` is
    accepted for older callers and unused: which optimizer numbers a trace read is checked per trace
    (Note [optimizer reads] in compile/optreads.py)."""
    parts = [_gm.STATE.enabled, _anomaly.ENABLED[0], spec, _global_hooks()]
    for t in flat:
        d = t._data
        parts.append((d.shape, strides(d), d.dtype, d.__class__, t._requires_grad, t._grad_fn is None,
                      t._grad is None))
    if len(flat) > 1:
        ids = [id(t) for t in flat]
        if len(set(ids)) != len(ids):           # aliasing between arguments changes in-place semantics
            parts.append(tuple(ids.index(i) for i in ids))
    for o in objs:
        if isinstance(o, _SCALARS):
            parts.append(o)
            continue
        parts.append(id(o))
        if isinstance(o, Tensor):
            parts.append(_tensor_facts(o))
        elif isinstance(o, (list, tuple)):
            parts.append(tuple(map(id, o)))
            parts.append(tuple(_tensor_facts(x) for x in o if isinstance(x, Tensor)))
            parts.append(_numbers(o))
        elif o.__class__ is dict:
            parts.append(_numbers(o))
        elif _is_module(o):
            stack = [o]
            while stack:                        # every submodule: its flag, parameters and buffers
                m = stack.pop()
                ps, bs = m._parameters, m._buffers
                parts.append((id(m), tuple(map(id, ps.values())), tuple(map(id, bs.values())),
                              _module_hooks(m), _attrs(m)))
                for p in ps.values():
                    if p is not None:
                        d = p._data
                        parts.append((d.shape, strides(d), d.dtype, d.__class__, p._requires_grad, p._grad is None))
                for b in bs.values():
                    if b is not None:
                        d = b._data
                        parts.append((d.shape, strides(d), d.dtype, d.__class__, b._requires_grad))
                stack.extend(c for c in reversed(m._modules.values()) if c is not None)
        elif _is_plain(o):
            parts.append(_attrs(o))
        elif _is_optimizer(o):
            # the numbers of param_groups and state are guarded by the reads a trace recorded, per trace
            # (Note [optimizer reads] in compile/optreads.py)
            for g in o.param_groups:
                ps = g["params"]
                parts.append(tuple(map(id, ps)))
                parts.append(tuple(p._grad is None for p in ps))
            for st in o.state.values():
                if isinstance(st, dict):
                    parts.append(tuple((k, v.__class__) if v.__class__ in _SCALAR_TYPES
                                       else (k, id(v)) for k, v in st.items()))
    return tuple(parts)


def _attrs(o):
    """An object's Python-number attributes (``training``, dropout's ``p``, a trainer's ``scale``), and the
    numbers inside its dict and list attributes (``self.cfg["scale"]``): a trace may have read any of them,
    so each is part of the key (Note [numbers in containers])."""
    out = []
    for k, v in o.__dict__.items():
        c = v.__class__
        if c in _SCALAR_TYPES or (c is tuple and all(x.__class__ in _SCALAR_TYPES for x in v)):
            out.append((k, v))
        elif (c is dict or c is list) and v:
            n = _numbers(v)
            if n:
                out.append((k, n))
    return tuple(out)


# Note [numbers in containers]
# A trace bakes in every Python number it read. Reads of a number held directly
# (an argument, a closure cell, a global, an attribute) are covered by value;
# one level inside a captured dict or list (a global ``CFG["scale"]``, a
# module's ``self.cfg["scale"]``, a list attribute) the numbers are covered by
# value too, so changing one retraces. An optimizer's ``param_groups`` numbers
# (``lr``) and its state counters (Adam's ``state["step"]``) are read live by
# the replayed ``Optimizer.step`` (Note [capture hook]); the ones the traced
# code itself read are recorded while tracing and guarded by value, exactly
# those (Note [optimizer reads] in compile/optreads.py), so a scheduler
# changing ``lr`` keeps replaying unless the traced code read ``lr``. Deeper
# containers and numbers read through code the guards do not see (methods of
# other objects) are not covered.
def _numbers(c):
    """The Python numbers directly inside the dict or list ``c``, with their keys/positions."""
    items = c.items() if c.__class__ is dict else enumerate(c)
    return tuple([(k, v) for k, v in items if v.__class__ in _SCALAR_TYPES])


_SCALAR_TYPES = frozenset(_SCALARS)


def _global_hooks():
    import sys
    g = sys.modules.get("tapegrad.nn._hooks")
    return 0 if g is None else sum(len(getattr(g, "_global" + n)) for n in _HOOK_DICTS)


_HOOK_DICTS = ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks", "_backward_hooks")


def _module_hooks(m):
    return sum(len(getattr(m, n, ())) for n in _HOOK_DICTS)


def hooks(objs):
    """Whether a module among ``objs`` (or any submodule), or the global module hooks, has hooks."""
    import sys
    g = sys.modules.get("tapegrad.nn._hooks")
    if g is not None and any(len(getattr(g, "_global" + n)) for n in _HOOK_DICTS):
        return True
    for o in objs:
        if _is_module(o) and any(_module_hooks(m) for m in o.modules()):
            return True
    return False


def flatten(args, kwargs):
    """Tensors of the arguments in order, and a hashable spec of everything else (Python values by value)."""
    flat = []

    def spec(x):
        if isinstance(x, Tensor):
            flat.append(x)
            return ("T", len(flat) - 1)
        if isinstance(x, _SCALARS):
            return (type(x), x)
        if isinstance(x, (list, tuple)):
            return (type(x), tuple(spec(v) for v in x))
        if isinstance(x, dict):
            return (dict, tuple((k, spec(v)) for k, v in x.items()))
        if x.__class__.__module__ == "numpy" or hasattr(x, "__array_interface__"):
            raise _Unsupported(f"a {type(x).__name__} argument (its values would be baked into the trace)")
        return ("id", id(x))
    s = (spec(tuple(args)), spec(kwargs))
    return flat, s


class _Unsupported(Exception):
    pass
