"""The reverse sweep over the tape.

The tape is the set of Nodes reachable from the roots, ordered by the sequence
number each got when recorded; an input is always recorded before its users,
so reverse sequence order is a valid order for the sweep (Note [heap sweep]).

# Note [no recursion]
The sweep pops nodes from a heap; there is no separate discovery pass and no
recursion anywhere, so a chain of any length backpropagates. Freeing a long
chain is left to CPython's deallocator, whose trashcan bounds the C stack
(tests/autograd/test_memory.py); there is no ``Node.__del__``.
"""
import sys
from heapq import heapify, heappop, heappush

from .. import backend as B
from .._tensor import Tensor, POST_HOOKED as _POST_HOOKED
from ..tape import grad_mode as _gm
from ..tape import anomaly as _anomaly
from ..tape.capture import ACTIVE as _CAPTURE
from ..tape.node import Node, FREED as _FREED, check_versions as _check_versions
from ..ops.graph_math import TENSOR_MATH, lift
from ._ready import ready_leaves as _ready_leaves, paths_to_inputs as _paths_to_inputs, prune as _prune

_BY_TYPE = B.BY_TYPE

# The engine reads the tape (tapegrad/tape/) and runs VJPs; it is the only owner of sum_to,
# and it imports the graph-mode math downward from ops (Note [the tape floor] in tape/__init__.py).


def _unpack(node, graph, Tensor, like=None):
    """Saved values for a VJP (Note [saved values] in ops/registry.py)."""
    saved = node.saved
    if saved is None:
        raise RuntimeError(f"{node.op.name}: {_FREED}")
    _check_versions(node)
    if not graph:
        return saved
    edges = node.next
    out = []
    for i, s in zip(node.op.save, saved):
        if s is None or isinstance(s, Tensor):      # an optional input not given; Function saves Tensors
            out.append(s)
        elif i < 0:
            out.append(Tensor._make(s, node))      # the output, re-attached to its node
        else:
            e = edges[i] if i < len(edges) else None
            if e is None:                           # an input that needs no gradient
                # A promoted Python number is saved as a NumPy scalar: it goes where the
                # gradient is, as it went where the tensors were in forward (Note [constants in VJPs]).
                out.append(Tensor._make(s, None) if s.__class__ in B.BY_TYPE else lift(TENSOR_MATH, s, like))
            elif e[0].__class__ is Node:            # a non-leaf input: rebuild it on its history
                t = Tensor._make(s, e[0])
                t._output_nr = e[1]
                out.append(t)
            else:                                   # a leaf input: the leaf itself
                out.append(e[0])
    return out


def sum_to(F, g, shape, node=None):
    """Sum a broadcast gradient ``g`` back to ``shape`` (Note [sum_to] in ops/registry.py); works in both VJP modes.

    Only genuine broadcasting is undone: leading dimensions are summed away and
    dimensions of size 1 in ``shape`` are summed with keepdims. Any other
    mismatch is a wrong VJP (a wrong permute, say) and raises, naming the op
    whose VJP produced ``g`` (``node``), rather than reshaping it silently.

    Example:
        >>> from tapegrad.backend import CPU_BACKEND as be
        >>> from tapegrad.autograd.engine import sum_to
        >>> sum_to(be, be.ones((2, 3), "float64"), (1, 3)).tolist()
        [[2.0, 2.0, 2.0]]
    """
    gs = tuple(g.shape)
    shape = tuple(shape)
    if gs == shape:
        return g
    lead = len(gs) - len(shape)
    if lead < 0 or any(s != 1 and s != d for s, d in zip(shape, gs[lead:])):
        who = f"the VJP of {node.op.name} (node #{node.seq})" if node is not None else "a VJP"
        raise RuntimeError(f"{who} returned a gradient of shape {gs} for an input of shape {shape}; only a "
                           "gradient in a shape the input broadcasts to can be summed back to it")
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                      if s == 1 and gs[i + lead] != 1)
    g = F.sum(g, axis=axes, keepdims=True)
    if lead:
        g = F.reshape(g, shape)     # drop the leading size-1 dims that keepdims left
    return g


def run(roots, grad_roots, retain_graph=None, create_graph=False, inputs=None, allow_unused=False,
        accumulate=False):
    """Backpropagate from ``roots`` (tensors) seeded with ``grad_roots``.

    Without ``inputs`` gradients accumulate into the ``.grad`` of leaves; with
    ``inputs`` they are returned in that order instead and no ``.grad`` changes, unless ``accumulate``
    (``backward(inputs=...)``): then an input leaf that has a post-accumulate-grad hook is accumulated when
    it is ready (Note [ready leaves]) and returned as None; the caller accumulates the others.
    """
    cap = _CAPTURE[0]
    if cap is not None and cap.backward(roots, grad_roots, retain_graph, create_graph, inputs):
        return None                 # Note [capture hook]: the trace ran (and recorded) this backward
    node_cls = Node             # a local: read once per edge in the sweep
    if retain_graph is None:
        retain_graph = create_graph
    graph = bool(create_graph)

    # Seed the buffers.
    buf = {}
    leaf_buf = {}
    F = None
    for t, g in zip(roots, grad_roots):
        if not t._requires_grad:
            raise RuntimeError("element of tensors does not require grad and does not have a grad_fn")
        if graph:
            g = g if isinstance(g, Tensor) else Tensor._make(g, None)
        else:
            g = g._data if isinstance(g, Tensor) else g
            if F is None:
                F = B.BY_TYPE[type(g)]
        fn = t._grad_fn
        if fn is None:
            key = id(t)
            prev = leaf_buf.get(key)
            leaf_buf[key] = (t, g if prev is None else prev[1] + g)
        else:
            _add(buf, fn, t._output_nr, g)
    if graph:
        F = TENSOR_MATH
    F_array = None if graph or F is None else F.array_type

    capture = None
    results = None
    if inputs is not None:
        capture = {}
        for i, t in enumerate(inputs):
            if not isinstance(t, Tensor):
                raise TypeError(f"autograd.grad: inputs must be Tensors, got {type(t).__name__}")
            if not t._requires_grad:
                raise RuntimeError(f"autograd.grad: input {i} does not require grad")
            capture[(id(t._grad_fn), t._output_nr) if t._grad_fn is not None else id(t)] = i
        results = [None] * len(inputs)

    # Note [heap sweep]: pending nodes sit in a max-heap keyed by sequence
    # number. Every node that feeds a node N was recorded after N, and the path
    # to it from a root passes through pending nodes of higher sequence, so when
    # N is popped its gradient is complete. Only nodes that receive a gradient
    # are visited; there is no recursion and no separate discovery pass.
    keep = lead = None
    if capture is not None:         # Note [grad pruning]
        keep, lead = _paths_to_inputs(buf, capture)
    heap = [(-n.seq, n) for n in buf if keep is None or n in keep]
    heapify(heap)
    # Note [ready leaves]: None unless a leaf of this backward has a post-accumulate-grad hook.
    ready = _ready_leaves(buf, roots) if _POST_HOOKED and (capture is None or accumulate) else None
    if ready is not None and capture is not None:       # backward(inputs=...): only the input leaves
        ready = [r for r in ready if r[2] in capture and r[2] in _POST_HOOKED] or None
    callbacks = []
    _RUNNING.append(callbacks)      # Note [final callbacks]
    anomaly = _anomaly.ENABLED[0]
    prev_mode = _gm.STATE.enabled
    _gm.STATE.enabled = graph
    nb = B.numpy_backend
    quiet = nb.QUIET_SET(nb.QUIET)     # once per backward (Note [quiet NumPy] in backend/numpy_backend.py)
    try:
        while heap:
            if ready and ready[-1][0] > -heap[0][0]:
                _finish_ready(ready, -heap[0][0], leaf_buf, graph, Tensor, capture is not None)
            node = heappop(heap)[1]
            g = buf.pop(node)
            if node.hooks is not None or node.retain is not None:
                g = _node_hooks(node, g, graph, Tensor)
            if capture is not None:
                _capture(capture, results, node, g)
                if node not in lead:
                    continue        # it produces an input but leads to none
            saved = node.saved
            if saved:
                if graph:
                    saved = _unpack(node, graph, Tensor, g if g.__class__ is not list else _first(g))
                else:
                    it = iter(node.versions)
                    for vc in it:
                        if vc[0] != next(it):
                            _check_versions(node)           # raises, naming the ops
            elif saved is None:
                raise RuntimeError(f"{node.op.name}: {_FREED}")
            if not graph and g.__class__ is not F_array:
                # A graph may cross devices (to_device): an ordinary VJP runs on its gradient's backend.
                # One class check per node; a NumPy scalar gradient keeps the CPU backend.
                F = _BY_TYPE.get(g.__class__, F)
                F_array = F.array_type
            params = node.params
            grads = node.op.vjp_fn(F, node, g, *saved, **params) if params else node.op.vjp_fn(F, node, g, *saved)
            if grads.__class__ is not tuple:
                grads = (grads,)
            if anomaly:
                _anomaly.check_backward(node, grads)
            if capture is not None:
                grads = _prune(grads, node.next, keep, capture)
            if saved and not retain_graph:     # a node that saved nothing stays reusable, as in PyTorch
                node.saved = None
            for e, gi in zip(node.next, grads):
                if e is None or gi is None:
                    continue
                tgt, nr, shape, dtype = e
                if gi.shape != shape:
                    gi = sum_to(F, gi, shape, node)
                gd = gi._data.dtype if graph else gi.dtype
                if gd is not dtype and gd != dtype:
                    gi = F.astype(gi, dtype)
                if tgt.__class__ is node_cls:
                    if tgt.n_out == 1:
                        prev = buf.get(tgt)
                        if prev is None:
                            buf[tgt] = gi
                            heappush(heap, (-tgt.seq, tgt))
                        else:
                            buf[tgt] = prev + gi
                    else:
                        if tgt not in buf:
                            heappush(heap, (-tgt.seq, tgt))
                        _add(buf, tgt, nr, gi)
                else:
                    key = id(tgt)
                    prev = leaf_buf.get(key)
                    leaf_buf[key] = (tgt, gi if prev is None else prev[1] + gi)
                prev = None
            g = grads = gi = None
        if ready is not None:
            _finish_ready(ready, -1, leaf_buf, graph, Tensor, capture is not None)
        # Leaves last: their hooks see the total gradient.
        for key in list(leaf_buf):
            t, g = leaf_buf.pop(key)
            if not graph and g.__class__ not in B.BY_TYPE:
                g = _as_array(g)
            if t._hooks:
                g = _run_hooks(t._hooks, g, graph, Tensor)
            if capture is not None:
                if key in capture:
                    results[capture[key]] = g
                continue
            _accumulate(t, g, graph, Tensor)
            if t._post_hooks:
                run_post_hooks(t)
        if callbacks:
            _run_callbacks(callbacks)
    finally:
        _RUNNING.pop()
        _gm.STATE.enabled = prev_mode
        nb.QUIET_RESET(quiet)

    if capture is None:
        return None
    out = []
    for i, r in enumerate(results):
        if r is None:
            if not allow_unused:
                raise RuntimeError(
                    f"autograd.grad: input {i} was not used in the graph of the outputs; "
                    "pass allow_unused=True to get None for it")
            out.append(None)
        else:
            out.append(r if graph else Tensor._make(r if r.__class__ in B.BY_TYPE else _as_array(r), None))
    return tuple(out)


# Note [grad pruning]: with ``inputs`` (``autograd.grad``, ``backward(inputs=...)``) the sweep runs only
# the part of the graph that leads to them, as PyTorch: one pass first finds the nodes from which an input
# is reachable (their VJPs run) and the nodes that produce a non-leaf input (their gradient is captured,
# their VJP skipped); gradients along other edges are dropped, so hooks there never fire and no VJP is
# wasted. A plain backward pays nothing: each check sits behind the ``capture is not None`` test.

# Note [final callbacks]: ``queue_callback`` appends to the list of the innermost backward
# that is running (a backward started inside a hook has its own); that backward runs the list
# once its sweep and the leaves' accumulation are done, in order, including callbacks queued by
# callbacks. The sweep itself never looks at it: one emptiness check per backward.
_RUNNING = []


def queue_callback(callback):
    """Queue ``callback()`` to run at the end of the backward pass that is running now.

    As PyTorch's ``Variable._execution_engine.queue_callback``: call it from a hook during
    backward (a tensor hook or a post-accumulate-grad hook); the callback runs after every
    gradient of that backward has been accumulated (DistributedDataParallel waits on its
    last all-reduces there). Callbacks run in the order queued; one queued by a callback
    runs in the same backward. Outside a backward pass it raises RuntimeError.

    Args:
        callback: a function of no arguments.

    Example:
        >>> import tapegrad
        >>> from tapegrad.autograd.graph import queue_callback
        >>> w = tapegrad.ones(2, requires_grad=True)
        >>> def hook(t):
        ...     queue_callback(lambda: print("end of backward; grad", t.grad))
        >>> h = w.register_post_accumulate_grad_hook(hook)
        >>> (w * 2).sum().backward()
        end of backward; grad tensor([2., 2.])
    """
    if not _RUNNING:
        raise RuntimeError("queue_callback: no backward pass is running; queue a callback from a hook "
                           "during backward")
    if not callable(callback):
        raise TypeError(f"queue_callback: expected a callable, got {type(callback).__name__}")
    _RUNNING[-1].append(callback)


def _run_callbacks(callbacks):
    i = 0
    while i < len(callbacks):       # a callback may queue more
        callbacks[i]()
        i += 1


def _first(gs):
    """The first gradient of a multi-output node's list (it gives the device for constants)."""
    for x in gs:
        if x is not None:
            return x
    return None


def _capture(capture, results, node, g):
    if node.n_out == 1:
        k = (id(node), 0)
        if k in capture:
            results[capture[k]] = g
    else:
        for nr, gi in enumerate(g):
            k = (id(node), nr)
            if k in capture and gi is not None:
                results[capture[k]] = gi


def _add(buf, node, nr, g):
    if node.n_out == 1:
        prev = buf.get(node)
        buf[node] = g if prev is None else prev + g
    else:
        lst = buf.get(node)
        if lst is None:
            lst = buf[node] = [None] * node.n_out
        lst[nr] = g if lst[nr] is None else lst[nr] + g


def _run_hooks(hooks, g, graph, Tensor):
    for h in list(hooks.values()) if isinstance(hooks, dict) else list(hooks):
        r = h(g if graph else Tensor._make(g, None))
        if r is not None:
            _check_hook_result(h, r, g, graph, Tensor)
            g = r if graph else r._data
    return g


def _check_hook_result(h, r, g, graph, Tensor):
    """PyTorch's checks on what a tensor hook returned: a Tensor of the same size, dtype and device."""
    if not isinstance(r, Tensor):
        raise TypeError(f"expected Tensor, but hook returned '{type(r).__name__}'")
    name = getattr(h, "__name__", type(h).__name__)
    a = g._data if graph else g
    b = r._data
    if b.shape != a.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value (was {tuple(a.shape)} got "
                           f"{tuple(b.shape)})")
    if b.dtype != a.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {a.dtype} got {b.dtype})")
    if b.__class__ is not a.__class__ and B.BY_TYPE.get(b.__class__) is not B.BY_TYPE.get(a.__class__):
        raise RuntimeError(f"hook '{name}' has changed the device of value (was "
                           f"{B.BY_TYPE[a.__class__].device_type} got {r.device.type})")


# Note [ready leaves]
# A leaf's gradient is complete once every node that feeds it has run. PyTorch accumulates it
# then (its AccumulateGrad node runs first among the ready nodes), so post-accumulate-grad hooks
# fire during the backward: DistributedDataParallel launches a bucket's all-reduce from them while
# the rest of the backward still runs (Note [DDP buckets] in nn/parallel/_reducer.py). The sweep
# pops nodes in decreasing sequence number and a node is only ever pushed by one of higher
# sequence, so once the heap's top is below the smallest sequence number of the nodes that
# feed a leaf, no contribution to it is left (those that got no gradient never come): it is ready.
# Knowing those feeders takes a walk over the graph before the sweep (autograd/_ready.py), so the
# engine only walks when some tensor has a post-accumulate-grad hook (``POST_HOOKED`` in _tensor.py,
# one dict check per backward) and only uses it when a leaf reached has one; otherwise every leaf
# is finished after the sweep as before. Either way a leaf's tensor hooks see its total gradient
# and its post hooks run after its ``.grad`` is updated; with ready leaves they also run in
# PyTorch's order. Leaves readied by the same node go in that node's input order (PyTorch's heap
# order is unspecified there; its Linear readies the bias before the weight, which passes through
# a transpose node, where tapegrad's fused ``linear`` readies both at once: weight, then bias).
# ``autograd.grad`` accumulates nothing and never looks.
def _finish_ready(ready, top, leaf_buf, graph, Tensor, always_copy=False):
    """Finish the leaves whose last feeder sequence number is above ``top`` (Note [ready leaves])."""
    while ready and ready[-1][0] > top:
        key = ready.pop()[2]
        if key in leaf_buf:
            _finish_leaf(leaf_buf, key, graph, Tensor, always_copy)


def _finish_leaf(leaf_buf, key, graph, Tensor, always_copy=False):
    """Run a leaf's tensor hooks on its total gradient, accumulate it and run its post hooks."""
    t, g = leaf_buf.pop(key)
    if not graph and g.__class__ not in B.BY_TYPE:
        g = _as_array(g)
    if t._hooks:
        g = _run_hooks(t._hooks, g, graph, Tensor)
    _accumulate(t, g, graph, Tensor, always_copy)
    if t._post_hooks:
        run_post_hooks(t)


def run_post_hooks(t):
    """A leaf's post-accumulate-grad hooks, after its ``.grad`` was updated."""
    for h in list(t._post_hooks.values()):
        if h(t) is not None:
            raise RuntimeError("a post accumulate grad hook must return None")


def _as_array(g):
    """Note [0-d results]: NumPy ufuncs on 0-d arrays return NumPy scalars; a gradient that
    leaves the engine (into .grad, a hook or a result) must be a backend array."""
    return B.CPU_BACKEND.asarray(g)


def _node_hooks(node, g, graph, Tensor):
    multi = node.n_out != 1
    if not graph:
        if multi:
            g = [x if x is None or x.__class__ in B.BY_TYPE else _as_array(x) for x in g]
        elif g.__class__ not in B.BY_TYPE:
            g = _as_array(g)
    if node.hooks is not None:
        for nr, hooks in list(node.hooks.items()):
            gi = g[nr] if multi else g
            if gi is None:
                continue
            gi = _run_hooks(hooks, gi, graph, Tensor)
            if multi:
                g[nr] = gi
            else:
                g = gi
    if node.retain is not None:
        for nr, ref in node.retain.items():
            t = ref()
            gi = g[nr] if multi else g
            if t is not None and gi is not None:
                _accumulate(t, gi, graph, Tensor, always_copy=True)
    return g


def _accumulate(t, g, graph, Tensor, always_copy=False):
    """Add ``g`` into ``t.grad``: in place normally, out of place under create_graph."""
    old = t._grad
    if graph:
        # As PyTorch: the first gradient is cloned (a recorded op), so .grad never aliases the seed,
        # another leaf's .grad or a read-only broadcast view.
        t._grad = g.clone() if old is None else old + g
        return
    if old is None:
        # Keep the first contribution without a copy when nobody else holds it.
        if always_copy or sys.getrefcount(g) > 3 or B.BY_TYPE[type(g)].is_view(g):
            g = B.BY_TYPE[type(g)].copy(g)
        t._grad = Tensor._make(g, None)
    elif old._grad_fn is not None or old._data.shape != g.shape:
        t._grad = Tensor._make(old._data + g, None)
    else:
        d = old._data
        d += g
        old._version[0] += 1
