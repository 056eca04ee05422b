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
A recorded ``reshape`` keeps the sizes of the example run. The exporter traces the model
once more with every dynamic axis one larger and compares the two tapes node by node: an
entry that stayed is a constant; one that changed is read at run time from the graph input
dim of the same size in both runs (``Shape`` + ``Gather``), or, for the one left, ``-1``.
"""
import numpy as np

from ..tape.node import Node, walk
from ._ops import TABLE, UNUSED

__all__ = ["Graph", "UnsupportedOpError"]


class UnsupportedOpError(RuntimeError):
    """A recorded op has no ONNX mapping (or not with these parameters)."""


class _CallNode:
    """An op call that was not recorded, dressed as a node for the table (Note [unrecorded ops])."""

    def __init__(self, call):
        self.op = type("op", (), {"name": call.name})
        self.seq = call.seq
        self.next = ()


class Graph:
    def __init__(self, onnx, opset, calls, by_out, names, dyn_dims, nodes2):
        self.onnx, self.h, self.opset = onnx, onnx.helper, opset
        self.calls, self.by_out = calls, by_out
        self.names = names              # id(leaf tensor) or id(array) -> value name
        self.dyn_dims = dyn_dims        # [(value name, axis, size in run 1, size in run 2)]
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

    def unsupported(self, node, what):
        c = self.calls.get(node.seq)
        by = f" (recorded by {c.caller})" if c is not None else ""
        return UnsupportedOpError(f"tapegrad.onnx.export: op '{node.op.name}'{by}: {what} has no ONNX mapping")

    def shape_value(self, node, shape):
        """An int64 ONNX value for the recorded ``shape`` param of ``node`` (Note [dynamic shapes])."""
        shape = tuple(int(s) for s in shape)
        other = self.nodes2.get(id(node))
        if other is None:
            return self.const(np.asarray(shape, dtype=np.int64))
        shape2 = tuple(int(s) for s in self.calls2[other.seq].params["shape"])
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
            src = next(((v, a) for v, a, s1, s2 in self.dyn_dims if (s1, s2) == (s, shape2[i])), None)
            if src is None:
                left.append(i)
                parts.append(self.const(np.asarray([-1], dtype=np.int64)))
            else:
                dims = self.add("Shape", [src[0]])[0]
                parts.append(self.add("Gather", [dims, self.const(np.asarray([src[1]], dtype=np.int64))], axis=0)[0])
        if len(left) > 1:
            raise self.unsupported(node, f"a shape {shape} with {len(left)} entries that follow the dynamic axes "
                                         "and match no input dim")
        return self.add("Concat", parts, axis=0)[0]

    def max_pool_of(self, node, p):
        """MaxPool for a getitem that gathers window maxima (Note [max pooling as a gather]), else None."""
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
        flat = node.next[0][0]
        if flat.__class__ is not Node or flat.op.name != "reshape":
            return None
        x = self.value(flat.next[0])
        q = idx.params
        k, s, pad, d = (list(q[n]) for n in ("kernel_size", "stride", "padding", "dilation"))
        shp = self.shape(x)[2:]
        floor = [(L + 2 * pp - dd * (kk - 1) - 1) // ss + 1 for L, pp, dd, kk, ss in zip(shp, pad, d, k, s)]
        ceil = int(list(q["out_size"]) != floor)
        return self.add("MaxPool", [x], kernel_shape=k, strides=s, pads=pad + pad, dilations=d, ceil_mode=ceil)

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
                f"tapegrad.onnx.export: op '{c.name}' (recorded by {c.caller}): this op, computed from the "
                f"inputs without a gradient, has no ONNX mapping")
        ins = [None if x is None else self.array_value(x) for x in c.arrays]
        out = fn(self, _CallNode(c), ins, c.params)[0]
        self.info[out] = (tuple(c.out.shape), np.dtype(c.out.dtype))
        self.arrays[id(a)] = out
        return out

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
            c = self.calls.get(n.seq)
            ins = []
            unused = UNUSED.get(n.op.name, ())
            for i, e in enumerate(n.next):
                if i in unused:
                    ins.append(None)
                elif e is not None:
                    ins.append(self.value(e))
                elif c is not None and i < len(c.arrays) and c.arrays[i] is not None:
                    ins.append(self.array_value(c.arrays[i]))
                else:
                    ins.append(None)
            params = c.params if c is not None else (n.params or {})
            outs = fn(self, n, ins, params)
            metas = self._out_meta(n, c)
            for o, m in zip(outs, metas):
                if m is not None:
                    self.info[o] = m
            self.outs[id(n)] = outs
            if c is not None:
                self.arrays[id(c.out)] = outs[0]
        return nodes

    def _out_meta(self, n, c):
        if c is not None:
            return [(tuple(c.out.shape), np.dtype(c.out.dtype))]
        metas = getattr(n.op, "out_meta", None) or []
        return [None if m is None else (tuple(m[0]), np.dtype(m[1])) for m in metas]
