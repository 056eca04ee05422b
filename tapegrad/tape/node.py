"""The tape record: ``Node``, its edges, saved values with their version check, the
sequence counter, and its public, PyTorch-shaped face (``name()``, ``next_functions``,
``AccumulateGrad``).

# Note [node view]
``tensor.grad_fn`` is the Node itself. Its public face is plain methods and
properties of the class: ``apply`` records a node by filling four slots, so
a method costs the hot path nothing, and nothing is installed from outside.

# Note [rare fields]
Almost every node keeps the class-level defaults below (``hooks``,
``retain``, ``anomaly``, ``n_out``); as class attributes they cost nothing to
record, and an instance that needs one (a hook, retain_grad, anomaly mode, a
multi-output Function) sets its own. ``Tensor`` uses the same trick.
"""
import itertools
import weakref

__all__ = ["Node", "AccumulateGrad", "node_view", "walk", "check_versions", "next_seq", "FREED"]

# The recording order: a node's sequence number is larger than every node it depends on,
# so reverse sequence order is a valid order for the sweep (Note [heap sweep], autograd/engine.py).
next_seq = itertools.count().__next__

FREED = ("Trying to backward through the graph a second time (or to read saved values after they were "
         "freed). Saved intermediate values of the graph are freed when you call .backward() or "
         "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second "
         "time or to access saved tensors after calling backward.")


class Node:
    """A recorded op on the tape: ``tensor.grad_fn``.

    ``op`` (what ran: its name and VJP), ``seq`` (recording order), ``next``
    (one edge per input: ``(node_or_leaf, output_nr, shape, dtype)``, or None for
    an input that needs no gradient), ``saved`` (arrays the VJP needs, Note
    [saved values] in ops/registry.py), ``versions`` (flat ``(counter,
    version, ...)`` pairs for the in-place check) and ``params`` (the op's
    keyword parameters).

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2, requires_grad=True)
        >>> y = x * 2
        >>> y.grad_fn, y.grad_fn.name()
        (<MultiplyBackward0>, 'MultiplyBackward0')
    """
    __slots__ = ("op", "seq", "next", "saved", "versions", "params", "__dict__", "__weakref__")
    hooks = None          # Note [rare fields]
    retain = None
    anomaly = None
    n_out = 1

    def __init__(self, op, next_, saved, versions, params):
        self.op = op
        self.seq = next_seq()
        self.next = next_
        self.saved = saved
        self.versions = versions
        self.params = params

    @property
    def shapes(self):
        """The shape of each input that requires grad (None for the others)."""
        return tuple(None if e is None else e[2] for e in self.next)

    @property
    def needs(self):
        """For each input, whether it needs a gradient (a VJP may skip the others)."""
        n = self.next
        if len(n) == 2:             # unrolled: binary VJPs read it on every backward
            return (n[0] is not None, n[1] is not None)
        return tuple([e is not None for e in n])

    def name(self):
        """PyTorch-style name, e.g. ``MultiplyBackward0`` (a Function's is ``<Class>Backward``)."""
        custom = getattr(self.op, "node_name", None)
        if custom is not None:
            return custom
        return "".join(w.capitalize() for w in self.op.name.split("_")) + "Backward0"

    @property
    def next_functions(self):
        """((next_node, output_nr), ...) per input, like PyTorch's; leaves appear as AccumulateGrad."""
        out = []
        for e in self.next:
            if e is None:
                out.append((None, 0))
            elif e[0].__class__ is Node:
                out.append((e[0], e[1]))
            else:
                out.append((AccumulateGrad(e[0]), 0))
        return tuple(out)

    def __repr__(self):
        return f"<{self.name()}>"


class AccumulateGrad:
    """Stands for a leaf in ``next_functions``: the step that adds into ``variable.grad``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2, requires_grad=True)
        >>> fn, nr = (x * 2).grad_fn.next_functions[0]
        >>> fn, fn.variable is x, nr
        (<AccumulateGrad>, True, 0)
    """
    __slots__ = ("_ref",)

    def __init__(self, leaf):
        self._ref = weakref.ref(leaf)

    @property
    def variable(self):
        return self._ref()

    @staticmethod
    def name():
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self):
        return ()

    def __eq__(self, other):
        return isinstance(other, AccumulateGrad) and other._ref() is self._ref()

    def __hash__(self):
        return hash(id(self._ref()))

    def __repr__(self):
        return "<AccumulateGrad>"


def node_view(node):
    """The object ``tensor.grad_fn`` returns: the Node itself (Note [node view])."""
    return node


def check_versions(node):
    """Raise if a value ``node`` saved was changed in place since (Note [saved values])."""
    it = iter(node.versions)
    for vc in it:
        expected = next(it)
        if vc[0] != expected:
            by = f" by {vc[1]}" if vc[1] else ""
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an inplace "
                f"operation{by}: a tensor saved by {node.op.name} (node #{node.seq}) is at version {vc[0]}; "
                f"expected version {expected} instead. Hint: avoid the in-place op, or clone() the tensor "
                f"before modifying it.")


def walk(root_nodes):
    """All nodes reachable from ``root_nodes`` (explicit stack, no recursion), sorted by sequence number."""
    seen = set()
    stack = [n for n in root_nodes if n is not None]
    out = []
    for n in stack:
        seen.add(id(n))
    while stack:
        n = stack.pop()
        out.append(n)
        for e in n.next:
            if e is not None and e[0].__class__ is Node and id(e[0]) not in seen:
                seen.add(id(e[0]))
                stack.append(e[0])
    out.sort(key=lambda n: n.seq)
    return out
