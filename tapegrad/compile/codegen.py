"""A captured program's replay as one generated Python function: a straight-line statement per step.

# Note [generated replay]
``replay.execute`` interprets the step tuples: per step a loop iteration, a
dispatch on the kind, tuple unpacking, list indexing and argument lists built
at run time. ``generate`` writes that work out once per program: one
statement per step, values in local variables
``v<slot>``, every op forward, VJP, bound backend method and constant a
closure cell (plain numbers and strings inline), keyword arguments spelled
out, load paths resolved inline (``flat[i]`` / a captured tensor /
``._grad``), and the result built by one expression after the steps.

It does exactly what ``execute`` does, so a replay is bit-identical:

* A slot lives in one place only, a local or the slot list ``vals``, as long
  as it would in ``execute`` (till the call returns, or till an ``ACC`` step
  hands it over): the reference count ``engine._accumulate`` reads to decide
  whether ``.grad`` can take an array without a copy (Note [handing over
  gradients]) is the one ``execute`` sees. A handed-over local is deleted
  after the call as ``execute`` clears its slot before it; temporaries never
  outlive their statement.
* ``vals`` (a copy of the program's template) exists only where something
  reads slots by number: a fused kernel called with the slot protocol
  (``kernel(vals)``: CUDA kernels, and CPU kernels whose buffers are fresh on
  every replay) and a result with a captured backward (Note [compiled
  backward], whose VJP runs ``execute`` on that list). A CPU kernel with
  buffers fixed at build time (the common case, Note [memory plan]) is called
  inline on its inputs, and its published rows are its fixed views.
* Live state is read live: load paths, ``._grad``, ``._version`` (writes bump
  it), hyperparameters inside replayed effects. NumPy runs quiet (Note [quiet
  NumPy]) for the steps and not for building the result, as in ``execute``.
* An op forward's result that is not an array goes through the backend's
  ``asarray``; a VJP that returns a single gradient bare or in a 1-tuple
  gives the same value.

When: a program is generated on its first replay, not when it is traced (the
trace before ``.grad`` exists is typically never replayed); a program with
fused kernels interprets its unfused steps while they compile (Note
[background compile]) and the compiling thread generates the fused steps
(short: a few statements per kernel), so a long unfused program is generated
only if its kernels fail. Python's compiler is the cost: about 10 to 40 µs
per step on the 2-core development machine, depending on its load (a
1,000-step program in 10 to 40 ms, 2,000 steps in 20 to 100 ms: about what
tracing those steps costs), linear in the length, so one function per
program needs no chunks. Sources are kept by text (``CODE_CACHE``): a
retrace of the same structure (another batch size: shapes are bound, not
spelled) reuses the code object and costs only writing the text (about 4 µs
per step). The source is registered with ``linecache``, so a traceback
through a replay shows the generated statement.
"""
import itertools
import keyword
import linecache
import math
import threading

from .. import backend as B
from .._tensor import Tensor
from ..autograd.engine import _accumulate, sum_to
from .kernels import FusedKernel
from .steps import LOAD, OP, CAST, VJP, SUMTO, ADD, ASARRAY, ACC, CALL, SRC, WRITE, FUSED

__all__ = ["generate"]

_nb = B.numpy_backend
_COUNT = itertools.count()
CODE_CACHE = 64         # compiled sources kept (by text): a retrace of the same structure compiles nothing
_CODE = {}
_LOCK = threading.Lock()
_SIMPLE = (int, bool, str, type(None))


def _copy(a):
    return B.BY_TYPE[a.__class__].copy(a)


_GLOBALS = {"_QS": _nb.QUIET_SET, "_QR": _nb.QUIET_RESET, "_Q": _nb.QUIET, "_acc": _accumulate,
            "_Tensor": Tensor, "_make": Tensor._make, "_sum_to": sum_to, "_BT": B.BY_TYPE, "_copy": _copy}


def _ident(name):
    return name.__class__ is str and name.isidentifier() and not keyword.iskeyword(name)


def _inline(v):
    """True for a number or string whose ``repr`` rebuilds it exactly (tuples such as shapes are bound
    instead, so programs that differ only in shapes share one compiled code object)."""
    c = v.__class__
    return c in _SIMPLE or (c is float and math.isfinite(v))


def _fast_kernel(k):
    """A CPU kernel whose buffer and published views are fixed (Note [memory plan]): called inline."""
    return (k.__class__ is FusedKernel and not k.fresh and k.fixed_views is not None and k.fn is not None
            and all(src.__class__ is FusedKernel and not src.fresh for src in k.srcs))


class _Gen:
    """Writes the body of one program's replay function."""

    def __init__(self, consts, listed):
        self.consts = consts
        self.listed = listed
        self.names = {}             # id(object) -> closure name
        self.values = []            # the bound objects, in name order
        self.lines = []

    # ------------------------------------------------------------ names
    def bind(self, obj, hint="k"):
        """The closure name of ``obj`` (one per distinct object)."""
        n = self.names.get(id(obj))
        if n is None:
            hint = "".join(c if c.isalnum() or c == "_" else "_" for c in str(hint)).lstrip("_")[:24]
            n = f"{hint}_{len(self.values)}"
            if not n.isidentifier() or n[0] == "_":
                n = f"k_{len(self.values)}"
            self.names[id(obj)] = n
            self.values.append(obj)
        return n

    def lit(self, v, hint="k"):
        if _inline(v):
            r = repr(v)
            return f"({r})" if r.startswith("-") else r
        return self.bind(v, hint)

    def ref(self, s):
        """An expression reading slot ``s``."""
        if s in self.listed:
            return f"vals[{s}]"
        if s in self.consts:
            return self.lit(self.consts[s], "c")
        return f"v{s}"

    def dst(self, s):
        return f"vals[{s}]" if s in self.listed else f"v{s}"

    def tensor(self, path):
        """An expression for the live tensor a load path names (``replay.resolve`` inlined)."""
        kind, x = path
        if kind == "arg":
            return f"flat[{x}]"
        if kind == "obj":
            return self.bind(x, "t")
        return f"{self.bind(x, 't')}._grad"

    def kwargs(self, items):
        items = list(items)
        if all(_ident(k) for k, _ in items):
            return "".join(f", {k}={v}" for k, v in items)
        return ", **{" + ", ".join(f"{self.lit(k)}: {v}" for k, v in items) + "}"

    def emit(self, line):
        self.lines.append(line)

    # ------------------------------------------------------------ steps
    def step(self, st):
        _EMIT[st[0]](self, st)

    def op(self, st):
        _, op, be, ins, kw, kws, out = st
        merged = {k: self.lit(v, k) for k, v in kw.items()}
        for name, s in kws:
            if s.__class__ is int:
                merged[name] = self.ref(s)
            else:                   # an array inside a tuple or list param (Note [trace slots])
                parts = [self.ref(x[0]) if x.__class__ is tuple else self.lit(x) for x in s[1]]
                body = ", ".join(parts)
                if s[0] is tuple:
                    merged[name] = f"({body},)" if parts else "()"
                elif s[0] is list:
                    merged[name] = f"[{body}]"
                else:
                    merged[name] = f"{self.bind(s[0], 'cls')}([{body}])"
        args = "".join(f", {self.ref(i)}" for i in ins)
        d = self.dst(out)
        fwd = self.bind(op.forward, f"{getattr(op, 'name', 'op')}")
        self.emit(f"{d} = {fwd}({self.bind(be, 'be')}{args}{self.kwargs(merged.items())})")
        conv = f"{d} = {self.bind(be.asarray, 'asarray')}({d})"
        if be.array_type in B.BY_TYPE:      # then ``not in _BT`` alone is apply's test (ops/registry.py)
            self.emit(f"if {d}.__class__ not in _BT: {conv}")
        else:
            self.emit(f"if {d}.__class__ is not {self.bind(be.array_type, 'atype')} and {d}.__class__ not in _BT: "
                      f"{conv}")

    def vjp(self, st):
        _, vjp, F, ctx, g, saved, params, outs = st
        args = "".join(f", {self.ref(i)}" for i in saved)
        name = getattr(getattr(ctx, "op", None), "name", "op")
        call = (f"{self.bind(vjp, name + '_vjp')}({self.bind(F, 'F')}, {self.bind(ctx, 'ctx')}, {self.ref(g)}"
                f"{args}{self.kwargs((k, self.lit(v, k)) for k, v in params.items())})")
        if all(s is None for s in outs):
            self.emit(call)                 # the gradients nobody reads are dropped at once
        elif len(outs) == 1:
            d = self.dst(outs[0])
            self.emit(f"{d} = {call}")
            self.emit(f"if {d}.__class__ is tuple: {d} = {d}[0]")
        else:
            self.emit(", ".join("_" if s is None else self.dst(s) for s in outs) + f" = {call}")
            if None in outs:
                self.emit("del _")

    def load(self, st):
        self.emit(f"{self.dst(st[1])} = {self.tensor(st[2])}._data")

    def add(self, st):
        self.emit(f"{self.dst(st[1])} = {self.ref(st[2])} + {self.ref(st[3])}")

    def sumto(self, st):
        self.emit(f"{self.dst(st[1])} = _sum_to({self.bind(st[3], 'F')}, {self.ref(st[2])}, {self.lit(st[4])})")

    def cast(self, st):
        self.emit(f"{self.dst(st[1])} = {self.bind(st[3].astype, 'astype')}({self.ref(st[2])}, "
                  f"{self.bind(st[4], 'dtype')})")

    def asarray(self, st):
        self.emit(f"{self.dst(st[1])} = {self.bind(B.CPU_BACKEND.asarray, 'cpu_asarray')}({self.ref(st[2])})")

    def acc(self, st):
        t, s = self.tensor(st[1]), st[2]
        if len(st) > 3 and st[3]:           # Note [handing over gradients]: one holder, as in execute
            if s in self.listed:
                self.emit(f"g = vals[{s}]")
                self.emit(f"vals[{s}] = None")
                self.emit(f"_acc({t}, g, False, _Tensor)")
                self.emit("del g")
            else:
                self.emit(f"_acc({t}, {self.ref(s)}, False, _Tensor)")
                if s not in self.consts:
                    self.emit(f"del v{s}")
        else:
            self.emit(f"_acc({t}, {self.ref(s)}, False, _Tensor, True)")

    def call(self, st):
        _, fn, args, paths, kwargs = st
        a = ", ".join(self.bind(x, "arg") if p is None else self.tensor(p) for x, p in zip(args, paths))
        kw = self.kwargs((k, self.bind(v, k)) for k, v in kwargs.items())
        if not a:
            kw = kw[2:]
        self.emit(f"{self.bind(fn, getattr(fn, '__name__', 'fn'))}({a}{kw})")

    def src(self, st):
        args = ", ".join(self.bind(x, "arg") for x in st[3])
        self.emit(f"{self.dst(st[1])} = {self.bind(st[2], getattr(st[2], '__name__', 'draw'))}({args})")

    def write(self, st):
        _, dst, src, be, path = st
        self.emit(f"{self.bind(be.setitem, 'setitem')}({self.ref(dst)}, Ellipsis, {self.ref(src)})")
        if path is not None:
            self.emit(f"{self.tensor(path)}._version[0] += 1")

    def fused(self, st):
        k = st[1]
        if not _fast_kernel(k):
            self.emit(f"{self.bind(k, 'kernel')}(vals)")        # the slot protocol (listed slots)
            return
        ins = [f"{self.ref(s)}.reshape(-1)" for s in k.arrays] + [self.bind(src.buf, "buf") for src in k.srcs]
        self.emit(f"{self.bind(k.fn, 'fused')}({k.n}, {', '.join(ins + [self.bind(k.buf, 'buf')])})")
        for s, view in k.fixed_views:
            self.emit(f"{self.dst(s)} = {self.bind(view, 'row')}")

    # ------------------------------------------------------------ the result (replay._rebuild inlined)
    def result(self, spec):
        kind = spec[0]
        if kind == "grad":
            return f"{self.bind(spec[1], 'make_result')}({self.bind(spec, 'spec')}, vals, flat)"
        if kind == "slot":
            return f"_make({self.ref(spec[1])}, None)"
        if kind == "copy":
            return f"_make(_copy({self.ref(spec[1])}), None)"
        if kind == "tensor":
            return self.tensor(spec[1])
        if kind == "const":
            return self.bind(spec[1], "result")      # the very object eager returned
        items = [self.result(s) for s in spec[2]]
        if kind == "dict":
            return "{" + ", ".join(f"{self.bind(k, 'key')}: {v}" for k, v in zip(spec[1], items)) + "}"
        if spec[1] is list:
            return "[" + ", ".join(items) + "]"
        if spec[1] is tuple:
            return "(" + "".join(f"{v}, " for v in items) + ")"
        return f"{self.bind(spec[1], 'cls')}({', '.join(items)})"


_EMIT = {OP: _Gen.op, VJP: _Gen.vjp, LOAD: _Gen.load, ADD: _Gen.add, SUMTO: _Gen.sumto, CAST: _Gen.cast,
         ASARRAY: _Gen.asarray, ACC: _Gen.acc, CALL: _Gen.call, SRC: _Gen.src, WRITE: _Gen.write,
         FUSED: _Gen.fused}


def listed_slots(steps, result):
    """Slots the replay keeps in the slot list ``vals``: those read or written by number (Note [generated replay])."""
    from .plan import result_slots
    listed = set()
    for st in steps:
        if st[0] is FUSED and not _fast_kernel(st[1]):
            k = st[1]
            listed.update(k.arrays)
            listed.update(s for s, _ in k.views)
    if _has_grad(result):
        result_slots(result, listed)
    return listed


def _has_grad(spec):
    return spec[0] == "grad" or (spec[0] in ("dict", "seq") and any(_has_grad(s) for s in spec[2]))


def generate(steps, template, consts, result, name="replay"):
    """The replay of ``steps`` as one Python function ``fn(flat) -> result`` (Note [generated replay]).

    Args:
        steps: the program's steps (compile/steps.py); fused kernels must be compiled.
        template: the slot list a replay starts from (constants in place).
        consts: slot -> constant value.
        result: how to rebuild the call's result (compile/api.py ``_result_spec``).

    Returns:
        The function; its source is its ``__source__`` attribute.

    Example:
        >>> import tapegrad
        >>> f = tapegrad.compile(lambda x: (x * 2).exp(), options={"fusion": False})
        >>> _ = f(tapegrad.ones(2)); _ = f(tapegrad.ones(2))     # a trace, then the first replay
        >>> print(f._last.source.rstrip())
        def replay(flat):
            quiet = _QS(_Q)
            try:
                v0 = flat[0]._data
                v2 = multiply_1(be_2, v0, c_0)
                if v2.__class__ not in _BT: v2 = asarray_3(v2)
                v3 = exp_4(be_2, v2)
                if v3.__class__ not in _BT: v3 = asarray_3(v3)
            finally:
                _QR(quiet)
            return _make(v3, None)
    """
    listed = listed_slots(steps, result)
    g = _Gen(consts, listed)
    for st in steps:
        g.step(st)
    ret = g.result(result)
    head = ["quiet = _QS(_Q)", "try:"]
    if listed:
        head.insert(0, f"vals = {g.bind(template, 'template')}.copy()")
    body = head + ["    " + ln for ln in g.lines or ["pass"]] + ["finally:", "    _QR(quiet)", f"return {ret}"]
    src = f"def {name}(flat):\n" + "".join(f"    {ln}\n" for ln in body)
    filename = f"<tapegrad.compile replay {next(_COUNT)}>"
    outer = "def _bind(_K):\n"
    if g.values:
        outer += f"    {', '.join(g.names[id(v)] for v in g.values)}, = _K\n"
    outer += "".join(f"    {ln}\n" for ln in src.splitlines()) + f"    return {name}\n"
    with _LOCK:                         # replays generate here, the kernel-compiling thread too
        code = _CODE.pop(outer, None)
    if code is None:
        filename = f"<tapegrad.compile replay {next(_COUNT)}>"
        code = compile(outer, filename, "exec")
        linecache.cache[filename] = (len(outer), None, outer.splitlines(True), filename)
    with _LOCK:
        _CODE[outer] = code             # most recently used last
        while len(_CODE) > CODE_CACHE:
            linecache.cache.pop(_CODE.pop(next(iter(_CODE))).co_filename, None)
    ns = dict(_GLOBALS)
    exec(code, ns)
    fn = ns["_bind"](g.values)
    fn.__source__ = src
    return fn
