"""Tape introspection: the recorded history of a result as text or as Graphviz DOT.

Both list the nodes reachable from the tensor in recording order (sequence
number), the order the forward pass ran them in; backward visits them in
reverse.
"""
from ..tape.node import walk

__all__ = ["format_tape", "to_dot"]


def _dtype_name(np_dtype):
    from .. import _dtype as D
    return D.from_numpy_dtype(np_dtype).name


def _roots(tensors):
    from .._tensor import Tensor
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"format_tape/to_dot: expected Tensors, got {type(t).__name__}")
    return tensors


def _outputs(nodes, roots):
    """Each node's output (shape, dtype) per output slot, read off the edges that consume it."""
    outs = {}
    for t in roots:
        if t._grad_fn is not None:
            outs.setdefault(id(t._grad_fn), {})[t._output_nr] = (tuple(t._data.shape), t._data.dtype)
    for n in nodes:
        for e in n.next:
            if e is not None and e[0].__class__ is n.__class__:
                outs.setdefault(id(e[0]), {})[e[1]] = (tuple(e[2]), e[3])
    return outs


def _desc(shape, dtype):
    return f"{tuple(shape)} {_dtype_name(dtype)}"


def _inputs(n, ids):
    parts = []
    for i, e in enumerate(n.next):
        if e is None:
            shape = n.shapes[i] if n.shapes and i < len(n.shapes) else None
            parts.append("const" if shape is None else f"{tuple(shape)} const")
        elif e[0].__class__ is n.__class__:
            src = f"#{ids[id(e[0])]}" + (f".{e[1]}" if e[0].n_out > 1 else "")
            parts.append(f"{_desc(e[2], e[3])} <- {src}")
        else:
            parts.append(f"{_desc(e[2], e[3])} <- leaf")
    return ", ".join(parts)


def format_tape(tensors):
    """The tape of a result as text: one line per recorded op, in recording order.

    Each line shows the op's position on this tape, the op, its inputs (shape,
    dtype and where they come from: an earlier line, a leaf, or a constant that
    needs no gradient) and its output.

    Args:
        tensors: a tensor, or a sequence of tensors, whose history to list.

    Returns:
        A string.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(3, requires_grad=True)
        >>> print(tapegrad.autograd.format_tape((x * 2).sum()))
        tape: 2 ops
          #0 MultiplyBackward0  in: (3,) float32 <- leaf, const  out: (3,) float32
          #1 SumBackward0  in: (3,) float32 <- #0  out: () float32
    """
    roots = _roots(tensors)
    nodes = walk([t._grad_fn for t in roots])
    ids = {id(n): i for i, n in enumerate(nodes)}
    outs = _outputs(nodes, roots)
    lines = [f"tape: {len(nodes)} op{'s' if len(nodes) != 1 else ''}"]
    for i, n in enumerate(nodes):
        o = outs.get(id(n), {})
        out = ", ".join(_desc(*o[k]) if k in o else "(unused)" for k in range(n.n_out)) or "?"
        lines.append(f"  #{i} {n.name()}  in: {_inputs(n, ids)}  out: {out}")
    return "\n".join(lines)


def _quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(tensors, name="tape"):
    """The tape of a result as Graphviz DOT text (ops as ellipses, leaves as boxes).

    Edges point the way data flowed in forward, from inputs to the ops using
    them; render with ``dot -Tsvg``.

    Args:
        tensors: a tensor, or a sequence of tensors, whose history to draw.
        name: the graph's name.

    Returns:
        A string in the DOT language.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(3, requires_grad=True)
        >>> print(tapegrad.autograd.to_dot(x.exp()))
        digraph "tape" {
          rankdir=BT;
          leaf0 [shape=box, label="leaf\\n(3,) float32"];
          op0 [shape=ellipse, label="#0 ExpBackward0\\n(3,) float32"];
          leaf0 -> op0;
        }
    """
    roots = _roots(tensors)
    nodes = walk([t._grad_fn for t in roots])
    ids = {id(n): i for i, n in enumerate(nodes)}
    outs = _outputs(nodes, roots)
    lines = [f"digraph {_quote(name)} {{", "  rankdir=BT;"]
    leaves = {}
    edges = []

    def leaf_id(t, shape, dtype):
        key = id(t)
        if key not in leaves:
            leaves[key] = f"leaf{len(leaves)}"
            lines.append(f"  {leaves[key]} [shape=box, label={_quote('leaf' + chr(10) + _desc(shape, dtype))}];")
        return leaves[key]

    for t in roots:
        if t._grad_fn is None and t._requires_grad:
            leaf_id(t, t._data.shape, t._data.dtype)
    for i, n in enumerate(nodes):
        for e in n.next:
            if e is not None and e[0].__class__ is not n.__class__:
                edges.append(f"  {leaf_id(e[0], e[2], e[3])} -> op{i};")
            elif e is not None:
                edges.append(f"  op{ids[id(e[0])]} -> op{i};")
        o = outs.get(id(n), {})
        out = ", ".join(_desc(*o[k]) for k in sorted(o))
        label = f"#{i} {n.name()}" + ("\n" + out if out else "")
        lines.append(f"  op{i} [shape=ellipse, label={_quote(label)}];")
    lines.extend(edges)
    lines.append("}")
    return "\n".join(lines)
