"""The engine's sweep, run eagerly while tracing and recorded step by step (Note [trace slots]).

It is ``autograd.engine.run`` for the cases a trace captures (no hooks,
``retain_grad``, multi-output nodes, ``create_graph`` or ``autograd.grad``):
the same heap order, the same ``sum_to``, casts, additions and ``.grad``
accumulation, so the recorded steps replay the eager sweep bit for bit.
``unsupported`` checks a whole graph before anything runs, so a backward is
either traced entirely or left to the engine.
"""
from heapq import heapify, heappop, heappush

from .. import backend as B
from .._tensor import Tensor
from ..autograd import engine as _engine
from ..ops.registry import REGISTRY
from ..tape import grad_mode as _gm
from ..tape import anomaly as _anomaly
from ..tape.node import Node, walk, check_versions, FREED
from .steps import VJP, SUMTO, CAST, ADD, ASARRAY, ACC

__all__ = ["unsupported", "run", "Ctx"]


class Ctx:
    """What a VJP reads of its node (``needs``, ``shapes``), frozen at trace time for the replay."""
    __slots__ = ("needs", "shapes", "op", "seq")

    def __init__(self, node):
        self.needs = node.needs
        self.shapes = node.shapes
        self.op = node.op
        self.seq = node.seq

    def name(self):
        return self.op.name


def _array_known(tr, x):
    return x is None or x.__class__ not in B.BY_TYPE or id(x) in tr.slot_of


def _walk(roots, boundary):
    """The nodes reachable from ``roots`` recorded at or after sequence number ``boundary``."""
    if boundary is None:
        return walk(roots)
    seen, out = set(), []
    stack = [n for n in roots if n is not None and n.seq >= boundary]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        out.append(n)
        stack.extend(e[0] for e in n.next if e is not None and e[0].__class__ is Node and e[0].seq >= boundary)
    return out


def unsupported(tr, roots, grad_roots, boundary=None):
    """Why the traced sweep cannot take this backward, or None (``boundary``: Note [compiled backward])."""
    if _anomaly.ENABLED[0]:
        return "anomaly detection is on"
    for t, g in zip(roots, grad_roots):
        if not isinstance(t, Tensor) or not t._requires_grad:
            return "a root that does not require grad"
        if isinstance(g, Tensor):
            g = g._data
        if id(g) not in tr.slot_of:
            be = B.BY_TYPE.get(g.__class__)
            if be is None or not bool((be.to_numpy(g) == 1).all()):
                return "a backward seeded with a gradient made outside the traced ops"
    registered = set(map(id, REGISTRY.values()))
    for node in _walk([t._grad_fn for t in roots], boundary):
        if node.hooks is not None or node.retain is not None:
            return f"{node.op.name}: a hook or retain_grad on the graph (not captured yet)"
        if node.n_out != 1 or id(node.op) not in registered:
            return f"{node.op.name}: a multi-output node or an autograd.Function (not captured yet)"
        if node.saved is None:
            return None             # the engine raises its own error for a freed graph
        for s in node.saved:
            if not _array_known(tr, s):
                return f"{node.op.name}: saves a value made outside the traced ops"
        for e in node.next:
            if e is not None and e[0].__class__ is Node and boundary is not None and e[0].seq < boundary:
                if tr.input_of(e[0], e[1]) is None:
                    return "a gradient flows into a graph made before the call through a tensor the trace cannot see"
            elif e is not None and e[0].__class__ is not Node:
                leaf = e[0]
                if leaf._hooks or leaf._post_hooks:
                    return "a leaf with hooks (not captured yet)"
                if tr.path_of(leaf) is None:
                    return (f"a leaf of shape {tuple(leaf.shape)} made inside the function or captured "
                            "through an object the compiler cannot see")
    for t in roots:
        if t._grad_fn is None:
            if t._hooks or t._post_hooks or tr.path_of(t) is None:
                return "a backward from a leaf the compiler cannot see"
    return None


def _slot(tr, x):
    s = tr.slot_of.get(id(x))
    return s if s is not None else tr.const(x)


def run(tr, roots, grad_roots, retain_graph, boundary=None):
    """``engine.run`` without hooks, capture or create_graph, recording into ``tr``.

    With ``boundary`` (Note [compiled backward] in compile/backward.py) the sweep stops at nodes
    recorded before that sequence number and at leaves, accumulates nothing, and returns
    ``[(leaf or (node, output_nr), slot)]``: the gradient each input of the traced call receives.
    """
    steps = tr.steps
    buf = {}
    leaf_buf = {}
    F = None
    for t, g in zip(roots, grad_roots):
        g = g._data if isinstance(g, Tensor) else g
        if id(g) not in tr.slot_of:
            g = B.BY_TYPE[g.__class__].copy(g)      # the all-ones seed of backward(): a constant
            tr.const(g)
        if F is None:
            F = B.BY_TYPE[type(g)]
        fn = t._grad_fn
        if fn is None:
            prev = leaf_buf.get(id(t))
            leaf_buf[id(t)] = (t, g if prev is None else _add(tr, F, prev[1], g))
        else:
            prev = buf.get(fn)
            buf[fn] = g if prev is None else _add(tr, F, prev, g)
    heap = [(-n.seq, n) for n in buf]
    heapify(heap)
    prev_mode = _gm.STATE.enabled
    _gm.STATE.enabled = False
    nb = B.numpy_backend
    quiet = nb.QUIET_SET(nb.QUIET)
    try:
        while heap:
            node = heappop(heap)[1]
            g = buf.pop(node)
            saved = node.saved
            if saved is None:
                raise RuntimeError(f"{node.op.name}: {FREED}")
            if saved:
                check_versions(node)
            if g.__class__ is not F.array_type:
                F = B.BY_TYPE.get(g.__class__, F)
            params = node.params
            grads = node.op.vjp_fn(F, node, g, *saved, **params) if params else node.op.vjp_fn(F, node, g, *saved)
            if grads.__class__ is not tuple:
                grads = (grads,)
            outs = tuple(None if gi is None else tr.produced(gi) for gi in grads)
            steps.append((VJP, node.op.vjp_fn, F, Ctx(node), tr.slot_of[id(g)],
                          tuple(_slot(tr, s) for s in saved), params, outs))
            if saved and not retain_graph:
                node.saved = None
            for e, gi in zip(node.next, grads):
                if e is None or gi is None:
                    continue
                tgt, nr, shape, dtype = e
                if gi.shape != shape:
                    src = tr.slot_of[id(gi)]
                    gi = _engine.sum_to(F, gi, shape, node)
                    steps.append((SUMTO, tr.produced(gi), src, F, shape))
                gd = gi.dtype
                if gd is not dtype and gd != dtype:
                    src = tr.slot_of[id(gi)]
                    gi = F.astype(gi, dtype)
                    steps.append((CAST, tr.produced(gi), src, F, dtype))
                if tgt.__class__ is Node and boundary is not None and tgt.seq < boundary:
                    k = (id(tgt), nr)
                    prev = leaf_buf.get(k)
                    leaf_buf[k] = ((tgt, nr), gi if prev is None else _add(tr, F, prev[1], gi))
                elif tgt.__class__ is Node:
                    prev = buf.get(tgt)
                    if prev is None:
                        buf[tgt] = gi
                        heappush(heap, (-tgt.seq, tgt))
                    else:
                        buf[tgt] = _add(tr, F, prev, gi)
                else:
                    prev = leaf_buf.get(id(tgt))
                    leaf_buf[id(tgt)] = (tgt, gi if prev is None else _add(tr, F, prev[1], gi))
        outs = []
        for key in list(leaf_buf):
            t, g = leaf_buf.pop(key)
            if g.__class__ not in B.BY_TYPE:
                src = tr.slot_of[id(g)]
                g = B.CPU_BACKEND.asarray(g)
                steps.append((ASARRAY, tr.produced(g), src))
            s = tr.slot_of[id(g)]
            if boundary is not None:
                outs.append((t, s))
                continue
            _engine._accumulate(t, g, False, Tensor)
            steps.append((ACC, tr.path_of(t), s))
            gt = t._grad
            tr.grads[id(gt)] = t
            tr.released.add(id(gt._data))
            tr.slot_of.pop(id(gt._data), None)
            tr.covered.add(id(t))
            tr.covered.add(id(gt))
        if boundary is None:
            tr._forget_loads()
        return outs
    finally:
        _gm.STATE.enabled = prev_mode
        nb.QUIET_RESET(quiet)


def _add(tr, F, a, b):
    sa, sb = tr.slot_of[id(a)], tr.slot_of[id(b)]
    r = a + b
    tr.steps.append((ADD, tr.produced(r), sa, sb))
    return r
