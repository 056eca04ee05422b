"""The memory plan of unfused steps: matmuls, linear layers and relu write into buffers reused across replays.

# Note [out buffers]
Fused kernels already write into buffers allocated once (Note [memory plan]
in compile/plan.py); the steps left unfused (a linear layer's GEMM, its VJP,
a small relu) allocated a fresh result on every replay. ``out_buffers``
rewrites such OP and VJP steps of CPU float arrays into steps of the same
kind and layout whose op (or VJP function) is a small wrapper writing its
result with ``out=`` into a preallocated C-contiguous array: the same NumPy
call on the same operands, so the bits equal the fresh result's. That holds
where a fresh result is C-contiguous whatever its operands' strides (a 2-D
matmul, a reduction to 1-D); an elementwise result follows its operands'
layout (NumPy's ``order="K"``), and a later GEMM or reduction on it may round
differently by layout, so relu writes into its buffer only when its operands
are C-contiguous at that replay (the guards do not fix strides) and allocates
otherwise. Batched matmuls keep allocating (their batch layout follows the
operands too).

Which values get a buffer: a value is a candidate when a rewritable step
produces it and nothing can carry it (or a view of it) out of the replay.
Every slot a plain step computes from a candidate counts as a possible view
of it (a reshape, ``sum_to`` of a matching shape, a VJP returning ``g``),
except results known to be fresh (``add``, rewritten steps, fused kernels).
A candidate is dropped when it or a possible view of it reaches the call's
result, or reaches an ``.grad`` accumulation other than directly from the VJP
that made it. A gradient an ``ACC`` step takes straight from its VJP keeps
its buffer with a condition: the wrapper writes into it only while that
leaf's ``.grad`` exists at the replay (``zero_grad(set_to_none=False)``),
where the engine adds it in place; where ``.grad`` is None, eager hands a
fresh gradient to ``.grad`` without a copy (Note [handing over gradients]),
so the wrapper allocates one as eager does. Should ``.grad`` become None
between the VJP and its accumulation anyway, ``_accumulate`` copies the
buffer (it holds more references than a fresh array): a buffer never becomes
a ``.grad``. A program whose result carries a captured backward keeps its
values past the call (``fresh``) and gets none.

Liveness: a candidate lives from the step that makes it to the last step that
reads it or a possible view of it. Steps are walked in order; a step's
outputs take free buffers of their exact shape and dtype (or new ones) before
the buffers of values it read for the last time are freed, so no step writes
into memory it reads. Values whose lives do not overlap share a buffer. A
program's unfused and fused step lists never run at the same time, so they
draw from one pool (the k-th buffer of a shape in either list is the same
array). As with fused buffers, a program's replays must not run concurrently.
"""
import numpy as np

from .. import backend as B
from ..ops.linalg import linear_op, matmul_op
from ..ops.unary import relu_op
from .steps import OP, VJP, ADD, ACC, FUSED

__all__ = ["out_buffers", "buffers"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_mm = np.matmul
_maximum = np.maximum
_multiply = np.multiply
_greater = np.greater
# np.sum without fromnumeric's wrapper: for an ndarray np.sum(g, axis, out=) is exactly this call
# (tests/compile/test_hot_path.py compares the bits)
_sum = np.add.reduce


class _OutOp:
    """An op whose forward writes into ``buffers``; reads as the op it wraps (``name``, ``n_out``, ...)."""

    def __init__(self, op, forward, buffers):
        self.op = op
        self.name = op.name
        self.forward = forward
        self.buffers = buffers

    def __getattr__(self, name):
        return getattr(self.op, name)


class _ForGrad:
    """The buffer of a gradient an ``ACC`` step accumulates into ``t.grad``: used while ``t.grad`` exists."""
    __slots__ = ("buf", "t")

    def __init__(self, buf, t):
        self.buf, self.t = buf, t


def _out(b):
    """The array to write a VJP output into: None (a fresh one) where the gradient goes to a ``.grad``
    that is None now (eager hands it over without a copy, Note [handing over gradients])."""
    if b.__class__ is _ForGrad:
        return b.buf if b.t._grad is not None else None
    return b


def _arrays(*bufs):
    return tuple(b.buf if b.__class__ is _ForGrad else b for b in bufs)


def _plain(a):
    return a is not None and a.__class__ is np.ndarray and a.dtype in _FLOATS


# ---------------------------------------------------------------- the rewritable steps
# Each rule: (step, trace arrays) -> the output positions it can write with out= (or None), and
# (step, one buffer or None per output) -> the rewritten step. The wrappers repeat the op's own
# NumPy calls (ops/linalg.py, ops/unary.py, backend/numpy_backend.py) for the case the rule accepts.

def _linear_ok(st, arrays):
    if st[0] is OP:
        ins = [arrays[s] for s in st[3]]
        x, w = ins[0], ins[1]
        if st[4] or not all(_plain(a) and a.dtype == x.dtype for a in ins) or x.ndim != 2 or w.ndim != 2:
            return None
        return (0,) if len(ins) < 3 or ins[2].ndim <= 1 else None
    g, x, w = arrays[st[4]], arrays[st[5][0]], arrays[st[5][1]]
    if st[6] or not all(_plain(a) and a.dtype == g.dtype for a in (g, x, w)) or g.ndim != 2 or x.ndim != 2:
        return None
    return (0, 1, 2)


def _linear(st, bufs, arrays):
    if st[0] is OP:
        out = bufs[0]

        def forward(be, x, w, b=None):
            r = _mm(x, w.T, out=out)
            if b is not None:
                r += b
            return r
        return st[:1] + (_OutOp(st[1], forward, (out,)),) + st[2:]
    bx, bw = bufs[0], bufs[1]
    bb = bufs[2] if len(bufs) > 2 else None

    def linear_vjp(F, ctx, g, x, w):
        n = ctx.needs
        gx = gw = gb = None
        if n[0]:
            o = _out(bx)
            gx = _mm(g, w) if o is None else _mm(g, w, out=o)
        if n[1]:
            o = _out(bw)
            gw = _mm(g.T, x) if o is None else _mm(g.T, x, out=o)
        if len(n) < 3:
            return gx, gw
        if n[2]:
            o = _out(bb)
            gb = _sum(g, axis=(0,)) if o is None else _sum(g, axis=(0,), out=o)
        return gx, gw, gb
    linear_vjp.buffers = _arrays(bx, bw, bb)
    return st[:1] + (linear_vjp,) + st[2:]


def _matmul_ok(st, arrays):
    if st[0] is OP:
        a, b = (arrays[s] for s in st[3])
        ok = not st[4] and _plain(a) and _plain(b) and a.dtype == b.dtype and a.ndim == 2 and b.ndim == 2
        return (0,) if ok else None
    g, a, b = arrays[st[4]], arrays[st[5][0]], arrays[st[5][1]]
    ok = (not st[6] and all(_plain(v) and v.dtype == g.dtype for v in (g, a, b))
          and g.ndim == 2 and a.ndim == 2 and b.ndim == 2)
    return (0, 1) if ok else None


def _matmul(st, bufs, arrays):
    if st[0] is OP:
        out = bufs[0]

        def forward(be, a, b):
            return _mm(a, b, out=out)
        return st[:1] + (_OutOp(st[1], forward, (out,)),) + st[2:]
    ba, bb = bufs[0], bufs[1]

    def matmul_vjp(F, ctx, g, a, b):
        n = ctx.needs
        ga = gb = None
        if n[0]:
            o = _out(ba)
            ga = _mm(g, b.T) if o is None else _mm(g, b.T, out=o)
        if n[1]:
            o = _out(bb)
            gb = _mm(a.T, g) if o is None else _mm(a.T, g, out=o)
        return ga, gb
    matmul_vjp.buffers = _arrays(ba, bb)
    return st[:1] + (matmul_vjp,) + st[2:]


def _relu_ok(st, arrays):
    if st[0] is OP:
        ok = not st[4] and _plain(arrays[st[3][0]])
        return (0,) if ok else None
    g, out = arrays[st[4]], arrays[st[5][0]]
    ok = not st[6] and _plain(g) and _plain(out) and g.dtype == out.dtype and g.shape == out.shape
    return (0,) if ok else None


def _relu(st, bufs, arrays):
    out = bufs[0]
    if st[0] is OP:
        def forward(be, x):
            return _maximum(0, x, out=out) if x.flags.c_contiguous else _maximum(0, x)
        return st[:1] + (_OutOp(st[1], forward, (out,)),) + st[2:]
    mask = np.empty(arrays[st[5][0]].shape, np.bool_)       # scratch: read only inside the step

    def relu_vjp(F, ctx, g, o):
        b = _out(out)
        if b is None or not (g.flags.c_contiguous and o.flags.c_contiguous):
            return g * (o > 0)
        return _multiply(g, _greater(o, 0, out=mask), out=b)
    relu_vjp.buffers = _arrays(out, mask)
    return st[:1] + (relu_vjp,) + st[2:]


_RULES = {linear_op: (_linear_ok, _linear), matmul_op: (_matmul_ok, _matmul), relu_op: (_relu_ok, _relu)}


def _rule(st):
    if st[0] is OP:
        return _RULES.get(st[1])
    if st[0] is VJP:
        return _RULES.get(st[3].op)
    return None


def _outputs(st):
    return [st[6]] if st[0] is OP else list(st[7])


def out_buffers(steps, arrays, live, fresh, pool, reads, outs):
    """Note [out buffers]: ``steps`` with matmul, linear and relu steps writing into reused buffers.

    ``arrays``: each slot's value at trace time; ``live``: the slots the result reads; ``fresh``: values
    outlive the call (no buffers); ``pool``: ``{(shape, dtype): [arrays]}`` shared by a program's step lists;
    ``reads(step)``, ``outs(step)``: the slots a step reads and makes (compile/plan.py's, passed in: plan.py
    calls this pass, so importing it back would close a cycle).
    """
    if fresh:
        return steps
    # 1. candidates: outputs a rule can write with out=
    rules = {}                          # step index -> its rule, where the rule accepts the step
    cand = {}                           # slot -> index of the step making it
    for i, st in enumerate(steps):
        rule = _rule(st)
        pos = rule[0](st, arrays) if rule is not None else None
        if not pos:
            continue
        rules[i] = rule
        made = _outputs(st)
        for p in pos:
            s = made[p] if p < len(made) else None
            if s is not None and _fresh_array(arrays[s]):
                cand[s] = i
    if not cand:
        return steps
    # 2. possible views of each candidate, the last step reading each, and what disqualifies one
    roots = {}                          # slot -> candidates it may be a view of
    grad_of = {}                        # candidate -> the leaf whose .grad an ACC step adds it into
    bad = set()
    last = {}
    for i, st in enumerate(steps):
        rs = set()
        for s in reads(st):
            rs |= roots.get(s, {s} if s in cand else set())
        for r in rs:
            last[r] = i
        if st[0] is ACC:
            s = st[2]
            if s in cand and st[1][0] == "obj" and s not in grad_of and steps[cand[s]][0] is VJP:
                grad_of[s] = st[1][1]
            else:
                bad |= rs
        if rs and st[0] not in (ADD, FUSED) and i not in rules:     # those three make fresh arrays
            for o in outs(st):
                roots[o] = roots.get(o, set()) | rs
    for s in live:
        bad |= roots.get(s, {s} if s in cand else set())
    cand = {s: i for s, i in cand.items() if s not in bad}
    if not cand:
        return steps
    # 3. buffers by liveness (exact shape and dtype), drawn from the pool
    free = {}                           # key -> indices into pool[key] free now
    used = {}                           # key -> how many of pool[key] this list has taken
    ends = {}                           # step index -> candidates read for the last time there
    for s, i in cand.items():
        ends.setdefault(last.get(s, i), []).append(s)
    given = {}                          # slot -> (key, index)
    out = []
    for i, st in enumerate(steps):
        if i in rules and any(s in cand for s in _outputs(st)):
            bufs = []
            for s in _outputs(st):
                if s not in cand:
                    bufs.append(None)
                    continue
                a = arrays[s]
                key = (tuple(a.shape), a.dtype)
                fl = free.get(key)
                if fl:
                    k = fl.pop()
                else:
                    k = used.get(key, 0)
                    used[key] = k + 1
                    lst = pool.setdefault(key, [])
                    if k == len(lst):
                        lst.append(np.empty(key[0], key[1]))
                given[s] = (key, k)
                bufs.append(pool[key][k] if s not in grad_of else _ForGrad(pool[key][k], grad_of[s]))
            st = rules[i][1](st, bufs, arrays)
        for s in ends.get(i, ()):       # after the outputs took theirs: a step never writes what it reads
            if s in given:
                key, k = given[s]
                free.setdefault(key, []).append(k)
        out.append(st)
    return out


def _fresh_array(a):
    """A C-contiguous array owning its memory: what a fresh NumPy result is (and what a buffer looks like)."""
    return a.__class__ is B.CPU_BACKEND.array_type and a.base is None and a.flags.c_contiguous


def buffers(steps):
    """The distinct buffers the rewritten steps of ``steps`` write into (Note [out buffers]).

    Example:
        >>> import tapegrad
        >>> from tapegrad.compile import outplan
        >>> w = tapegrad.ones(3, 4, requires_grad=True)
        >>> f = tapegrad.compile(lambda x: (x @ w).relu().sum().backward(), options={"fusion": False})
        >>> for _ in range(3):
        ...     f(tapegrad.ones(2, 3))
        >>> sorted(b.shape for b in outplan.buffers(f._last.steps))
        [(2, 4), (2, 4), (2, 4), (3, 4)]
    """
    seen = {}
    for st in steps:
        f = st[1] if st[0] in (OP, VJP) else None
        for b in getattr(f, "buffers", ()):
            if b is not None:
                seen[id(b)] = b
    return list(seen.values())
