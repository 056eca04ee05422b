"""The recorder: runs one call eagerly and writes down every backend-level step it took.

# Note [trace slots]
Every array the trace touches gets a slot. A *load* slot reads a tensor the
trace did not make (an argument, a parameter, optimizer state, a ``.grad``)
through a path evaluated at replay (``("arg", i)``, ``("obj", T)``,
``("grad", T)``); a *produced* slot is the result of a recorded step (an op's
forward, a VJP, the engine's ``sum_to``/cast/add, a fresh random draw); a
*constant* slot holds a Python number or NumPy scalar an op was given. Arrays
are matched to slots by identity, so every array stays alive until the trace
ends (no id is reused). Whatever the recorder cannot place (a tensor made by a
factory inside the function, an array inside an op's params, a host read of
data) ends the trace: the call finishes eagerly and that guard set runs
eagerly from then on (Note [never a wrong replay] in compile/api.py).
"""
import copy
import sys

from .. import backend as B
from .._tensor import Tensor
from ..tape.capture import ACTIVE
from . import sweep as _sweep

__all__ = ["Tracer", "user_line"]

from .steps import LOAD, OP, CAST, WRITE, CALL, SRC


def user_line():
    """``file:line`` of the innermost frame outside tapegrad (where the user's code read the data)."""
    import os
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    f = sys._getframe(1)
    while f is not None:
        if not os.path.abspath(f.f_code.co_filename).startswith(root + os.sep):
            return f"{f.f_code.co_filename}:{f.f_lineno}"
        f = f.f_back
    return "<unknown>"


class GraphBreak(RuntimeError):
    """Raised with ``fullgraph=True`` where a trace would break (a host read of tensor data)."""


class Tracer:
    """Records one eager call (Note [trace slots]); ``aborted`` names why a trace could not be kept."""

    def __init__(self, paths, known, fullgraph):
        self.paths = paths          # id(tensor) -> (path, tensor): arguments and captured tensors
        self.known = known          # id -> object: modules and optimizers the guards cover
        self.fullgraph = fullgraph
        self.steps = []
        self.arrays = []            # slot -> array (keeps every id alive, Note [trace slots])
        self.consts = {}            # slot -> constant value
        self.slot_of = {}           # id(array) -> slot
        self.loads = set()          # load slots
        self.checks = []            # (slot, copy): produced values that must not change behind the trace's back
        self.written = []           # arrays written in place by recorded writes
        self.released = set()       # ids of arrays handed to a .grad (the engine may add into them)
        self.covered = set()        # ids of captured tensors recorded writes or effects may change
        self.grads = {}             # id(grad tensor) -> leaf
        self.aborted = None
        self.owners = {id(t._data): t for _, t in paths.values()}     # captured arrays -> their tensors
        self.streams = _streams()   # Note [recorded draws]: each backend's random stream as the trace began
        self.optreads = None        # the optimizer-read Recorder (Note [optimizer reads] in compile/optreads.py)

    def check_draws(self):
        """Note [recorded draws]: abort unless the recorded draws explain every change of the random streams."""
        for be, rng, start in self.streams:
            if be.rng is not rng:
                return self.abort("the random stream was reseeded inside the traced call (manual_seed)")
            scratch = copy.deepcopy(start)
            be.rng = scratch
            try:
                for st in self.steps:
                    if st[0] is SRC and any(a is be for a in st[3]):
                        st[2](*st[3])
            finally:
                be.rng = rng
            if not _same_stream(scratch, rng):
                return self.abort(f"a random draw the trace does not record (a random factory such as "
                                  f"tapegrad.rand inside the function, or an in-place random fill) on "
                                  f"{be.device_type}: a replay would leave the random stream behind the eager run")

    # ------------------------------------------------------------ slots
    def _new(self, array):
        s = len(self.arrays)
        self.arrays.append(array)
        if id(array) not in self.slot_of:
            self.slot_of[id(array)] = s
        return s

    def produced(self, array):
        s = self._new(array)
        if array.__class__ in B.BY_TYPE:
            self.checks.append((s, B.BY_TYPE[array.__class__].copy(array)))
        return s

    def const(self, value):
        s = self._new(value)
        self.consts[s] = value
        return s

    def path_of(self, t):
        e = self.paths.get(id(t))
        if e is not None:
            return e[0]
        leaf = self.grads.get(id(t))
        if leaf is not None and leaf._grad is t:
            return ("grad", leaf)
        return None

    def input_of(self, node, nr):
        """The path of the argument or captured tensor whose history ends in ``(node, nr)``, or None."""
        for p, t in self.paths.values():
            if t._grad_fn is node and t._output_nr == nr:
                return p
        return None

    def tensor_slot(self, t):
        a = t._data
        s = self.slot_of.get(id(a))
        if s is not None:
            return s
        p = self.path_of(t)
        if p is None:
            raise _Abort(f"reads a tensor of shape {tuple(a.shape)} that was made outside the traced ops "
                         f"(a factory or random call inside the function, or an object the compiler cannot "
                         f"see) at {user_line()}")
        s = self._new(a)
        self.loads.add(s)
        self.steps.append((LOAD, s, p))
        return s

    def _param_slot(self, op, a):
        s = self.slot_of.get(id(a))
        if s is None:
            t = self.owners.get(id(a))
            if t is None or t._data is not a:
                raise _Abort(f"{op.name}: an array parameter the trace cannot place")
            s = self.tensor_slot(t)
        return s

    def _forget_loads(self):
        """After an effect or a .grad update a path may point at another array: reload it."""
        for k in [k for k, s in self.slot_of.items() if s in self.loads]:
            del self.slot_of[k]

    # ------------------------------------------------------------ hooks (Note [capture hook])
    def abort(self, reason):
        if self.aborted is None:
            self.aborted = reason
        ACTIVE[0] = None
        if self.optreads is not None:       # the rest of the call runs eagerly on the original dicts
            self.optreads.close()

    def forward(self, op, args, arrays, params, out, be):
        try:
            ins = []
            for i, x in enumerate(arrays):
                s = self.slot_of.get(id(x))
                if s is None:
                    a = args[i] if i < len(args) else None
                    if isinstance(a, Tensor):
                        if a._data is x:
                            s = self.tensor_slot(a)
                        elif x.__class__ is a._data.__class__ and x.shape == a._data.shape:
                            src = self.tensor_slot(a)      # a promotion cast
                            s = self.produced(x)
                            self.steps.append((CAST, s, src, be, x.dtype))
                        else:
                            raise _Abort(f"{op.name}: an input was converted in a way the trace cannot replay")
                    elif x.__class__ in B.BY_TYPE:
                        raise _Abort(f"{op.name}: an array argument that is not a tensor")
                    else:
                        s = self.const(x)
                ins.append(s)
            kw = {}
            kws = []
            for k, v in params.items():
                if v.__class__ in B.BY_TYPE:
                    kws.append((k, self._param_slot(op, v)))
                elif v.__class__ in (tuple, list) and any(x.__class__ in B.BY_TYPE for x in v):
                    # an array inside a tuple param (batch_norm's running statistics): a slot each
                    kws.append((k, (v.__class__, tuple((self._param_slot(op, x),) if x.__class__ in B.BY_TYPE
                                                       else x for x in v))))
                elif isinstance(v, (tuple, list)) and any(isinstance(x, Tensor) for x in v):
                    raise _Abort(f"{op.name}: tensors inside the parameter {k!r}")
                else:
                    kw[k] = v
            if id(out) in self.slot_of:     # an identity forward: the result is an input
                return
            s = self.produced(out)
            self.steps.append((OP, op, be, tuple(ins), kw, tuple(kws), s))
        except _Abort as e:
            self.abort(str(e))

    def backward(self, roots, grad_roots, retain_graph, create_graph, inputs):
        """The engine's entry while tracing: True when the traced sweep ran this backward."""
        if create_graph or inputs is not None:
            self.abort("a backward with create_graph=True or autograd.grad (not captured yet)")
            return False
        why = _sweep.unsupported(self, roots, grad_roots)
        if why is not None:
            self.abort(why)
            return False
        _sweep.run(self, roots, grad_roots, retain_graph)
        return True

    def effect(self, fn, args, kwargs):
        why = None
        if kwargs.get("closure") is not None or (len(args) > 1 and callable(args[1])):
            why = f"{fn.__qualname__} with a closure"
        paths = []
        for a in args:
            if isinstance(a, Tensor):
                p = self.path_of(a)
                if p is None:
                    why = f"{fn.__qualname__} on a tensor the compiler cannot see"
                paths.append(p)
            elif isinstance(a, (bool, int, float, type(None), str)) or id(a) in self.known:
                paths.append(None)
            else:
                why = f"{fn.__qualname__} on an object the compiler cannot see ({type(a).__name__})"
        # Note [optimizer reads]: a call on an object (``opt.step()``) sees the original dicts and is not
        # recorded (a replay runs it again, reading them live); a tensor-only effect leaves the wrappers
        rec = self.optreads if any(id(a) in self.known for a in args) else None
        if rec is not None:
            rec.unwrap()
        ACTIVE[0] = None
        try:
            r = fn(*args, **kwargs)
        finally:
            ACTIVE[0] = self if self.aborted is None and why is None else None
        if why is None and r is not None:
            why = f"{fn.__qualname__} returned a value"
        if why is not None:
            self.abort(why)
            return r
        self.steps.append((CALL, fn, args, tuple(paths), kwargs))
        for a in args:
            self._cover(a)
        self._forget_loads()
        if rec is not None and self.aborted is None:
            rec.wrap()
        return r

    def _cover(self, a):
        if isinstance(a, Tensor):
            self.covered.add(id(a))
            if a._grad is not None:
                self.covered.add(id(a._grad))
            return
        for g in getattr(a, "param_groups", ()):
            for p in g["params"]:
                self._cover(p)
        for st in getattr(a, "state", {}).values():
            for v in st.values() if isinstance(st, dict) else ():
                if isinstance(v, Tensor):
                    self.covered.add(id(v))

    def write(self, t, value):
        try:
            dst = self.tensor_slot(t)
            src = self.slot_of.get(id(value))
            if src is None:
                raise _Abort("an in-place write of a value the trace cannot place")
            self.steps.append((WRITE, dst, src, t._backend, self.path_of(t)))
            self.written.append(t._data)
            self.covered.add(id(t))
        except _Abort as e:
            self.abort(str(e))

    def source(self, array, fn, args):
        s = self.produced(array)
        self.steps.append((SRC, s, fn, args))

    def host_read(self, t, what):
        where = user_line()
        msg = f"{what} reads tensor data on the host at {where} (data-dependent Python)"
        if self.fullgraph:
            self.abort(msg)
            raise GraphBreak(f"tapegrad.compile(fullgraph=True): {msg}; remove the read or compile without "
                             "fullgraph to fall back to eager there")
        self.abort(msg)


class _Abort(Exception):
    pass


# Note [recorded draws]
# A replay draws only what the trace recorded as ``SRC`` steps (dropout masks),
# so any other draw during the traced call (``tapegrad.rand`` whose result is
# never read, an ``uniform_`` fill, a reseed) would leave the replayed random
# stream behind the eager one. The tracer keeps a copy of each backend's stream
# as the trace began; at its end it redoes the recorded draws on that copy and
# aborts the trace (eager from then on) unless the copy lands exactly where the
# live stream is.
def _streams():
    out, seen = [], set()
    for be in list(B.BY_TYPE.values()):
        rng = be.rng
        if rng is None or id(be) in seen:
            continue
        seen.add(id(be))
        out.append((be, rng, copy.deepcopy(rng)))
    return out


def _same_stream(a, b):
    bg = getattr(a, "bit_generator", None)
    if bg is not None:
        return bg.state == b.bit_generator.state
    va, vb = vars(a), vars(b)
    return va.keys() == vb.keys() and all(bool(va[k] == vb[k]) for k in va)
