"""``tapegrad.compile``: trace a call once, replay it while its guards hold.

# Note [never a wrong replay]
The first call under a new guard key (compile/guards.py) runs eagerly while a
``Tracer`` records it. The trace is kept only if everything it did was
recorded: every tensor it read has a slot, no host read of data happened, the
values of its intermediates did not change behind its back, and no captured
tensor (parameter, buffer, optimizer state) changed except through recorded
writes and effects. Otherwise that key runs eagerly from then on, and
``stats()`` says why. At most ``cache_limit`` keys are traced per function;
past that every new key runs eagerly, with one warning.
"""
import functools
import warnings

from .. import backend as B
from .._tensor import Tensor
from ..tape.capture import ACTIVE
from ..tape.node import next_seq as _next_seq
from . import backward as _backward
from . import fastguard as _fastguard
from . import guards as _guards
from . import optreads as _optreads
from .replay import Program
from .tracer import Tracer, GraphBreak

__all__ = ["compile", "CompiledFunction", "CompiledModule"]

CACHE_LIMIT = 8


class CompiledFunction:
    """A function whose calls replay captured traces (see ``tapegrad.compile``)."""

    def __init__(self, fn, fullgraph=False, disable=False, extra=(), options=None):
        self.fn = fn
        self.fusion = _fusion_option(options)
        self.fullgraph = fullgraph
        self.disable = disable
        self._extra = tuple(extra)
        self._names = _guards.captured_names(fn)
        self._cache = {}            # guard key -> [(Program or None, objects kept alive, args, optimizer reads)]
        self._warned = False
        self._stats = {"traces": 0, "replays": 0, "guard_failures": 0, "eager_calls": 0, "fallbacks": []}
        self._last = None
        self._fast = []             # (generated check, Program), most recently used first (Note [fast guards])
        self._stacklevel = 2        # the cache-limit warning names the user's call (3 through a CompiledModule)
        functools.update_wrapper(self, fn)

    def __get__(self, obj, objtype=None):
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        if self.disable or ACTIVE[0] is not None:       # a compiled call inside a trace is part of it
            return self.fn(*args, **kwargs)
        fast = self._fast
        for i, (check, prog) in enumerate(fast):
            flat = check(args, kwargs)
            if flat is not None:
                if i:
                    fast.insert(0, fast.pop(i))
                self._stats["replays"] += 1
                return prog.run(flat)
        try:
            flat, spec = _guards.flatten(args, kwargs)
        except _guards._Unsupported as e:
            return self._eager(str(e), args, kwargs)
        objs = _guards.captured(self.fn, self._names, self._extra) + _others(args, kwargs)
        k = _guards.key(objs, flat, spec, self._names)
        entry = _variant(self._cache.get(k))
        if entry is not None:
            prog = entry[0]
            if prog is None:
                self._stats["eager_calls"] += 1
                return self.fn(*args, **kwargs)
            self._stats["replays"] += 1
            return prog.run(flat)
        if self._cache:
            self._stats["guard_failures"] += 1
        if sum(map(len, self._cache.values())) >= CACHE_LIMIT:
            if not self._warned:
                self._warned = True
                warnings.warn(f"tapegrad.compile: {getattr(self.fn, '__qualname__', self.fn)} was traced "
                              f"{CACHE_LIMIT} times (the cache limit); new guard sets run eagerly. "
                              "stats() lists the traces and why guards failed.", UserWarning,
                              stacklevel=self._stacklevel)
            return self._eager("cache limit reached", args, kwargs)
        return self._trace(k, objs, flat, args, kwargs)

    def _eager(self, reason, args, kwargs):
        self._stats["eager_calls"] += 1
        if reason not in self._stats["fallbacks"]:
            self._stats["fallbacks"].append(reason)
        return self.fn(*args, **kwargs)

    def _trace(self, k, objs, flat, args, kwargs):
        self._stats["traces"] += 1
        pending = _fastguard.prepare(self.fn, self._names, self._extra, args, kwargs, flat)
        paths, known = _discover(objs, flat)
        tr = Tracer(paths, known, self.fullgraph)
        if _guards.hooks(objs):
            tr.abort("module hooks (they run Python a replay would skip; not captured yet)")
        snap = _snapshot(paths)
        boundary = _next_seq()
        rec = _optreads.Recorder([o for o in known.values() if _guards._is_optimizer(o)], objs)
        if tr.aborted is None:
            tr.optreads = rec
            rec.wrap()
        ACTIVE[0] = tr if tr.aborted is None else None
        try:
            result = self.fn(*args, **kwargs)
        except GraphBreak:
            raise
        except BaseException:
            tr.abort("the traced call raised")
            raise
        finally:
            ACTIVE[0] = None
            rec.close()         # the original dicts back in place (Note [optimizer reads])
            tr.optreads = None
        prog = None
        if tr.aborted is None:
            tr.check_draws()
        if tr.aborted is None:
            try:
                out = _grad_result(tr, result, boundary) or _result_spec(tr, result)
                prog = Program(tr.steps, len(tr.arrays), tr.consts, out, tr.arrays, self.fusion)
            except (_NotPlaced, _backward.NotCaptured) as e:
                tr.abort(str(e))
        if tr.aborted is None:
            _verify(tr, snap)
            if tr.aborted is not None:
                prog = None
        if tr.aborted is not None:
            if self.fullgraph:
                raise GraphBreak(f"tapegrad.compile(fullgraph=True): cannot capture "
                                 f"{getattr(self.fn, '__qualname__', self.fn)}: {tr.aborted}")
            self._stats["fallbacks"].append(tr.aborted)
        reads = rec.reads() if prog is not None else ()
        self._cache.setdefault(k, []).append((prog, objs, [t for t in flat], reads))
        check = _fastguard.finish(pending, reads) if prog is not None else None
        if check is not None:
            self._fast.insert(0, (check, prog))
        self._last = prog
        return result

    def stats(self):
        """Counts of traces, replays, guard failures and eager calls, and the reasons for each fallback.

        Example:
            >>> import tapegrad
            >>> f = tapegrad.compile(lambda x: x * 2)
            >>> _ = f(tapegrad.ones(2)); _ = f(tapegrad.ones(2))
            >>> f.stats()["traces"], f.stats()["replays"]
            (1, 1)
        """
        s = dict(self._stats)
        s["fallbacks"] = list(s["fallbacks"])
        progs = [e[0] for es in self._cache.values() for e in es if e[0] is not None]
        s["fused_kernels"] = sum(len(p.kernels) for p in progs)
        s["fusion_errors"] = [p.fusion_error for p in progs if p.fusion_error is not None]
        s["cached"] = sum(map(len, self._cache.values()))
        return s

    def wait_for_kernels(self, timeout=None):
        """Block until the fused kernels of every captured program are compiled (Note [background compile]).

        Returns:
            True when every captured program now runs its fused kernels.

        Example:
            >>> import tapegrad
            >>> f = tapegrad.compile(lambda x: (x * 2).exp() + 1)
            >>> _ = f(tapegrad.ones(2)); _ = f(tapegrad.ones(2))
            >>> f.wait_for_kernels()
            True
        """
        progs = [e[0] for es in self._cache.values() for e in es if e[0] is not None]
        return all([p.wait(timeout) for p in progs])

    def program(self):
        """The most recent captured program as text (one step per line), or a note why there is none.

        Fused steps show as ``fused[...]`` lines, followed by each fused kernel's source.

        Example:
            >>> import tapegrad
            >>> f = tapegrad.compile(lambda x: (x * 2).exp(), options={"fusion": False})
            >>> _ = f(tapegrad.ones(2))
            >>> print(f.program())
            %0 = load arg[0]
            %2 = multiply(%0, %1)
            %3 = exp(%2)
        """
        if self._last is None:
            return "no captured program (nothing traced yet, or the last trace fell back to eager: see stats())"
        return self._last.listing()


def _variant(entries):
    """The cached trace of a guard key whose recorded optimizer reads still hold (Note [optimizer reads])."""
    for e in entries or ():
        if _optreads.hold(e[3]):
            return e
    return None


def _others(args, kwargs):
    out = []
    for x in list(args) + list(kwargs.values()):
        if not isinstance(x, (Tensor,) + _guards._SCALARS) and (_guards._is_module(x) or _guards._is_optimizer(x)):
            out.append(x)
    return out


def _discover(objs, flat):
    paths = {}
    known = {}
    for i, t in enumerate(flat):
        paths.setdefault(id(t), (("arg", i), t))

    def visit_tensor(t):
        paths.setdefault(id(t), (("obj", t), t))
    _guards.walk_captured(objs, visit_tensor, lambda o: known.setdefault(id(o), o))
    return paths, known


def _snapshot(paths):
    """Copies of every captured tensor (not the arguments) to check nothing changed unrecorded."""
    snap = []
    for _, t in paths.values():
        d = t._data
        snap.append((t, d, B.BY_TYPE[d.__class__].copy(d), t._grad, t._version[0]))
    return snap


def _same(a, b):
    be = B.BY_TYPE[a.__class__]
    x, y = be.to_numpy(a), be.to_numpy(b)
    return x.shape == y.shape and x.dtype == y.dtype and bool(((x == y) | ((x != x) & (y != y))).all())


def _verify(tr, snap):
    """Note [never a wrong replay]: abort a trace that missed a write."""
    for t, d, copy, grad, version in snap:
        if id(t) in tr.covered:
            continue
        if t._data is not d or t._version[0] != version or not _same(d, copy) or t._grad is not grad:
            tr.abort(f"a captured tensor of shape {tuple(d.shape)} changed without a recorded op "
                     "(an in-place update the compiler does not capture yet, e.g. running statistics)")
            return
    import numpy as np
    written = tr.written
    for s, copy in tr.checks:
        a = tr.arrays[s]
        if id(a) in tr.released or _same(a, copy):
            continue
        if a.__class__ is np.ndarray and any(w.__class__ is np.ndarray and np.may_share_memory(a, w)
                                             for w in written):
            continue
        tr.abort("an intermediate changed in place outside the recorded ops")
        return


class _NotPlaced(Exception):
    pass


def _grad_result(tr, r, boundary):
    """Note [compiled backward]: a single result that requires grad gets a node replaying its backward."""
    if not isinstance(r, Tensor) or not r._requires_grad or r._grad_fn is None or tr.path_of(r) is not None:
        return None
    s = tr.slot_of.get(id(r._data))
    if s is None or s in tr.loads:
        return None
    ACTIVE[0] = tr
    try:
        seed, steps, edges, versions = _backward.capture(tr, r, boundary)
    finally:
        ACTIVE[0] = None
    if tr.aborted is not None:
        raise _NotPlaced(tr.aborted)
    return ("grad", _backward.make_result, s, seed, steps, edges, versions)


def _result_spec(tr, r):
    if isinstance(r, Tensor):
        p = tr.path_of(r)
        if p is not None:
            return ("tensor", p)        # an argument or captured tensor itself
        s = tr.slot_of.get(id(r._data))
        if s is None:
            raise _NotPlaced("the result is a tensor the trace cannot place")
        if r._requires_grad:
            raise _NotPlaced("the result requires grad: a backward outside the compiled function is not "
                             "captured yet")
        return ("slot", s)              # a new tensor on the slot's array (a detached input shares it)
    if isinstance(r, _guards._SCALARS):
        return ("const", r)
    if isinstance(r, dict):
        return ("dict", tuple(r), tuple(_result_spec(tr, v) for v in r.values()))
    if isinstance(r, (list, tuple)):
        return ("seq", type(r) if type(r) in (list, tuple) else type(r), tuple(_result_spec(tr, v) for v in r))
    raise _NotPlaced(f"the result holds a {type(r).__name__}")


class CompiledModule:
    """A module wrapper whose ``forward`` is compiled; everything else passes through to the module."""

    def __init__(self, module, **options):
        object.__setattr__(self, "_orig_mod", module)
        # the module's __call__, so an eager fallback runs its hooks as ``module(x)`` does
        object.__setattr__(self, "_compiled", CompiledFunction(module.__call__, extra=(module,), **options))
        self._compiled._stacklevel = 3

    def __call__(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    forward = __call__

    def __getattr__(self, name):
        return getattr(self._orig_mod, name)

    def __setattr__(self, name, value):
        setattr(self._orig_mod, name, value)

    def __repr__(self):
        return f"CompiledModule({self._orig_mod!r})"

    def stats(self):
        """As ``CompiledFunction.stats`` for the module's forward."""
        return self._compiled.stats()

    def program(self):
        """As ``CompiledFunction.program`` for the module's forward."""
        return self._compiled.program()

    def wait_for_kernels(self, timeout=None):
        """As ``CompiledFunction.wait_for_kernels`` for the module's forward."""
        return self._compiled.wait_for_kernels(timeout)

    def train(self, mode=True):
        self._orig_mod.train(mode)
        return self

    def eval(self):
        return self.train(False)


def _fusion_option(options):
    fusion = (options or {}).get("fusion", True)      # other keys are torch.compile's (inductor): ignored
    if fusion not in (True, False):
        raise ValueError(f"tapegrad.compile: options['fusion'] must be True or False, got {fusion!r}")
    return fusion


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None, options=None, disable=False):
    """Capture a function (or a module's forward) on its first call and replay it on later calls.

    As ``torch.compile``: the first call under new conditions runs eagerly while
    recording every backend call it makes (forward ops, the VJPs its
    ``backward()`` runs, ``.grad`` accumulation, in-place writes, optimizer
    steps, dropout draws); later calls whose guards hold (shapes, dtypes,
    devices, ``requires_grad``, grad mode, ``training`` flags, parameter and
    optimizer-state identity, Python values) replay that record without
    dispatch or graph building. Anything that cannot be captured (a host read
    such as ``.item()``, a tensor made inside the function) makes the call run
    eagerly, so a replay never differs from the eager run; ``stats()`` says why.

    Args:
        model: a function or an ``nn.Module`` (usable as ``@tapegrad.compile`` or ``@tapegrad.compile(...)``).
        fullgraph: raise instead of falling back to eager.
        options: ``{"fusion": False}`` replays without fused kernels (Note [what may be fused]).
        dynamic, backend, mode: accepted for PyTorch compatibility; only the default behaviour exists.
        disable: return a wrapper that always runs eagerly.

    Returns:
        A ``CompiledFunction`` (or ``CompiledModule``) with ``stats()`` and ``program()``.

    Example:
        >>> import tapegrad
        >>> w = tapegrad.ones(3, requires_grad=True)
        >>> @tapegrad.compile
        ... def step(x):
        ...     loss = (w * x).sum()
        ...     loss.backward()
        ...     return loss.detach()
        >>> [step(tapegrad.tensor([1., 2., 3.])).item() for _ in range(3)]
        [6.0, 6.0, 6.0]
        >>> w.grad
        tensor([3., 6., 9.])
        >>> s = step.stats(); s["traces"], s["replays"]      # w.grad None, then set: two guard sets
        (2, 1)
    """
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, disable=disable)
    if not callable(model):
        raise TypeError(f"tapegrad.compile: expected a function or a Module, got {type(model).__name__}")
    if _guards._is_module(model):
        return CompiledModule(model, fullgraph=fullgraph, disable=disable, options=options)
    return CompiledFunction(model, fullgraph=fullgraph, disable=disable, options=options)
