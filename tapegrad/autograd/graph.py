"""The public view of recorded nodes: ``tensor.grad_fn``, ``name()``, ``next_functions``.

# Note [node view]
``ops.registry.Node`` is the engine's record and must stay lean. Its public,
PyTorch-shaped face (``<MultiplyBackward0>``, ``next_functions`` with an
``AccumulateGrad`` per leaf) is installed here, once, when
``_tensor.py`` is imported, so the hot recording path never pays for it.
"""
import weakref

__all__ = ["AccumulateGrad", "node_view", "install", "walk"]


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


def _name(self):
    custom = getattr(self.op, "node_name", None)
    if custom is not None:
        return custom
    return "".join(w.capitalize() for w in self.op.name.split("_")) + "Backward0"


def _next_functions(self):
    out = []
    for e in self.next:
        if e is None:
            out.append((None, 0))
        elif e[0].__class__ is self.__class__:
            out.append((e[0], e[1]))
        else:
            out.append((AccumulateGrad(e[0]), 0))
    return tuple(out)


def _repr(self):
    return f"<{self.name()}>"


def install(Node):
    """Give the engine's Node class its public face (Note [node view])."""
    Node.name = _name
    Node.next_functions = property(_next_functions, doc="((next_node, output_nr), ...) per input, "
                                                       "like PyTorch's; leaves appear as AccumulateGrad")
    Node.__repr__ = _repr


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
            if e is not None and e[0].__class__ is n.__class__ and id(e[0]) not in seen:
                seen.add(id(e[0]))
                stack.append(e[0])
    out.sort(key=lambda n: n.seq)
    return out
