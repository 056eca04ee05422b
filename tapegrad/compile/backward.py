"""A compiled call whose result requires grad: one Node whose VJP replays the captured backward.

# Note [compiled backward]
``cmodel(X)`` in an eager loop returns a tensor the user backpropagates later,
outside the compiled call. At trace time the backward of that result is
recorded once, down to the call's inputs, by the traced sweep with a
*boundary* (compile/sweep.py): it starts from a seed slot, stops at leaves
and at nodes recorded before the call, accumulates nothing, and keeps the
graph (``retain_graph``), so the user's own backward of the traced call still
runs. A replay then gives its result one ``Node`` whose edges are those
inputs (parameters, arguments, or the history of a non-leaf argument) and
whose VJP runs the recorded steps on the replay's forward values; the engine
accumulates what it returns as for any node. The node saves the versions of
the inputs the backward reads, so an in-place change between forward and
backward raises, as in eager mode. ``create_graph`` through it is refused.
"""
from .. import backend as B
from .._tensor import Tensor
from ..ops.graph_math import TENSOR_MATH
from ..ops.registry import OpDef
from ..tape.node import Node
from . import sweep as _sweep
from .replay import execute, resolve
from .steps import VJP, LOAD

__all__ = ["capture", "make_result"]


class NotCaptured(Exception):
    pass


def capture(tr, result, boundary):
    """Record the backward of ``result`` into a separate step list: ``(seed_slot, steps, edges, version_paths)``."""
    d = result._data
    be = B.BY_TYPE[d.__class__]
    ones = be.ones(d.shape, d.dtype)
    seed = tr._new(ones)
    why = _sweep.unsupported(tr, [result], [ones], boundary)
    if why is not None:
        raise NotCaptured(why)
    n0 = len(tr.steps)
    outs = _sweep.run(tr, [result], [ones], True, boundary)
    steps = tr.steps[n0:]
    del tr.steps[n0:]
    edges = []
    for tgt, s in outs:
        p = tr.path_of(tgt) if isinstance(tgt, Tensor) else tr.input_of(*tgt)
        if p is None:
            raise NotCaptured("a gradient for an input the trace cannot place")
        edges.append((p, s))
    read = {i for st in steps if st[0] is VJP for i in st[5]}
    load_paths = {st[1]: st[2] for st in tr.steps if st[0] is LOAD}
    versions = tuple(load_paths[s] for s in sorted(read) if s in load_paths)
    return seed, tuple(steps), tuple(edges), versions


def _vjp(F, ctx, g, *state):
    if not state or F is TENSOR_MATH:
        raise RuntimeError("backward through a tapegrad.compile'd call with create_graph=True is not supported; "
                           "call the function (or module) uncompiled for higher-order gradients")
    steps, vals, seed, outs, flat = state[0]
    vals[seed] = g
    execute(steps, vals, flat)
    grads = tuple(vals[s] for s in outs)
    return grads if len(grads) != 1 else grads[0]


def _forward(be, *a):                  # pragma: no cover - the node is only ever made by make_result
    raise RuntimeError("CompiledCall is a backward-only node")


COMPILED_CALL = OpDef("compiled_call", _forward, (), None, False)
COMPILED_CALL.vjp_fn = _vjp
COMPILED_CALL.params = ()


def make_result(spec, vals, flat):
    """The replayed result: a tensor on the forward's slot whose ``grad_fn`` replays the backward."""
    _, _, slot, seed, steps, edges, versions = spec
    next_ = []
    for p, _ in edges:
        t = resolve(p, flat)
        d = t._data
        next_.append((t if t._grad_fn is None else t._grad_fn, t._output_nr, d.shape, d.dtype))
    out = Tensor._make(vals[slot], None)
    vv = []
    for p in versions:
        v = resolve(p, flat)._version
        vv.append(v)
        vv.append(v[0])
    vv.append(out._version)
    vv.append(out._version[0])
    node = Node(COMPILED_CALL, tuple(next_), ((steps, vals, seed, tuple(s for _, s in edges), flat),),
                tuple(vv), {})
    out._grad_fn = node
    out._requires_grad = True
    return out
