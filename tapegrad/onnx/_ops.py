"""The ONNX operators for each recorded tapegrad op: one entry per registered op name.

Each entry is ``fn(g, node, ins, params) -> [output value names]``: ``g`` is the graph
being built (``g.add``, ``g.const``), ``ins`` the ONNX value name of each op input
(constants already made initializers; None for an absent optional input) and
``params`` the op's keyword parameters as the forward call saw them.
"""
import numpy as np

__all__ = ["TABLE", "UNUSED", "DYNAMIC_PARAMS"]

# Inputs the ONNX form does not read (max_dim's mask says where the maximum was, for the VJP).
UNUSED = {"max_dim": (1,), "min_dim": (1,)}
# Params that may follow the dynamic axes (Note [dynamic shapes] in _graph.py); any other that changes raises.
DYNAMIC_PARAMS = {"reshape": ("shape",), "broadcast_to": ("shape",), "narrow": ("start", "length"),
                  "cat": ("sizes",)}        # cat's sizes are for its VJP


def _unary(op_type):
    return lambda g, node, ins, p: g.add(op_type, ins[:1])


def _binary(op_type):
    return lambda g, node, ins, p: g.add(op_type, ins[:2])


def _axes(axis, ndim):
    if axis is None:
        return list(range(ndim))
    axis = (axis,) if isinstance(axis, int) else tuple(axis)
    return [a % ndim if ndim else a for a in axis]


def _reduce(op_type):
    def fn(g, node, ins, p):
        axes = _axes(p.get("axis"), g.ndim(ins[0]))
        keep = int(bool(p.get("keepdims", False)))
        if op_type != "ReduceSum" and g.opset < 18:      # ReduceMax/Min take axes as an input from opset 18
            return g.add(op_type, ins[:1], axes=axes, keepdims=keep)
        return g.add(op_type, [ins[0], g.const(np.asarray(axes, dtype=np.int64))], keepdims=keep)
    return fn


def _linear(g, node, ins, p):
    x, w, b = (list(ins) + [None, None])[:3]
    if g.ndim(x) == 2:
        return g.add("Gemm", [x, w] + ([b] if b else []), transB=1)
    out = g.add("MatMul", [x, g.add("Transpose", [w], perm=[1, 0])[0]])
    return g.add("Add", [out[0], b]) if b else out


def _reshape(g, node, ins, p):
    return g.add("Reshape", [ins[0], g.shape_value(node, p["shape"])])


def _broadcast_to(g, node, ins, p):
    return g.add("Expand", [ins[0], g.shape_value(node, p["shape"])])


def _narrow(g, node, ins, p):
    start, length = g.param_value(node, "start", p["start"]), g.param_value(node, "length", p["length"])
    end = g.add("Add", [start, length])[0]
    return g.add("Slice", [ins[0], start, end, g.const(np.asarray([p["axis"]], dtype=np.int64))])


def _getitem(g, node, ins, p):
    pool = g.max_pool_of(node, p)
    if pool is not None:
        return pool
    key = p["key"]
    key = key if isinstance(key, tuple) else (key,)
    arrays = [a for a, k in enumerate(key) if hasattr(k, "dtype") and getattr(k, "ndim", 0) > 0]
    if arrays:                  # one integer index array after full slices: Gather (embedding lookups)
        a = arrays[0]
        if len(arrays) > 1 or any(k != slice(None) for k in key[:a] + key[a + 1:]) or key[a].dtype.kind not in "iu":
            raise g.unsupported(node, f"getitem with key {_key_text(key)} (supported: ints and slices, or one "
                                      "integer index array after full slices)")
        idx = g.array_value(key[a])
        if g.np_dtype(idx) != np.int64:
            idx = g.add("Cast", [idx], to=7)[0]
        return g.add("Gather", [ins[0], idx], axis=a)
    nd = g.ndim(ins[0])
    starts, ends, axes, steps, squeeze = [], [], [], [], []
    if any(k is Ellipsis or k is None or not isinstance(k, (int, slice)) for k in key) or len(key) > nd:
        raise g.unsupported(node, f"getitem with key {_key_text(key)} (supported: ints and slices)")
    for a, k in enumerate(key):
        if isinstance(k, int):
            k = slice(k, k + 1 if k != -1 else None)
            squeeze.append(a)
        if k == slice(None):
            continue
        # open ends stay open (a dynamic dim's size is not the example's); negative ones count from the end
        step = 1 if k.step is None else int(k.step)
        start = (0 if step > 0 else -1) if k.start is None else int(k.start)
        stop = (_BIG if step > 0 else -_BIG) if k.stop is None else int(k.stop)
        starts.append(start), ends.append(stop), axes.append(a), steps.append(step)
    out = ins[0]
    if axes:
        i64 = lambda v: g.const(np.asarray(v, dtype=np.int64))
        out = g.add("Slice", [out, i64(starts), i64(ends), i64(axes), i64(steps)])[0]
    if squeeze:
        out = g.add("Squeeze", [out, g.const(np.asarray(squeeze, dtype=np.int64))])[0]
    return [out] if out != ins[0] else g.add("Identity", [out])


_BIG = 2 ** 62       # an open end of a Slice


def _key_text(key):
    return "(" + ", ".join(f"<{k.dtype} array {tuple(k.shape)}>" if hasattr(k, "shape") else repr(k)
                           for k in key) + ")"


def _pad_axis(g, node, ins, p):
    nd = g.ndim(ins[0])
    pads = [0] * (2 * nd)
    pads[p["axis"] % nd], pads[nd + p["axis"] % nd] = int(p["before"]), int(p["after"])
    return g.add("Pad", [ins[0], g.const(np.asarray(pads, dtype=np.int64))])


def _conv(g, node, ins, p):
    x, w, b = (list(ins) + [None, None])[:3]
    pad = list(p.get("padding", (0,)))
    if any(isinstance(v, str) for v in pad):
        raise g.unsupported(node, f"conv with padding={p['padding']!r}")
    return g.add("Conv", [x, w] + ([b] if b else []), strides=list(p.get("stride", (1,))), pads=pad + pad,
                 dilations=list(p.get("dilation", (1,))), group=int(p.get("groups", 1)))


def _batch_norm(g, node, ins, p):
    if not p.get("fixed") or p.get("stats") is None or tuple(p["axis"]) != (0,) + tuple(range(2, g.ndim(ins[0]))):
        raise g.unsupported(node, "batch_norm with batch statistics (training mode); export runs in eval mode, "
                                  "so this module keeps no running statistics (track_running_stats=False)")
    mean, var = (np.asarray(s).reshape(-1) for s in p["stats"])
    c = mean.shape[0]
    dt = g.np_dtype(ins[0])
    w = ins[1] or g.const(np.ones(c, dt))
    b = ins[2] if len(ins) > 2 and ins[2] else g.const(np.zeros(c, dt))
    return g.add("BatchNormalization", [ins[0], w, b, g.const(mean.astype(dt)), g.const(var.astype(dt))],
                 epsilon=float(p.get("eps", 1e-5)))


def _layer_norm(g, node, ins, p):
    nd = g.ndim(ins[0])
    axes = sorted(_axes(p.get("axis", (-1,)), nd))
    if axes != list(range(nd - len(axes), nd)):
        raise g.unsupported(node, f"layer_norm over dims {axes} (ONNX normalizes trailing dims only)")
    shape = g.shape(ins[0])[nd - len(axes):]
    dt = g.np_dtype(ins[0])
    w = ins[1] if len(ins) > 1 and ins[1] else g.const(np.ones(shape, dt))
    b = [ins[2]] if len(ins) > 2 and ins[2] else []
    return g.add("LayerNormalization", [ins[0], w] + b, axis=nd - len(axes), epsilon=float(p.get("eps", 1e-5)))


def _softmax(op_type):
    return lambda g, node, ins, p: g.add(op_type, ins[:1], axis=int(p["axis"]))


def _where(g, node, ins, p):
    cond = ins[0]
    if g.np_dtype(cond) != np.bool_:
        cond = g.add("Cast", [cond], to=9)[0]
    return g.add("Where", [cond, ins[1], ins[2]])


def _clip(g, node, ins, p):
    dt = g.np_dtype(ins[0])
    lo = g.const(np.asarray(p["a_min"], dt)) if p.get("a_min") is not None else ""
    hi = g.const(np.asarray(p["a_max"], dt)) if p.get("a_max") is not None else ""
    return g.add("Clip", [ins[0], lo, hi])


def _astype(g, node, ins, p):
    from onnx.helper import np_dtype_to_tensor_dtype
    return g.add("Cast", ins[:1], to=int(np_dtype_to_tensor_dtype(np.dtype(p["dtype"]))))


def _bitwise(op_type):
    def fn(g, node, ins, p):
        if any(g.np_dtype(i) != np.bool_ for i in ins[:2]):
            raise g.unsupported(node, f"{node.op.name} on integers (bool only)")
        return g.add(op_type, ins[:2])
    return fn


def _log1p(g, node, ins, p):
    return g.add("Log", g.add("Add", [ins[0], g.const(np.asarray(1, g.np_dtype(ins[0])))]))


def _expm1(g, node, ins, p):
    return g.add("Sub", [g.add("Exp", ins[:1])[0], g.const(np.asarray(1, g.np_dtype(ins[0])))])


def _cumsum(g, node, ins, p):
    return g.add("CumSum", [ins[0], g.const(np.asarray(int(p["axis"]), dtype=np.int64))])


def _flip(g, node, ins, p):
    axes = _axes(p["axis"], g.ndim(ins[0]))
    i64 = lambda v: g.const(np.asarray(v, dtype=np.int64))
    n = len(axes)
    return g.add("Slice", [ins[0], i64([-1] * n), i64([-_BIG] * n), i64(axes), i64([-1] * n)])


def _tile(g, node, ins, p):
    reps = tuple(int(r) for r in (p["reps"] if isinstance(p["reps"], (tuple, list)) else (p["reps"],)))
    x, nd = ins[0], g.ndim(ins[0])
    if len(reps) > nd:              # NumPy's tile prepends size-1 dims to x, or 1s to reps
        x = g.add("Reshape", [x, g.const(np.asarray((1,) * (len(reps) - nd) + g.shape(x), dtype=np.int64))])[0]
    reps = (1,) * (nd - len(reps)) + reps
    return g.add("Tile", [x, g.const(np.asarray(reps, dtype=np.int64))])


def _vector_norm(g, node, ins, p):
    ordv = p.get("ord", 2)
    ops = {1: "ReduceL1", 2: "ReduceL2"}
    if ordv == float("inf"):
        return _reduce("ReduceMax")(g, node, g.add("Abs", ins[:1]), p)
    if ordv not in ops:
        raise g.unsupported(node, f"vector_norm with ord={ordv!r} (supported: 1, 2, inf)")
    return _reduce(ops[ordv])(g, node, ins, p)


def _lstm_scan(g, node, ins, p):
    return g.lstm(node, ins)


TABLE = {
    "add": _binary("Add"), "subtract": _binary("Sub"), "multiply": _binary("Mul"), "divide": _binary("Div"),
    "power": _binary("Pow"), "maximum": _binary("Max"), "minimum": _binary("Min"),
    "neg": _unary("Neg"), "exp": _unary("Exp"), "log": _unary("Log"), "tanh": _unary("Tanh"),
    "sigmoid": _unary("Sigmoid"), "relu": _unary("Relu"), "erf": _unary("Erf"), "sqrt": _unary("Sqrt"),
    "abs": _unary("Abs"), "reciprocal": _unary("Reciprocal"), "sin": _unary("Sin"), "cos": _unary("Cos"),
    "copy": _unary("Identity"), "ascontiguousarray": _unary("Identity"),
    "square": lambda g, node, ins, p: g.add("Mul", [ins[0], ins[0]]),
    "rsqrt": lambda g, node, ins, p: g.add("Reciprocal", g.add("Sqrt", ins[:1])),
    "matmul": _binary("MatMul"), "linear": _linear,
    "softmax": _softmax("Softmax"), "log_softmax": _softmax("LogSoftmax"),
    "reshape": _reshape, "broadcast_to": _broadcast_to, "narrow": _narrow, "getitem": _getitem,
    "transpose": lambda g, node, ins, p: g.add("Transpose", ins[:1], perm=list(p["axes"])),
    "cat": lambda g, node, ins, p: g.add("Concat", list(ins), axis=int(p.get("axis", 0))),
    "sum": _reduce("ReduceSum"), "max": _reduce("ReduceMax"), "min": _reduce("ReduceMin"),
    "pad_axis": _pad_axis, "max_dim": _reduce("ReduceMax"), "min_dim": _reduce("ReduceMin"),
    "conv": _conv, "batch_norm": _batch_norm, "layer_norm": _layer_norm, "where": _where, "clip": _clip,
    "floor": _unary("Floor"), "ceil": _unary("Ceil"), "round": _unary("Round"), "sign": _unary("Sign"),
    "tan": _unary("Tan"), "asin": _unary("Asin"), "acos": _unary("Acos"), "atan": _unary("Atan"),
    "sinh": _unary("Sinh"), "cosh": _unary("Cosh"), "asinh": _unary("Asinh"), "acosh": _unary("Acosh"),
    "atanh": _unary("Atanh"), "std_sqrt": _unary("Sqrt"),
    "log1p": _log1p, "expm1": _expm1,
    "clamp_min_tensor": _binary("Max"), "clamp_max_tensor": _binary("Min"),
    "clamp_tensor": lambda g, node, ins, p: g.add("Min", [g.add("Max", ins[:2])[0], ins[2]]),
    "prod": _reduce("ReduceProd"), "logsumexp": _reduce("ReduceLogSumExp"), "vector_norm": _vector_norm,
    "cumsum": _cumsum, "flip": _flip, "tile": _tile,
    "LSTMScan": _lstm_scan,
    # never recorded, exported when they compute on graph values (Note [unrecorded ops] in _graph.py)
    "greater": _binary("Greater"), "less": _binary("Less"), "equal": _binary("Equal"),
    "greater_equal": _binary("GreaterOrEqual"), "less_equal": _binary("LessOrEqual"),
    "not_equal": lambda g, node, ins, p: g.add("Not", g.add("Equal", ins[:2])),
    "logical_not": _unary("Not"), "logical_and": _binary("And"), "logical_or": _binary("Or"),
    "logical_xor": _binary("Xor"), "astype": _astype,
    "bitwise_and": _bitwise("And"), "bitwise_or": _bitwise("Or"), "bitwise_xor": _bitwise("Xor"),
    "isnan": _unary("IsNaN"), "isinf": _unary("IsInf"),
    "isfinite": lambda g, node, ins, p: g.add("Not", g.add("Or", g.add("IsNaN", ins[:1]) + g.add("IsInf", ins[:1]))),
}
