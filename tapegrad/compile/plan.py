"""Optimising a captured program: dead-value elimination, fusion into kernels, and the memory plan.

# Note [dead values]
A step is dropped when it is pure (a forward op without array parameters, a
VJP, the engine's add/sum_to/cast, a load) and none of its results is read:
not by a later step, not by the call's result, not by the captured backward
of a compiled forward (Note [compiled backward]). Random draws, writes,
``.grad`` accumulation and effects are never dropped (they change state or the
random stream). Slots are written once (Note [trace slots]), so one backward
pass over the steps finds every dead one.

# Note [handing over gradients]
Eager backward hands a fresh gradient array to ``.grad`` without a copy when
nobody else holds it (``engine._accumulate``: a reference count and a view
check). A replay keeps every value in its slot list, so it used to copy each
one (``always_copy``): one extra copy, and on CUDA one extra launch, per
parameter and step. When no later step and not the result reads an ``ACC``
step's slot, the replay takes the value out of its slot and accumulates it as
eager does; the same reference count and view check then copy exactly when
eager would (a kernel buffer's row is a view, a constant is held by the
program's template, an array another slot holds has one more reference).

# Note [memory plan]
Fused groups (Note [what may be fused] in compile/symbolic.py) keep every
value only their own kernel reads in a register: it never reaches memory. The
values a group hands on (read by a later step or by the result) are rows of
one buffer per group, shape ``(rows, n)``, written by the kernel in place of
``out=``. Liveness is per group: a row is written once per replay, by its own
group, and read only after that in the same replay, so rows never need to
share memory within a replay; the buffers are allocated once, when the
program is built, and reused by every replay, so steady-state replays of
fused code allocate nothing. Buffers never reach the user: a returned tensor
that may alias one (a row, or a view of a row made by a later step) is copied
when the result is built; ``.grad`` accumulation copies or adds in place as in
eager mode, and writes into user tensors copy. A program whose result carries
a captured backward (a compiled forward, Note [compiled backward]) keeps its
values alive past the call, so it takes fresh buffers on every replay. A
program's buffers belong to it: replays of one program must not run
concurrently (as with any ``tapegrad.compile`` cache, it is not thread-safe).
The steps left unfused (GEMMs, small relus) get reused buffers too: Note
[out buffers] in compile/outplan.py.

# Note [kernel size]
Numba compiles a fused kernel in time about linear in its loop body (typing,
lowering and LLVM each cost per statement: in CPU time, about 0.1 s a kernel
and 1.7 ms a step of the 200-op chain, no more per step at 2304 steps than at
144), so splitting a long run never saves compile time: it adds a kernel's
fixed cost and a store and a load for every value that crosses the cut (a
64-step cut of the 200-op chain stored 48 rows that its backward loaded
again), and each piece is one more call at replay. Runs are split only at ``MAX_STEPS``, a
bound on the size of one generated function. The measurements are of the CPU
kernels (numba's CPU pipeline); CUDA kernels (NVVM) keep the bound of 64.
"""
import math

from .. import backend as B
from .steps import LOAD, OP, CAST, VJP, SUMTO, ADD, ASARRAY, ACC, SRC, WRITE, FUSED
from .symbolic import Builder, NotFusable, Sym
from . import kernels as _kernels
from .outplan import out_buffers

__all__ = ["reads", "eliminate_dead", "fuse", "optimize"]

MIN_STEPS = 2           # a single elementwise step fuses only on arrays of at least MIN_SIZE elements
MIN_SIZE = 4096
MAX_STEPS = 1024        # Note [kernel size]: longer runs are split (a bound, not a tuning: splitting costs time)
MAX_STEPS_CUDA = 64     # CUDA kernels keep the old bound: NVVM's time on long bodies is unmeasured


def reads(st):
    """The slots step ``st`` reads."""
    k = st[0]
    if k is OP:
        out = list(st[3])
        for _, s in st[5]:
            if s.__class__ is int:
                out.append(s)
            else:
                out.extend(x[0] for x in s[1] if x.__class__ is tuple)
        return out
    if k is VJP:
        return [st[4], *st[5]]
    if k is ADD:
        return [st[2], st[3]]
    if k in (SUMTO, CAST, ASARRAY):
        return [st[2]]
    if k is ACC:
        return [st[2]]
    if k is WRITE:
        return [st[1], st[2]]
    if k is FUSED:
        return list(st[1].inputs)
    return []


def _outs(st):
    k = st[0]
    if k is OP:
        return [st[6]]
    if k is VJP:
        return [s for s in st[7] if s is not None]
    if k in (LOAD, ADD, SUMTO, CAST, ASARRAY, SRC):
        return [st[1]]
    return []


def _pure(st):
    k = st[0]
    return k in (LOAD, VJP, ADD, SUMTO, CAST, ASARRAY) or (k is OP and not st[5])


def result_slots(spec, acc):
    """Slots the call's result reads (``acc`` collects them); True when values outlive the call."""
    kind = spec[0]
    if kind in ("slot", "copy"):
        acc.add(spec[1])
    elif kind == "grad":
        acc.add(spec[2])
        for st in spec[4]:
            acc.update(reads(st))
        return True
    elif kind in ("dict", "seq"):
        return any([result_slots(s, acc) for s in spec[2]])
    return False


def eliminate_dead(steps, live):
    """Note [dead values]: ``steps`` without the pure ones whose results nobody reads."""
    live = set(live)
    keep = []
    for st in reversed(steps):
        if _pure(st) and not any(o in live for o in _outs(st)):
            continue
        keep.append(st)
        live.update(reads(st))
    keep.reverse()
    return keep


# ---------------------------------------------------------------- fusion

class Group:
    """The steps of one fused kernel and what they read and produce."""

    def __init__(self, shape, dtype, cls):
        self.b = Builder(shape, dtype)
        self.shape, self.dtype, self.cls = tuple(shape), dtype, cls    # cls: the arrays' type (the device)
        self.steps = []
        self.syms = {}          # slot -> Sym (inputs and produced)
        self.inputs = {}        # slot -> Sym, in first-read order
        self.produced = []      # slots made here, in order


def _array(arrays, s):
    a = arrays[s]
    return a if a.__class__ in B.BY_TYPE else None


def _fusable_type(cls):
    """CPU arrays fuse into ``@njit`` kernels, CUDA arrays into ``@cuda.jit`` ones (compile/cuda_kernels.py)."""
    be = B.BY_TYPE.get(cls)
    return be is not None and (cls is B.CPU_BACKEND.array_type or be.device_type == "cuda")


_CUDA_FLOATS = ("float32", "float64")   # the fused CUDA kernels' math is written and tested for these


def _key(st, arrays):
    """(shape, dtype, array type) of a step whose every array is a float of one shape (or one element)."""
    outs = [arrays[s] for s in _outs(st)]
    if not outs or not _fusable_type(outs[0].__class__):
        return None
    cls = outs[0].__class__
    shape, dtype = tuple(outs[0].shape), outs[0].dtype
    if dtype.kind != "f" or (cls is not B.CPU_BACKEND.array_type and dtype.name not in _CUDA_FLOATS) or any(o.__class__ is not cls or tuple(o.shape) != shape or o.dtype != dtype
                                for o in outs):
        return None
    for s in reads(st):
        a = _array(arrays, s)
        if a is not None and (a.__class__ is not cls or a.dtype != dtype
                              or (tuple(a.shape) != shape and a.size != 1)):
            return None
    return shape, dtype, cls


def _try(g, st, arrays, consts):
    """Run ``st`` symbolically into group ``g``; False (and ``g`` unchanged) when it is not elementwise."""
    k = st[0]
    if k is OP and (st[5] or getattr(st[1], "n_out", 1) != 1):
        return False
    if k not in (OP, VJP, ADD):
        return False
    added = {}

    def val(s):
        sym = g.syms.get(s)
        if sym is None:
            sym = added.get(s)
        if sym is not None:
            return sym
        a = _array(arrays, s)
        if a is None:
            return consts[s] if s in consts else arrays[s]
        sym = added[s] = Sym(g.b, f"i{len(g.inputs) + len(added)}", tuple(a.shape))
        return sym
    try:
        if k is OP:
            r = g.b.run(st[1].forward, g.b.ns, *[val(s) for s in st[3]], **st[4])
            res = [(st[6], r)]
        elif k is VJP:
            _, vjp, _, ctx, gs, saved, params, outs = st
            r = g.b.run(vjp, g.b.ns, ctx, val(gs), *[val(s) for s in saved], **params)
            r = r if r.__class__ is tuple else (r,)
            if len(r) != len(outs):
                return False
            res = [(s, x) for s, x in zip(outs, r) if s is not None]
        else:
            r = g.b.run(lambda a, b: a + b, val(st[2]), val(st[3]))
            res = [(st[1], r)]
    except NotFusable:
        return False
    for s, x in res:
        if not isinstance(x, Sym) or x.b is not g.b:
            return False
    for s, sym in added.items():
        g.inputs[s] = g.syms[s] = sym
    for s, x in res:
        g.syms[s] = x
        g.produced.append(s)
    g.steps.append(st)
    return True


def fuse(steps, arrays, consts, live, fresh):
    """Steps with runs of elementwise steps replaced by fused kernels (Notes [what may be fused], [memory plan]).

    ``arrays``: each slot's value at trace time (shapes and dtypes); ``live``: slots the result reads;
    ``fresh``: allocate the buffers on every replay (values outlive the call).
    """
    groups, out = [], []
    cur = None
    for st in steps:
        key = _key(st, arrays) if st[0] in (OP, VJP, ADD) else None
        if cur is not None and (key is None or key != (cur.shape, cur.dtype, cur.cls) or len(cur.steps) >= (
                MAX_STEPS if cur.cls is B.CPU_BACKEND.array_type else MAX_STEPS_CUDA)):
            cur = None
        if key is not None:
            if cur is None:
                cur = Group(*key)
                out.append(("group", cur))
                groups.append(cur)
            if _try(cur, st, arrays, consts):
                continue
            if not cur.steps:
                out.pop()
                groups.pop()
            cur = None
        out.append(st)
    # undo groups too small to pay for a kernel call
    final = []
    for item in out:
        if item[0] == "group":
            g = item[1]
            # on CUDA every elementwise operation is a launch: one step of several (a VJP) pays for a kernel
            one_pays = g.cls is not B.CPU_BACKEND.array_type and len(g.b.lines) >= MIN_STEPS
            if len(g.steps) < MIN_STEPS and math.prod(g.shape) < MIN_SIZE and not one_pays:
                final.extend(g.steps)
                continue
        final.append(item)
    groups = [it[1] for it in final if it[0] == "group"]
    if not groups:
        return steps, []
    where = {}              # slot -> group that produces it
    for g in groups:
        for s in g.produced:
            where[s] = g
    read_by = {}            # slot -> set of readers (a group or the string "step")
    for it in final:
        if it[0] == "group":
            for s in it[1].inputs:
                read_by.setdefault(s, set()).add(id(it[1]))
        else:
            for s in reads(it):
                read_by.setdefault(s, set()).add("step")
    for s in live:
        read_by.setdefault(s, set()).add("step")
    kernels = []
    result = []
    for it in final:
        if it[0] != "group":
            result.append(it)
            continue
        g = it[1]
        rows = [s for s in dict.fromkeys(g.produced) if read_by.get(s, set()) - {id(g)}]
        views = [s for s in rows if "step" in read_by.get(s, ())]
        k = _kernels.build(g, rows, views, where, fresh)
        kernels.append(k)
        result.append((FUSED, k))
    return result, kernels


def _aliases(steps, kernels):
    """Slots that may share memory with a kernel's buffer: its rows, and what later steps made from them."""
    alias = {s for k in kernels for s in k.rows}
    for st in steps:
        if st[0] is not FUSED and any(s in alias for s in reads(st)):
            alias.update(_outs(st))
    return alias


def _copying(spec, alias):
    kind = spec[0]
    if kind == "slot" and spec[1] in alias:
        return ("copy", spec[1])
    if kind in ("dict", "seq"):
        return (kind, spec[1], tuple(_copying(s, alias) for s in spec[2]))
    return spec


def hand_over(steps, live, consts):
    """Note [handing over gradients]: ACC steps whose slot nobody reads later get a fourth field, True."""
    seen = set(live) | set(consts)
    out = []
    for st in reversed(steps):
        if st[0] is ACC:
            st = (ACC, st[1], st[2], st[2] not in seen)
        out.append(st)
        seen.update(reads(st))
    out.reverse()
    return out


def optimize(steps, arrays, consts, result, fusion=True):
    """Notes [dead values], [what may be fused], [memory plan] and [out buffers] (compile/outplan.py):
    ``(unfused steps, steps, result, kernels)``."""
    live = set()
    fresh = result_slots(result, live)
    plain = hand_over(eliminate_dead(steps, live), live, consts)
    pool = {}                   # Note [out buffers]: the unfused and fused lists share their buffers
    if not fusion:
        plain = out_buffers(plain, arrays, live, fresh, pool, reads, _outs)
        return plain, plain, result, []
    steps, kernels = fuse(plain, arrays, consts, live, fresh)
    steps = hand_over(steps, live, consts)
    if kernels and not fresh:
        result = _copying(result, _aliases(steps, kernels))
    return (out_buffers(plain, arrays, live, fresh, pool, reads, _outs),
            out_buffers(steps, arrays, live, fresh, pool, reads, _outs), result, kernels)
