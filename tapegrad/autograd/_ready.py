"""Which leaves of a backward become ready when (Note [ready leaves] in autograd/engine.py)."""
from .._tensor import POST_HOOKED as _POST_HOOKED
from ..tape.node import Node

__all__ = ["ready_leaves", "paths_to_inputs"]


def ready_leaves(buf, roots):
    """The leaves of this backward as ``[(last_feeder_seq, -input_position, id(leaf)), ...]`` sorted, so the
    next one to become ready is last; None when none of them has a post-accumulate-grad hook."""
    hooked = False
    while True:
        try:                        # a tensor dying in a garbage collection here removes itself
            entries = list(_POST_HOOKED.items())
            break
        except RuntimeError:
            pass
    for key, ref in entries:        # forget tensors whose hooks were all removed
        t = ref()
        if t is None or not t._post_hooks:
            _POST_HOOKED.pop(key, None)
    t = entries = None
    if not _POST_HOOKED:
        return None
    last = {}                       # id(leaf) -> (seq of the last node to feed it, input position there)
    inf = float("inf")
    for pos, t in enumerate(roots):
        if t._grad_fn is None:
            last[id(t)] = (inf, pos)
            hooked = hooked or id(t) in _POST_HOOKED
    seen = set(buf)
    stack = list(buf)
    while stack:
        node = stack.pop()
        s = node.seq
        for pos, e in enumerate(node.next):
            if e is None:
                continue
            tgt = e[0]
            if tgt.__class__ is Node:
                if tgt not in seen:
                    seen.add(tgt)
                    stack.append(tgt)
            else:
                key = id(tgt)
                f = last.get(key)
                if f is None:
                    hooked = hooked or key in _POST_HOOKED
                    last[key] = (s, pos)
                elif s < f[0] or (s == f[0] and pos < f[1]):
                    last[key] = (s, pos)
    if not hooked:
        return None
    return sorted((s, -pos, key) for key, (s, pos) in last.items())


def paths_to_inputs(buf, capture):
    """``(keep, lead)`` for a backward with ``inputs`` (Note [grad pruning] in autograd/engine.py): ``lead``
    holds the nodes from which some input is reachable (their VJPs run), ``keep`` those and the nodes
    that produce a non-leaf input (their gradient is captured)."""
    lead = {}
    stack = [(n, False) for n in buf]
    while stack:
        node, done = stack.pop()
        if done:
            r = False
            for e in node.next:
                if e is None:
                    continue
                tgt = e[0]
                if tgt.__class__ is Node:
                    if lead[tgt] or (id(tgt), e[1]) in capture:
                        r = True
                elif id(tgt) in capture:
                    r = True
            lead[node] = r
            continue
        if node in lead:
            continue
        lead[node] = False          # visited; a DAG has no edge back to a node still in progress
        stack.append((node, True))
        for e in node.next:
            if e is not None and e[0].__class__ is Node and e[0] not in lead:
                stack.append((e[0], False))
    produced = {key[0] for key in capture if type(key) is tuple}
    keep = {n for n, r in lead.items() if r or id(n) in produced}
    return keep, {n for n, r in lead.items() if r}


def prune(grads, edges, keep, capture):
    """``grads`` with None for the edges that lead to no input (Note [grad pruning])."""
    out = []
    for e, g in zip(edges, grads):
        if e is not None and g is not None:
            tgt = e[0]
            if (tgt not in keep) if tgt.__class__ is Node else (id(tgt) not in capture):
                g = None
        out.append(g)
    return out
