"""Custom differentiable ops: ``tapegrad.autograd.Function``.

# Note [Function nodes]
A ``Function.apply`` records the same ``Node`` the built-in ops record, so
there is one engine path. Each call gets a small ``_FunctionOp`` (the node's
``op``) whose ``vjp_fn`` adapts the engine's calling convention to the user's
``backward(ctx, *grads)``: raw arrays become Tensors without history in the
fast mode, and under ``create_graph`` the engine already hands over Tensors,
so a backward written with tapegrad ops is recorded (double backward).
Saved inputs are kept as Tensors with their version (checked by the engine's
``_unpack``); saved outputs are kept as arrays (Note [saved values] in
ops/registry.py), so a node never holds its own output alive.
"""
from .. import backend as B
from .._tensor import Tensor
from ..tape import grad_mode as _gm
from ..tape import anomaly as _anomaly
from ..tape.node import Node
from ..ops.graph_math import TENSOR_MATH

__all__ = ["Function", "FunctionCtx"]


class FunctionCtx:
    """The ``ctx`` passed to ``forward`` and ``backward``; holds anything the user sets on it."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._to_save = None
        self._non_diff = ()
        self._saved = None

    def save_for_backward(self, *tensors):
        """Keep tensors (or None) for ``backward``; read them back with ``ctx.saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save Tensors or None, got {type(t).__name__} "
                                f"at position {i}; store other values as attributes of ctx")
        self._to_save = tensors

    def mark_non_differentiable(self, *outputs):
        """Declare outputs (returned by ``forward``) that carry no gradient, like an argmax index."""
        self._non_diff = self._non_diff + tuple(outputs)

    def mark_dirty(self, *tensors):
        raise NotImplementedError("Function: in-place forwards (mark_dirty) are not supported; return a new "
                                  "tensor from forward instead")

    def set_materialize_grads(self, value):
        """When True (the default), gradients of unused outputs reach ``backward`` as zeros, not None."""
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, version-checked; only valid inside ``backward``."""
        if self._saved is None:
            raise RuntimeError("ctx.saved_tensors can only be read inside backward")
        return self._saved


class _FunctionOp:
    """The per-call ``op`` of a Function's Node (Note [Function nodes])."""
    __slots__ = ("name", "node_name", "cls", "ctx", "save", "layout", "out_meta", "in_meta", "vjp_fn",
                 "view", "promote", "promote_args", "nin", "forward", "__weakref__")

    def __init__(self, cls, ctx, save, layout, out_meta, in_meta):
        self.name = cls.__name__
        self.node_name = cls.__name__ + "Backward"
        self.cls = cls
        self.ctx = ctx
        self.save = save              # per saved entry: -1 - k for output k, else its position
        self.layout = layout          # ctx.save_for_backward's arguments: ("none",) / ("entry", j)
        self.out_meta = out_meta      # per output: (shape, numpy dtype, backend) or None
        self.in_meta = in_meta        # per input: shape or None (non-Tensor argument)
        self.vjp_fn = _function_vjp
        self.view = False
        self.promote = None
        self.promote_args = None
        self.nin = len(in_meta)
        self.forward = None


def _function_vjp(F, node, g, *saved):
    op = node.op
    ctx = op.ctx
    # The one mode check outside graph_math: a Function's backward speaks Tensors in
    # both modes, so its results are handed to the engine as arrays in an ordinary
    # backward and as the recorded Tensors under create_graph (Note [Function nodes]).
    graph = F is TENSOR_MATH
    grads = g if isinstance(g, list) else [g]
    targs = []
    for k, (gi, meta) in enumerate(zip(grads, op.out_meta)):
        if gi is None and meta is not None and ctx.materialize_grads:
            shape, dtype, be = meta
            gi = be.full(shape, 0, dtype)
        if gi is not None and not isinstance(gi, Tensor):
            if gi.__class__ not in B.BY_TYPE:       # a NumPy scalar from a 0-d VJP
                gi = B.CPU_BACKEND.asarray(gi)
            gi = Tensor._make(gi, None)
        targs.append(gi)
    entries = []
    for i, s in zip(op.save, saved):
        if not isinstance(s, Tensor):
            s = Tensor._make(s, None)
        elif i < 0:
            s._output_nr = -1 - i     # the engine re-attached a saved output; point it at the right slot
        entries.append(s)
    ctx._saved = tuple(None if kind == "none" else entries[j] for kind, j in op.layout)
    try:
        res = op.cls.backward(ctx, *targs)
    finally:
        ctx._saved = None
    if not isinstance(res, tuple):
        res = (res,)
    n = len(op.in_meta)
    if len(res) < n or any(r is not None for r in res[n:]):
        raise RuntimeError(f"function {op.node_name} returned an incorrect number of gradients "
                           f"(expected {n}, got {len(res)})")
    out = []
    for i, (r, shape, e) in enumerate(zip(res, op.in_meta, node.next)):
        if r is None or e is None:
            out.append(None)
            continue
        if not isinstance(r, Tensor):
            raise RuntimeError(f"function {op.node_name} returned a {type(r).__name__} as gradient {i}: "
                               "expected Tensor or None")
        rs = tuple(r.shape)
        if rs != shape and not _reducible(rs, shape):
            raise RuntimeError(f"function {op.node_name} returned an invalid gradient at index {i} - got "
                               f"{list(rs)} but expected shape compatible with {list(shape)}")
        out.append(r if graph else r._data)
    return tuple(out)


def _reducible(gshape, shape):
    """True when ``shape`` broadcasts to ``gshape`` (the engine then sums back, Note [sum_to])."""
    if len(shape) > len(gshape):
        return False
    for a, b in zip(reversed(gshape), reversed(shape)):
        if b != a and b != 1:
            return False
    return True


class _FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        if "forward" in ns and not isinstance(ns["forward"], staticmethod):
            raise TypeError(f"{name}.forward must be a @staticmethod taking (ctx, *args)")
        if "backward" in ns and not isinstance(ns["backward"], staticmethod):
            raise TypeError(f"{name}.backward must be a @staticmethod taking (ctx, *grad_outputs)")


class Function(metaclass=_FunctionMeta):
    """Base class of custom differentiable ops with hand-written ``forward`` and ``backward``.

    Subclass it with two static methods and call ``MyFn.apply(*args)``.
    ``forward`` runs without recording; ``backward`` returns one gradient (or
    None) per ``forward`` argument. Written with tapegrad ops, ``backward``
    is itself differentiable, so grad-of-grad works through ``create_graph``.

    Example:
        >>> import tapegrad
        >>> class Cube(tapegrad.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x ** 3
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         (x,) = ctx.saved_tensors
        ...         return g * 3 * x ** 2
        >>> x = tapegrad.tensor(2.0, requires_grad=True)
        >>> y = Cube.apply(x)
        >>> y
        tensor(8., grad_fn=<CubeBackward>)
        >>> (g,) = tapegrad.autograd.grad(y, x, create_graph=True)
        >>> g, tapegrad.autograd.grad(g, x)[0]
        (tensor(12., grad_fn=<MultiplyBackward0>), tensor(12.))
    """

    def __init__(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__}: call {type(self).__name__}.apply(...) instead of "
                           "instantiating a Function")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define a static forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define a static backward(ctx, *grad_outputs)")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and, when a gradient is needed, record a node whose VJP is ``backward``."""
        recording = _gm.STATE.enabled
        needs = tuple(bool(recording and isinstance(a, Tensor) and a._requires_grad) for a in args)
        ctx = FunctionCtx(needs)
        with _gm.no_grad():
            result = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(result, tuple)
        outs = (result,) if single else result
        if _anomaly.ENABLED[0]:
            for o in outs:
                if isinstance(o, Tensor):
                    _anomaly.check_forward(_FunctionOp(cls, ctx, (), (), (), ()), o._data, args)
        if not any(needs):
            return result
        non_diff = {id(t) for t in ctx._non_diff}
        out_meta = []
        for o in outs:
            diff = isinstance(o, Tensor) and o._data.dtype.kind in "fV" and id(o) not in non_diff
            out_meta.append((o._data.shape, o._data.dtype, o._backend) if diff else None)
        if all(m is None for m in out_meta):
            return result
        out_pos = {id(o): k for k, o in enumerate(outs) if isinstance(o, Tensor)}
        save, layout, saved, versions = [], [], [], []
        for t in ctx._to_save or ():
            if t is None:
                layout.append(("none", 0))
                continue
            layout.append(("entry", len(saved)))
            k = out_pos.get(id(t))
            if k is not None:
                save.append(-1 - k)
                saved.append(t._data)        # Note [saved values]: the array, never the Tensor
            else:
                save.append(len(saved))
                saved.append(t)
            versions += (t._version, t._version[0])   # flat pairs (Note [saved values])
        ctx._to_save = None
        next_ = tuple((a._grad_fn if a._grad_fn is not None else a, a._output_nr, a._data.shape, a._data.dtype)
                      if need else None for a, need in zip(args, needs))
        in_meta = tuple(a._data.shape if isinstance(a, Tensor) else None for a in args)
        fop = _FunctionOp(cls, ctx, tuple(save), tuple(layout), tuple(out_meta), in_meta)
        node = Node(fop, next_, tuple(saved), tuple(versions), {})
        node.n_out = len(outs)
        if _anomaly.ENABLED[0]:
            import traceback
            node.anomaly = traceback.extract_stack()[:-1]
        wrapped = []
        for k, (o, meta) in enumerate(zip(outs, out_meta)):
            if meta is None:
                wrapped.append(o)
                continue
            t = Tensor._make(o._data, node, None, o._version)
            t._output_nr = k
            wrapped.append(t)
        from ..ops.registry import FWD_HOOK
        if FWD_HOOK[0] is not None:         # Note [forward mode] (forward_ad.py): the outputs keep their tangents
            FWD_HOOK[0].function(outs, wrapped)
        return wrapped[0] if single else tuple(wrapped)
