"""The ONNX graph of a traced run: walk the tape from the outputs, one table entry per node.

Values are named by where they come from: a graph input (``input_names``), a parameter
or buffer (its ``state_dict`` name, an initializer), a constant the forward call saw
(Note [export trace] in _trace.py), or a node's output. Shapes and dtypes are the
example run's; with ``dynamic_axes`` a second run at other sizes tells which entries
of a recorded shape (reshape, broadcast_to) follow the inputs (Note [dynamic shapes]).

# Note [unrecorded ops]
Ops that need no gradient are not on the tape (comparisons, integer math), yet their
results may feed recorded ops: ``where(x > 0, x, y)``. An input with no edge is read
from the forward call (Note [export trace]); when that array came from an op call
whose inputs reach a graph value, the call is exported too, through the same table.
Only arrays that depend on no graph value become constants.

# Note [dynamic shapes]
A recorded op keeps the sizes of the example run (a ``reshape`` target, a ``narrow``
start, a zero initial state). With ``dynamic_axes``, the exporter traces the model once
more with every dynamic input axis larger (by 1 for the first symbol, 2 for the
second, ...) and pairs the two tapes node by node (they
must record the same ops). A size that stayed is a constant. One that changed is read at
run time: the graph input dim with the same two sizes (``Shape`` + ``Gather``); else, when
only one symbol is dynamic, ``a * dim + b`` through its two sizes (``narrow(0, t * B, B)`` of
a folded ``(T * B, ...)``); else ``-1`` for at most one reshape entry. A constant input
filled with one value whose shape changed becomes ``Expand`` to such a shape. Any other
param that differs between the runs raises, naming the op (``check_params``).
"""
import numpy as np

from ..ops.registry import OpDef
from ..tape.node import Node, walk
from ._trace import caller_name
from ._ops import DYNAMIC_PARAMS, TABLE, UNUSED

__all__ = ["Graph", "UnsupportedOpError"]


class UnsupportedOpError(RuntimeError):
    """A recorded op has no ONNX mapping (or not with these parameters)."""


def _same(a, b):
    if hasattr(a, "shape") or hasattr(b, "shape"):
        if hasattr(a, "shape") and hasattr(b, "shape") and a.shape != b.shape:
            return False
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _short(v):
    return f"<array {tuple(v.shape)}>" if hasattr(v, "shape") else repr(v)


class _CallNode:
    """An op call that was not recorded, dressed as a node for the table (Note [unrecorded ops])."""

    def __init__(self, call):
        self.call = call
        self.op = type("op", (), {"name": call.name})
        self.seq = call.seq
        self.next = ()


class Graph:
    """The ONNX nodes, initializers and value shapes built so far, and the helpers the table uses."""

    def __init__(self, onnx, opset, calls, by_out, names, dyn_dims, nodes2):
        self.onnx, self.h, self.opset = onnx, onnx.helper, opset
        self.calls, self.by_out = calls, by_out
        self.names = names              # id(leaf tensor) -> value name (inputs, parameters)
        self.dyn_dims = dyn_dims        # [(value name, axis, size in run 1, size in run 2, symbol)]
        self.nodes2 = nodes2            # id(node) -> the node at the same place in the second run
        self.nodes, self.inits, self.info = [], [], {}
        self._count = 0
        self._consts = {}
        self.arrays = {}                # id(array) -> value name: inputs, parameters, recorded outputs
        self._deps = {}

    # -- building blocks used by the table
    def fresh(self, base):
        self._count += 1
        return f"{base}_{self._count}"

    def add(self, op_type, inputs, n_out=1, **attrs):
        outs = [self.fresh(op_type) for _ in range(n_out)]
        self.nodes.append(self.h.make_node(op_type, [i or "" for i in inputs], outs, **attrs))
        return outs

    def const(self, array, name=None):
        array = np.asarray(array)
        key = (array.dtype.str, array.shape, array.tobytes()) if array.size <= 64 and name is None else None
        if key in self._consts:
            return self._consts[key]
        name = name or self.fresh("const")
        self.inits.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        self.info[name] = (tuple(array.shape), array.dtype)
        if key is not None:
            self._consts[key] = name
        return name

    def shape(self, name):
        return self.info[name][0]

    def ndim(self, name):
        return len(self.info[name][0])

    def np_dtype(self, name):
        return self.info[name][1]

    def call_of(self, node):
        """The forward call behind an op node (Note [export trace]); None for Function nodes, which have none
        (their sequence number may be the one an op inside their forward reserved)."""
        if isinstance(node, _CallNode):
            return node.call
        if node.op.__class__ is not OpDef:
            return None
        c = self.calls.get(node.seq)
        return c if c is not None and c.name == node.op.name else None

    def unsupported(self, node, what):
        c = self.call_of(node)
        if c is not None:
            by = f" (recorded by {caller_name(c.caller)})"
        else:
            by = " (an autograd.Function)" if getattr(node.op, "cls", None) is not None else ""
        return UnsupportedOpError(f"tapegrad.onnx.export: op '{node.op.name}'{by}: {what} has no ONNX mapping")

    def shape_value(self, node, shape):
        """An int64 ONNX value for the recorded ``shape`` param of ``node`` (Note [dynamic shapes])."""
        other = self.nodes2.get(id(node))
        shape2 = None if other is None else self.calls2[other.seq].params["shape"]
        return self.dyn_shape(node, shape, shape2)

    def dyn_shape(self, node, shape, shape2):
        """An int64 ONNX value for ``shape`` that is ``shape2`` in the second run (Note [dynamic shapes])."""
        shape = tuple(int(s) for s in shape)
        if shape2 is None:
            return self.const(np.asarray(shape, dtype=np.int64))
        shape2 = tuple(int(s) for s in shape2)
        if len(shape2) != len(shape):
            raise self.unsupported(node, f"a shape {shape} whose rank changes with the dynamic axes")
        changed = [i for i, (a, b) in enumerate(zip(shape, shape2)) if a != b]
        if not changed:
            return self.const(np.asarray(shape, dtype=np.int64))
        parts, left = [], []
        for i, s in enumerate(shape):
            if i not in changed:
                parts.append(self.const(np.asarray([s], dtype=np.int64)))
                continue
            v = self.dyn_int(s, shape2[i])
            if v is None:
                left.append(i)
                parts.append(self.const(np.asarray([-1], dtype=np.int64)))
            else:
                parts.append(v)
        if len(left) > 1:
            raise self.unsupported(node, f"a shape {shape} with {len(left)} entries that follow the dynamic axes "
                                         "and match no input dim")
        return self.add("Concat", parts, axis=0)[0]

    def _dim(self, name, axis):
        dims = self.add("Shape", [name])[0]
        return self.add("Gather", [dims, self.const(np.asarray([axis], dtype=np.int64))], axis=0)[0]

    def dyn_int(self, v1, v2):
        """An int64 ``[1]`` value that is ``v1`` in the first run and ``v2`` in the second, or None.

        A graph input dim of the same sizes; else, with a single dynamic axis, ``a * dim + b``
        (integers a, b) through its two sizes (Note [dynamic shapes])."""
        src = next(((v, a) for v, a, s1, s2, _ in self.dyn_dims if (s1, s2) == (v1, v2)), None)
        if src is not None:
            return self._dim(*src)
        if len({d[4] for d in self.dyn_dims}) != 1:
            return None
        name, axis, d1, d2, _ = self.dyn_dims[0]
        a, r = divmod(v2 - v1, d2 - d1)
        if r:
            return None
        b = v1 - a * d1
        out = self._dim(name, axis)
        if a != 1:
            out = self.add("Mul", [out, self.const(np.asarray([a], dtype=np.int64))])[0]
        if b:
            out = self.add("Add", [out, self.const(np.asarray([b], dtype=np.int64))])[0]
        return out

    def param_value(self, node, key, value):
        """An int64 ``[1]`` value for the int param ``key`` of ``node``, following the dynamic axes."""
        other = self.nodes2.get(id(node))
        v2 = value if other is None else self.calls2[other.seq].params[key]
        if v2 == value:
            return self.const(np.asarray([value], dtype=np.int64))
        out = self.dyn_int(value, v2)
        if out is None:
            raise self.unsupported(node, f"{key}={value} ({v2} at other sizes of the dynamic axes)")
        return out

    def check_params(self, node, dynamic):
        """Raise if a param of ``node`` other than ``dynamic`` changes with the dynamic axes."""
        other = self.nodes2.get(id(node))
        if other is None:
            return
        p1, p2 = self.calls[node.seq].params, self.calls2[other.seq].params
        for k, v in p1.items():
            if k == "key" and isinstance(v, tuple) and isinstance(p2.get(k), tuple):
                # index arrays computed from graph values are graph values themselves (array_value)
                v = tuple("graph" if hasattr(a, "shape") and self._is_graph_array(a) else a for a in v)
                v2 = tuple("graph" if hasattr(a, "shape") else a for a in p2[k])
                if not _same(v, v2):
                    raise self.unsupported(node, "a getitem key that changes with the dynamic axes")
                continue
            if k not in dynamic and not _same(v, p2.get(k)):
                raise self.unsupported(node, f"{k}={_short(v)} ({_short(p2.get(k))} at other sizes of the dynamic "
                                             "axes)")

    def max_pool_of(self, node, p):
        """MaxPool for a getitem that gathers window maxima (Note [max pooling as a gather]), else None."""
        idx = self.is_max_pool(node, p)
        if idx is None:
            return None
        flat = node.next[0][0]
        x = self.value(flat.next[0])
        q = idx.params
        k, s, pad, d = (list(q[n]) for n in ("kernel_size", "stride", "padding", "dilation"))
        shp = self.shape(x)[2:]
        floor = [(L + 2 * pp - dd * (kk - 1) - 1) // ss + 1 for L, pp, dd, kk, ss in zip(shp, pad, d, k, s)]
        ceil = int(list(q["out_size"]) != floor)
        return self.add("MaxPool", [x], kernel_shape=k, strides=s, pads=pad + pad, dilations=d, ceil_mode=ceil)

    def is_max_pool(self, node, p):
        """The ``max_pool_indices`` call whose window maxima this getitem gathers, or None."""
        key = p.get("key")
        if not (isinstance(key, tuple) and len(key) == 1 and hasattr(key[0], "dtype")):
            return None
        c = self.by_out.get(id(key[0]))
        idx = None
        if c is not None and c.name == "add":
            idx = next((self.by_out[id(a)] for a in c.arrays if id(a) in self.by_out
                        and self.by_out[id(a)].name == "max_pool_indices"), None)
        if idx is None:
            if c is not None and c.name in ("adaptive_max_pool_indices",) or (
                    c is not None and c.name == "add" and any(
                        id(a) in self.by_out and self.by_out[id(a)].name == "adaptive_max_pool_indices"
                        for a in c.arrays)):
                raise self.unsupported(node, "adaptive max pooling")
            return None
        flat = node.next[0][0] if node.next and node.next[0] is not None else None
        if flat.__class__ is not Node or flat.op.name != "reshape":
            return None
        return idx

    def lstm(self, node, ins):
        """ONNX LSTM for a fused ``LSTMScan`` node: X is the input projection, W a gate permutation."""
        xp, w_hh, b_hh = ins[0], ins[1], ins[2]
        H = self.shape(w_hh)[1]
        dt = self.np_dtype(xp)
        perm = np.concatenate([np.arange(b * H, (b + 1) * H) for b in (0, 3, 1, 2)])  # torch ifgo -> ONNX iofc
        W = self.const(np.eye(4 * H, dtype=dt)[perm][None])
        pidx = self.const(perm.astype(np.int64))
        zero = self.const(np.asarray([0], dtype=np.int64))
        R = self.add("Unsqueeze", [self.add("Gather", [w_hh, pidx], axis=0)[0], zero])[0]
        rb = self.add("Gather", [b_hh, pidx], axis=0)[0] if b_hh else self.const(np.zeros(4 * H, dt))
        Bv = self.add("Unsqueeze", [self.add("Concat", [self.const(np.zeros(4 * H, dt)), rb], axis=0)[0], zero])[0]
        states = []
        for j in (3, 4):
            if ins[j]:
                states.append(self.add("Unsqueeze", [ins[j], zero])[0])
                continue
            saved = node.saved[j]
            arr = np.asarray(getattr(saved, "_data", saved))
            states.append("" if not arr.any() else self.const(arr[None].astype(dt)))
        reverse = bool(getattr(node.op.ctx, "reverse", False))
        Y, Yh, Yc = self.add("LSTM", [xp, W, R, Bv, "", states[0], states[1]], n_out=3, hidden_size=H,
                             direction="reverse" if reverse else "forward")
        one = self.const(np.asarray([1], dtype=np.int64))
        return [self.add("Squeeze", [Y, one])[0], self.add("Squeeze", [Yh, zero])[0],
                self.add("Squeeze", [Yc, zero])[0]]

    # -- values the tape does not hold (Note [unrecorded ops])
    def array_value(self, a):
        """The value name of an array an op call saw: a graph value, an unrecorded op on one, or a constant."""
        name = self.arrays.get(id(a))
        if name is not None:
            return name
        c = self.by_out.get(id(a))
        if c is None or not self._traced(c):
            return self.const(np.asarray(a))
        fn = TABLE.get(c.name)
        if fn is None:
            raise UnsupportedOpError(
                f"tapegrad.onnx.export: op '{c.name}' (recorded by {caller_name(c.caller)}): this op, computed "
                "from the inputs without a gradient, has no ONNX mapping")
        ins = [None if x is None else self.array_value(x) for x in c.arrays]
        out = fn(self, _CallNode(c), ins, c.params)[0]
        self.info[out] = (tuple(c.out.shape), np.dtype(c.out.dtype))
        self.arrays[id(a)] = out
        return out

    def _is_graph_array(self, a):
        return id(a) in self.arrays or (id(a) in self.by_out and self._traced(self.by_out[id(a)]))

    def _traced(self, c):
        """Whether an op call's result depends on a graph value (so it must be computed in the graph)."""
        hit = self._deps.get(id(c))
        if hit is None:
            self._deps[id(c)] = False          # no cycles among calls; guards re-entry
            hit = any(id(x) in self.arrays or (id(x) in self.by_out and self._traced(self.by_out[id(x)]))
                      for x in c.arrays if x is not None)
            self._deps[id(c)] = hit
        return hit

    # -- the walk
    def value(self, edge):
        """The value name an edge reads: a node's output or a leaf."""
        src, nr = edge[0], edge[1]
        if src.__class__ is Node:
            return self.outs[id(src)][nr]
        name = self.names.get(id(src))
        if name is None:
            name = self.const(np.asarray(src._data))
        return name

    def build(self, out_tensors):
        nodes = walk([t._grad_fn for t in out_tensors])
        self.outs = {}
        for n in nodes:
            fn = TABLE.get(n.op.name)
            if fn is None:
                raise self.unsupported(n, "this op")
            c = self.call_of(n)
            ins = []
            unused = UNUSED.get(n.op.name, ())
            for i, e in enumerate(n.next):
                if i in unused:
                    ins.append(None)
                elif e is not None:
                    ins.append(self.value(e))
                elif c is not None and i < len(c.arrays) and c.arrays[i] is not None:
                    ins.append(self._input_const(n, i, c.arrays[i]))
                else:
                    ins.append(None)
            params = c.params if c is not None else (n.params or {})
            if c is not None and not (n.op.name == "getitem" and self.is_max_pool(n, params)):
                self.check_params(n, DYNAMIC_PARAMS.get(n.op.name, ()))
            outs = fn(self, n, ins, params)
            metas = self._out_meta(n, c)
            for o, m in zip(outs, metas):
                if m is not None:
                    self.info[o] = m
            self.outs[id(n)] = outs
            if c is not None:
                self.arrays[id(c.out)] = outs[0]
        return nodes

    def _input_const(self, n, i, a):
        """Input ``i`` of ``n`` that has no edge; a constant filled with one value whose shape follows the
        dynamic axes (zero initial states) becomes ``Expand`` to a run-time shape (Note [dynamic shapes])."""
        other = self.nodes2.get(id(n))
        if other is None or self._is_graph_array(a):
            return self.array_value(a)
        a2 = self.calls2[other.seq].arrays[i]
        shape, shape2 = tuple(getattr(a, "shape", ())), tuple(getattr(a2, "shape", ()))
        if shape == shape2:
            return self.array_value(a)
        arr = np.asarray(a)
        if arr.size == 0 or not (arr == arr.flat[0]).all():
            raise self.unsupported(n, f"input {i}, a constant of shape {shape} (shape {shape2} at other sizes of "
                                      "the dynamic axes) that is not filled with one value,")
        out = self.add("Expand", [self.const(arr.flat[0:1].reshape(())), self.dyn_shape(n, shape, shape2)])[0]
        self.info[out] = (shape, arr.dtype)
        return out

    def _out_meta(self, n, c):
        if c is not None:
            return [(tuple(c.out.shape), np.dtype(c.out.dtype))]
        metas = getattr(n.op, "out_meta", None) or []
        return [None if m is None else (tuple(m[0]), np.dtype(m[1])) for m in metas]
