"""A trace's guards as one generated Python function of straight-line checks.

# Note [fast guards]
``guards.key`` walks everything a trace may depend on and builds a tuple per
call: about 50 µs for a small MLP step. Once a trace exists, the same facts are
known objects: the closure cells, globals, modules, parameters, optimizer
state and arguments it saw. ``build`` walks them once, exactly as ``captured``
and ``key`` do, and writes each fact as one comparison against a constant,
identity checks first, into the source of ``check(args, kwargs)``, which
returns the call's flat tensor list or None. Every check is at least as strict
as the key part it stands for (identity where the key has an id or a value
that is not a number; ``len`` of every dict whose entries it checks), so
``check`` passing implies the key is equal and the trace replays. A failed
check only costs the slow path (``key`` and the cache), never a wrong replay.

What keeps it cheap (about 40 ns per condition, so the count matters): the
constants are default arguments of ``check`` (fast locals, not global
lookups); a condition on constants only is written once (a parameter's
``.grad`` reached from its module and its optimizer); empty containers are
tested by their truth value; a small int (CPython keeps one object per value
in -5..256) by identity, which implies its type and value; any other number
or str is read once and passes at once when it is the very object the trace
saw (then its type and value are too), else by its exact type and ``==``; an
entry of a plain dict (a global, an optimizer's state, a recorded optimizer
read) is ``d[k]`` or ``k not in d`` rather than a ``get`` call (a missing key
raises KeyError, which fails the check). A dict or list attribute's length is
checked even when it holds no number yet, as the key would change once one is
added. The optimizer numbers the trace read are added after the traced call
(``finish``; Note [optimizer reads]).

What does not make it cheaper (measured on the 64-32-10 MLP step, 173
conditions, about 3.7 µs warm, 7-9 µs inside the step where the step's arrays
have evicted what the check reads): comparing a module's ``__dict__`` in one
C-built tuple. ``tuple(map(id, ...))`` is exact but allocates an int per value
(3-4x slower than the ``is`` chain); ``all(map(operator.is_, ...))`` is exact
and 1.3-2x slower; ``itemgetter(...)(d) == values`` is no faster and not exact
(``==`` falls back to the current value's ``__eq__`` when it is not the same
object: an equal new dict or a one-element tensor passes). Constants as
``co_consts`` instead of default arguments measured within noise. The checks
are about 20 ns each warm, and cold mostly by the objects they must touch.
"""
import re
import sys
import types

from .._tensor import Tensor
from ..tape import anomaly as _anomaly
from ..tape import grad_mode as _gm
from . import guards as _g
from . import optreads as _optreads

__all__ = ["build", "prepare", "finish"]

_LOCAL = re.compile(r"\b(d|t|v|flat|args|kwargs)\b")    # the generated function's own locals

_MISSING = _g._MISSING


# Note [inert module attributes]
# A module's ``__dict__`` entries are guarded one by one, but five of them cannot
# change what a traced call computes: ``_non_persistent`` (buffer names
# ``state_dict`` leaves out) and ``_load_state_dict_pre_hooks`` are read only by
# ``state_dict``/``load_state_dict``, and the ``*_with_kwargs``/``_always_called``
# tables are read by ``Module.__call__`` only for hooks in ``_forward_pre_hooks``/
# ``_forward_hooks``, whose presence is guarded (a module with hooks is not
# compiled: guards.hooks). Their identity is not checked (the dict's own identity
# and length still are); that is 5 conditions a module, ~1.4 µs of a 55 µs step.
_INERT_MODULE_ATTRS = frozenset(("_non_persistent", "_load_state_dict_pre_hooks", "_forward_pre_hooks_with_kwargs",
                                 "_forward_hooks_with_kwargs", "_forward_hooks_always_called"))


class _Builder:
    def __init__(self):
        self.consts = {}            # name -> object
        self.ids = {}               # id(object) -> name
        self.lines = []
        self.seen = set()
        self.done = set()           # conditions on constants already written

    def c(self, obj):
        """A name for the constant ``obj`` in the generated code."""
        n = self.ids.get(id(obj))
        if n is None:
            n = self.ids[id(obj)] = f"K{len(self.consts)}"
            self.consts[n] = obj
        return n

    def need(self, *conds):
        # a condition on constants only that an earlier line already checked (a parameter's ``.grad`` is
        # None from its module and from its optimizer) is left out: the check has no side effects
        fresh = []
        for c in conds:
            if _LOCAL.search(c) is None:
                if c in self.done:
                    continue
                self.done.add(c)
            fresh.append(c)
        if fresh:
            self.lines.append(f"    if not ({' and '.join(fresh)}): return None")

    @staticmethod
    def none(expr, is_none):
        return f"{expr} is None" if is_none else f"{expr} is not None"

    def empty(self, c):
        """``len(c) == 0`` for the dict or list constant ``c``, written as its truth value."""
        return f"not {self.c(c)}" if c.__class__ in (dict, list) or isinstance(c, dict) else f"len({self.c(c)}) == 0"

    def value(self, expr, v):
        """``expr`` equals the number/str ``v`` (its exact type first), or is ``v`` itself otherwise."""
        if v.__class__ is int and -5 <= v <= 256:
            return [f"{expr} is {self.c(v)}"]       # CPython's one object per small int: is ⇒ int and ==
        if v.__class__ in _g._SCALAR_TYPES and v is not None and v.__class__ is not bool:
            # Note [fast guards]: ``expr`` read once; the very object ⇒ its type and value (a NaN too)
            K = self.c(v)
            return [f"((v := {expr}) is {K} or (v.__class__ is {self.c(v.__class__)} and v == {K}))"]
        return [f"{expr} is {self.c(v)}"]

    def entry(self, d, k, v):
        """``d.get(k, MISSING)`` stands for ``v`` (``value``): for a plain dict as ``k not in d`` or through
        ``d[k]`` (a missing key raises KeyError, which fails the check), no method call (Note [fast guards])."""
        D = self.c(d)
        kk = repr(k) if k.__class__ is str else self.c(k)
        if d.__class__ is not dict:         # a subclass's get/__getitem__/__missing__ may differ
            e = f"{D}.get({kk}, MISSING)"
        elif v is _MISSING:
            return [f"{kk} not in {D}"]
        else:
            e = f"{D}[{kk}]"
        if v.__class__ is tuple:
            return [f"((v := {e}) is {self.c(v)} or SAME(v, {self.c(v)}))"]
        return self.value(e, v)

    # ------------------------------------------------------------ what captured() returns
    def captured(self, fn, names, extra, depth=0):
        out = list(extra)
        self_ = getattr(fn, "__self__", None)
        if self_ is not None:
            out.append(self_)
        f = getattr(fn, "__func__", fn)
        for i, cell in enumerate(getattr(f, "__closure__", None) or ()):
            try:
                v = cell.cell_contents
            except ValueError:
                raise _Give("an empty closure cell")
            self.need(*self.value(f"{self.c(cell)}.cell_contents", v))
            out.append(v)
        g = getattr(f, "__globals__", {})
        for n in () if _g._library(f) else names:
            v = g.get(n, _MISSING)
            if ("global", id(g), n) not in self.seen:       # a name several functions read: checked once
                self.seen.add(("global", id(g), n))
                self.need(*self.entry(g, n, v))
            out.append(v)
        for o in list(out):
            if isinstance(o, types.FunctionType) and depth < 2 and o is not f:
                out.extend(self.captured(o, _g.captured_names(o), (), depth + 1))
            elif _g._is_plain(o):
                vals = [v for v in vars(o).values() if isinstance(v, Tensor) or _g._is_module(v)
                        or _g._is_optimizer(v)]
                self.attrs(o)
                out.extend(vals)
        return out

    # ------------------------------------------------------------ what key() reads
    def attrs(self, o):
        """``_attrs(o)``: the same set of number attributes with the same values (identity for the rest)."""
        if ("attrs", id(o)) in self.seen:
            return
        self.seen.add(("attrs", id(o)))
        d = o.__dict__
        D = self.c(d)
        conds = [f"{self.c(o)}.__dict__ is {D}", f"len({D}) == {len(d)}"]
        inert = _INERT_MODULE_ATTRS if _g._is_module(o) else ()
        for k, v in d.items():
            if k in inert:
                continue
            e = f"{D}[{k!r}]"
            if v.__class__ in _g._SCALAR_TYPES or (v.__class__ is tuple
                                                     and all(x.__class__ in _g._SCALAR_TYPES for x in v)):
                conds += self.value(e, v)
            else:
                conds.append(f"{e} is {self.c(v)}")
                if v.__class__ is dict or v.__class__ is list:
                    # its length even when it holds no number yet: ``self.cfg = {}`` read with
                    # ``.get("scale", 1.0)`` must retrace once ``cfg["scale"]`` is set
                    conds += self.numbers(v)
        self.need(*conds)

    def numbers(self, c):
        """``_numbers(c)`` unchanged: the same length, and each number at its key by value (Note [numbers in
        containers] in guards.py)."""
        C = self.c(c)
        conds = [f"len({C}) == {len(c)}" if c else self.empty(c)]
        for k, v in _g._numbers(c):
            kk = repr(k) if k.__class__ in (str, int) else self.c(k)
            conds += self.value(f"{C}[{kk}]", v)
        return conds

    def layout(self, a, d):
        """Note [layout guard]: the array's strides, where its storage has them."""
        st = _g.strides(d)
        return () if st is None else (f"{a}.strides == {self.c(st)}",)

    def facts(self, t, grad_fn=True):
        d = t._data
        T, a = self.c(t), "d"
        self.lines.append(f"    d = {T}._data")
        conds = [f"{a}.__class__ is {self.c(d.__class__)}", f"{a}.shape == {self.c(d.shape)}",
                 *self.layout(a, d), f"{a}.dtype is {self.c(d.dtype)}", f"{T}._requires_grad is {t._requires_grad}",
                 self.none(f"{T}._grad", t._grad is None)]
        if grad_fn:
            conds.append(self.none(f"{T}._grad_fn", t._grad_fn is None))
        self.need(*conds)

    def obj(self, o):
        if o.__class__ in _g._SCALAR_TYPES:
            return                          # checked by value where it was reached
        if isinstance(o, Tensor):
            self.facts(o)
        elif isinstance(o, (list, tuple)):
            L = self.c(o)
            self.need(f"len({L}) == {len(o)}", *(f"{L}[{i}] is {self.c(x)}" for i, x in enumerate(o)
                                                  if x.__class__ not in _g._SCALAR_TYPES), *self.numbers(o))
            for x in o:
                if isinstance(x, Tensor):
                    self.facts(x)
        elif o.__class__ is dict:
            self.need(*self.numbers(o))
        elif _g._is_module(o):
            if id(o) in self.seen:
                return
            self.seen.add(id(o))
            for m in _modules(o):
                self.attrs(m)               # identity of _parameters/_buffers/_modules and hook dicts
                for dname in ("_parameters", "_buffers", "_modules"):
                    dd = getattr(m, dname)
                    DD = self.c(dd)
                    self.need(f"len({DD}) == {len(dd)}" if dd else self.empty(dd),
                              *(f"{DD}[{k!r}] is {self.c(v)}" for k, v in dd.items()))
                self.need(*(self.empty(getattr(m, n)) if not len(getattr(m, n))
                            else f"len({self.c(getattr(m, n))}) == {len(getattr(m, n))}" for n in _g._HOOK_DICTS
                            if hasattr(m, n)))
                for p in m._parameters.values():
                    if p is not None:
                        self.facts(p, grad_fn=False)
                for b in m._buffers.values():
                    if b is not None:
                        self.facts(b, grad_fn=False)
        elif _g._is_plain(o):
            self.attrs(o)
        elif _g._is_optimizer(o):
            if id(o) in self.seen:
                return
            self.seen.add(id(o))
            O = self.c(o)
            self.need(f"{O}.param_groups is {self.c(o.param_groups)}",
                      f"len({self.c(o.param_groups)}) == {len(o.param_groups)}")
            for i, g in enumerate(o.param_groups):
                ps = g["params"]
                self.need(f"{self.c(o.param_groups)}[{i}] is {self.c(g)}", f"{self.c(g)}['params'] is {self.c(ps)}",
                          f"len({self.c(ps)}) == {len(ps)}",
                          *(f"{self.c(ps)}[{j}] is {self.c(p)}" for j, p in enumerate(ps)),
                          *(self.none(f"{self.c(p)}._grad", p._grad is None) for p in ps))
            st = o.state
            S = self.c(st)
            self.need(f"{O}.state is {S}", f"len({S}) == {len(st)}")
            for k, v in st.items():
                # a plain dict: ``S[k]`` (KeyError fails the check) instead of a ``get`` call
                self.need(f"{S}[{self.c(k)}] is {self.c(v)}" if st.__class__ is dict
                          else f"{S}.get({self.c(k)}, MISSING) is {self.c(v)}")
                if isinstance(v, dict):
                    V = self.c(v)
                    self.need(f"len({V}) == {len(v)}",
                              *(f"{V}[{kk!r}] is {self.c(vv)}" for kk, vv in v.items()
                                if vv.__class__ not in _g._SCALAR_TYPES))
                    for kk, vv in v.items():        # a counter (Adam's step) is read live by the replayed step
                        if vv.__class__ in _g._SCALAR_TYPES:
                            self.need(f"{V}[{kk!r}].__class__ is {self.c(vv.__class__)}")
        else:
            return                          # only its identity is in the key (checked where it was reached)

    # ------------------------------------------------------------ the arguments (flatten's spec)
    def args(self, expr, x, flat):
        if isinstance(x, Tensor):
            self.need(f"isinstance({expr}, Tensor)")
            flat.append(expr)
        elif x.__class__ in _g._SCALAR_TYPES or isinstance(x, _g._SCALARS):
            self.need(*self.value(expr, x))
        elif x.__class__ in (list, tuple):
            self.need(f"{expr}.__class__ is {self.c(x.__class__)}", f"len({expr}) == {len(x)}")
            for i, v in enumerate(x):
                self.args(f"{expr}[{i}]", v, flat)
        elif x.__class__ is dict:
            self.need(f"{expr}.__class__ is dict", f"tuple({expr}) == {self.c(tuple(x))}")
            for k, v in x.items():
                self.args(f"{expr}[{k!r}]", v, flat)
        else:
            self.need(f"{expr} is {self.c(x)}")


class _Give(Exception):
    pass


def _modules(o):
    out, stack = [], [o]
    while stack:
        m = stack.pop()
        out.append(m)
        stack.extend(c for c in reversed(m._modules.values()) if c is not None)
    return out


def build(fn, names, extra, args, kwargs, flat, reads=()):
    """The generated check for a trace of ``fn(*args, **kwargs)`` (Note [fast guards]), or None when some fact
    cannot be written as a constant check (then every call takes the slow path). ``reads`` are the optimizer
    reads the trace recorded (Note [optimizer reads] in compile/optreads.py)."""
    return finish(prepare(fn, names, extra, args, kwargs, flat), reads)


def prepare(fn, names, extra, args, kwargs, flat):
    """The checks of the facts as they are before a traced call, to be completed by ``finish`` once the call
    has run; None when some fact cannot be written as a constant check."""
    b = _Builder()
    try:
        fl = []
        b.need("args.__class__ is tuple", f"len(args) == {len(args)}")
        for i, a in enumerate(args):
            b.args(f"args[{i}]", a, fl)
        if kwargs:
            b.args("kwargs", kwargs, fl)
        else:
            b.need("not kwargs")
        b.lines.append(f"    flat = [{', '.join(fl)}]")
        b.need(f"GM.enabled is {_gm.STATE.enabled}", f"AN[0] is {_anomaly.ENABLED[0]}")
        hooks = sys.modules.get("tapegrad.nn._hooks")
        if hooks is None:
            b.need("'tapegrad.nn._hooks' not in MODS")
        else:
            b.need(*(f"not {b.c(hooks)}._global{n}" for n in _g._HOOK_DICTS))
            if _g._global_hooks():
                raise _Give("global hooks")
        for i, t in enumerate(flat):
            b.lines.append(f"    t = flat[{i}]; d = t._data")
            b.need(f"d.__class__ is {b.c(t._data.__class__)}", f"d.shape == {b.c(t._data.shape)}",
                   *b.layout("d", t._data), f"d.dtype is {b.c(t._data.dtype)}", f"t._requires_grad is {t._requires_grad}",
                   b.none("t._grad_fn", t._grad_fn is None), b.none("t._grad", t._grad is None))
        for i, t in enumerate(flat):        # the same aliasing between arguments
            for j in range(i):
                b.need(f"(flat[{i}] is flat[{j}]) is {t is flat[j]}")
        objs = b.captured(fn, names, extra)
        for x in list(args) + list(kwargs.values()):
            if not isinstance(x, (Tensor,) + _g._SCALARS) and (_g._is_module(x) or _g._is_optimizer(x)):
                objs.append(x)
        for o in objs:
            b.obj(o)
    except _Give:
        return None
    return b


def finish(b, reads=()):
    """The check function of the builder ``b`` from ``prepare`` with the recorded optimizer ``reads`` added
    (each key at the value it had when the trace began), or None when ``b`` is None."""
    if b is None:
        return None
    n = len(b.lines)
    for d, k, v in reads:
        D = b.c(d)
        if k is _optreads.LEN:
            b.need(f"len({D}) == {v}")
            continue
        b.need(*b.entry(d, k, v))
    # first: a number the trace read (lr changed by a scheduler) is the likeliest check to fail
    b.lines[:] = b.lines[n:] + b.lines[:n]
    body = "\n".join("    " + ln for ln in b.lines)         # a missing key or attribute fails the check too
    ns = dict(b.consts, MISSING=_MISSING, Tensor=Tensor, GM=_gm.STATE, AN=_anomaly.ENABLED, MODS=sys.modules,
              SAME=_optreads.same, len=len, isinstance=isinstance, tuple=tuple)
    # every constant is a default argument: a fast local instead of a global lookup (Note [fast guards])
    params = "".join(f", {n}={n}" for n in ns)
    src = (f"def check(args, kwargs{params}):\n    try:\n" + body + "\n    except (KeyError, IndexError, "
           "AttributeError, ValueError, TypeError):\n        return None\n    return flat\n")
    exec(compile(src, "<tapegrad.compile guards>", "exec"), ns)     # noqa: S102 - our own generated checks
    check = ns["check"]
    check.source = src
    return check
