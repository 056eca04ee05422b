"""The op registry and the single dispatch point ``apply``.

Each op is declared once, with its forward and its VJP side by side::

    @op("tanh", save="out", tensors=1)
    def tanh(be, x):
        return be.tanh(x)

    @tanh.vjp
    def _(F, ctx, g, out):
        return g * (1 - out * out)

``forward(be, *arrays, **params)`` receives backend arrays. A VJP receives
``F`` (the math namespace), ``ctx`` (the node: ``ctx.needs[i]``,
``ctx.shapes[i]``), the incoming gradient ``g``, the saved values in the
order of ``save``, and the forward's keyword params.

# Note [tensor inputs]
Each op declares its tensor inputs (``tensors=``): the first ``tensors``
parameters of the forward are tensors, passed to ``apply`` positionally (a
trailing one may be omitted or None: linear's bias); the rest are params,
passed by keyword and recorded in the node. ``tensors="*"`` takes any number
(``cat``). The graph-mode namespace is generated from these declarations
(ops/graph_math.py), never guessed from the values: ``F.narrow(g, 1, 0, 2)``
binds like the backend's ``narrow(x, axis, start, length)`` in both modes.
An op whose name is a backend method takes that method's arguments in the
same order; where the orders differ the declaration says how to map them
(``bind=``, einsum), and ``math=`` names the backend method an op stands for
under another name (``scatter_add``) or keeps the op out of the namespace.

# Note [two-mode VJPs]
A VJP is written once and runs in one of two modes. Normally ``F`` is the
backend and ``g`` and the saved values are raw arrays: backward costs what
hand-written NumPy backprop costs. Under ``create_graph=True``, ``F`` is
``TENSOR_MATH`` (ops/graph_math.py: the same names, implemented by recorded
ops) and ``g`` and
the saved values are Tensors, so the VJP itself lands on the tape and
grad-of-grad works for every op. Hence VJPs use only operators and ``F.*``;
a constant computed on raw arrays (a mask, a one-hot target) is made with
``graph_math.backend_array`` and brought into ``F``'s mode with ``lift``
(Note [constants in VJPs]). No op file asks which mode it is in.

# Note [sum_to]
A VJP may return a gradient in the broadcast shape; the engine reduces it to
the input's shape with ``sum_to`` (autograd/engine.py), once per edge. No VJP
unbroadcasts by hand.

# Note [the primitives]
Every registered op, by family, and why it is a primitive rather than composed
(tests/ops/test_graph_math.py checks this list against the registry). An op is
a primitive when its backend kernel is one call (a ufunc, a reduction, a
movement), when composing it would be unstable or record many nodes on a hot
path, or when it is never recorded (bool results).
- arithmetic: add, subtract, multiply, divide, neg, power, floor_divide,
  remainder: Python's operators, one ufunc each.
- binary math: maximum, minimum (ties split the gradient); where (the select
  every masked gradient uses); clip (scalar bounds, one pass);
  clamp_min_tensor, clamp_max_tensor, clamp_tensor (PyTorch's tie rules at
  tensor bounds, Note [clamp at its bounds]); astype (dtype casts).
- unary: exp, log, log1p, expm1, sqrt, abs, sign, sin, cos, tan, tanh,
  sigmoid, reciprocal, square, erf, rsqrt, relu, floor, ceil, round: one
  ufunc each, with a one-line VJP.
- never recorded: equal, not_equal, less, less_equal, greater, greater_equal,
  logical_and, logical_or, logical_xor, logical_not, isnan, isinf, isfinite
  (bool results); argmax, argmin, any, all (integer/bool results);
  one_hot_along (the tie mask of max/min along a dim).
- reductions: sum, prod, max, min (the whole-tensor or per-axis kernel);
  max_dim, min_dim (values along a dim with PyTorch's first-index mask).
- statistics: std_sqrt (sqrt whose VJP is 0, not inf, at zero variance);
  logsumexp, vector_norm (stable or kinked formulas with hand-written VJPs).
- shape: reshape, broadcast_to, transpose, narrow (views); pad_axis (narrow's
  VJP); cat (one copy for n inputs); tile, flip, copy, ascontiguousarray.
- indexing: getitem (basic and advanced keys: one op, so ``F.getitem`` means
  the same in both modes) and index_put_add (``F.scatter_add``; each is the
  other's VJP); setitem (``t[key] = v`` recorded as one out-of-place op).
- linalg: matmul; einsum (one or two operands, a chain for more); linear
  (one node per layer with or without a bias, Note [linear primitive]).
- nn: softmax, log_softmax (stable, with short VJPs); binary_cross_entropy,
  cross_entropy (PyTorch's clamps and a fused row kernel).
- device: to_device (its VJP moves the gradient back).
- normalization: layer_norm (one node per call instead of about nine on
  every transformer block's hot path, Note [layer_norm primitive]);
  batch_norm (batch and instance norm, train and eval, one node each,
  Note [batch_norm primitive]).
- conv: conv, conv_transpose, conv_weight (one im2col matmul each; their
  VJPs are the other two, so every order works); unfold (the window view as
  columns, Note [unfold through the window view]).
- special: sinh, cosh, asin, acos, atan, asinh, acosh, atanh, log2, log10,
  exp2, erfc, erfinv, lgamma, digamma, trigamma (digamma's VJP), trunc: one
  ufunc each (the special functions NumPy lacks are compiled from one scalar
  source per function, backend/_special.py, for both devices).
- pointwise: arctan2, hypot, copysign, fmod: one ufunc each; xlogy (PyTorch's
  gradients at x == 0). The rest of ops/pointwise.py is composed.
- never recorded: bitwise_and, bitwise_or, bitwise_xor, left_shift,
  right_shift, invert (integer results).
- ctc: ctc_loss (the alpha recursion over a batch in one update per step, and
  PyTorch's hand-written gradient through the beta recursion, Note [ctc gradient]).
- scans: cumsum, cumprod, logcumsumexp (one backend scan each; cumprod's VJP
  is exact at zeros, Note [cumprod with zeros]; logcumsumexp's stays in log
  space); cum_extreme_index (never recorded: where cummax/cummin's running
  extreme was attained, gathered for the values).
- sorting: argsort (never recorded: the stable order; sort, topk, kthvalue,
  median, mode and quantile gather their values at it, Note [order statistics
  by gather] in ops/sorting.py).
- counting (never recorded): searchsorted (the backend's binary search);
  bincount (one scatter_add into the bins).
- pooling: max_pool_indices, adaptive_max_pool_indices (never recorded: the
  window argmax as flat indices; the values are a getitem of them, Note [max
  pooling as a gather]).
- linalg_decomp: linalg_inv, linalg_solve, linalg_det, linalg_slogdet,
  linalg_cholesky, linalg_qr, linalg_svd, linalg_eigh, matrix_exp: one
  LAPACK-style backend call each, with the standard matrix VJPs (Note
  [linalg VJPs]); decompositions return their factors packed in one array
  (Note [packed outputs] in ops/linalg_decomp.py).
- structure2: strided_view (diagonal, Tensor.unfold and as_strided as one
  view over new strides; its VJP scatters back by flat position, Note
  [strided views] in ops/structure2.py).
- special_fns: xlog1py (xlogy's twin with log1p, PyTorch's gradients at
  x == 0); the rest of ops/special_fns.py is composed (Note [special
  functions composed]).
- sparse_coo: sparse_coo, sparse_values, sparse_to_dense (between the
  layouts: a sparse tensor's storage is a CooArray, Note [sparse COO
  storage] in ops/_sparse_array.py); sparse_mm (one gather/scatter-add, its
  sparse operand's gradient sparse); embedding_sparse (the lookup whose
  weight gradient is sparse). Note [sparse primitives] in ops/sparse_coo.py.

The tape record ``Node`` and the flags ``apply`` reads live one floor down,
in ``tapegrad/tape/`` (Note [the tape floor] there).
"""
import traceback
from weakref import ref as _weakref

from .. import backend as B
from .._tensor import Tensor
from ..tape import grad_mode as _gm
from ..tape import anomaly as _anomaly
from ..tape.node import Node, next_seq as _next_seq
from ..tape.capture import ACTIVE as _CAPTURE
from .promotion import _error, _to_tensor_args, _all_tensors

__all__ = ["OpDef", "op", "apply", "REGISTRY"]

REGISTRY = {}
_SAVE_OUT = (-1,)        # the most common save spec, compared by identity in apply
_GM = _gm.STATE
# Note [quiet NumPy] (backend/numpy_backend.py): no NumPy RuntimeWarning escapes a forward.
_QUIET_SET = B.numpy_backend.QUIET_SET
_QUIET_RESET = B.numpy_backend.QUIET_RESET
_QUIET = B.numpy_backend.QUIET


class OpDef:
    """One op: its name, forward, VJP, what it saves and how inputs are promoted."""
    __slots__ = ("name", "forward", "vjp_fn", "save", "promote", "promote_args",
                 "view", "nin", "doc", "fast", "scalars", "tensors", "params", "bind", "math",
                 "jvp_fn",
                 "batch", "__weakref__")

    def __init__(self, name, forward, save, promote, view):
        self.name = name
        self.forward = forward
        self.vjp_fn = None
        self.save = save
        self.promote = promote
        self.view = view
        self.doc = forward.__doc__
        self.batch = None               # Note [vmap dispatch] (func/_batching.py): the op's batching rule
        self.jvp_fn = None              # Note [forward mode] (autograd/forward_ad.py): the op's JVP rule

    def vjp(self, fn):
        """Decorator: attach the VJP ``fn(F, ctx, g, *saved, **params)``."""
        self.vjp_fn = fn
        return fn

    def jvp(self, fn):
        """Decorator: attach the JVP rule ``fn(F, primals, tangents, out, **params)`` (Note [forward mode])."""
        self.jvp_fn = fn
        return fn

    def __call__(self, *args, **params):
        return apply(self, *args, **params)

    def __repr__(self):
        return f"<op {self.name}>"


def op(name, save=(), promote="all", promote_args=None, view=False, *, tensors=1, bind=None, math=True, batch=None):
    """Register an op. ``save`` names forward arguments (or ``"out"``) the VJP needs.

    ``tensors``: how many leading forward parameters are tensor inputs (default 1; an
    int, or ``"*"`` for a variadic forward); the others are keyword params
    (Note [tensor inputs]). ``bind``: for an op whose backend twin orders its
    arguments differently, a function from that call's arguments to
    ``(tensors, params)``. ``math``: the name of the op in the graph-mode
    namespace (the op's own name when True; None keeps it out, for an op whose
    namesake backend method means something else).
    ``promote``: ``"all"`` promotes every tensor argument to one dtype by
    PyTorch's rules, ``"float"`` does that and then turns integer/bool results
    into the default float dtype (exp of an int tensor is float32), ``None``
    leaves dtypes as they are; ``promote_args`` limits promotion to some
    positions (``where``'s condition stays bool). ``view=True`` marks ops whose result shares
    memory (and so the version counter) with their first input. ``batch``: the op's
    batching rule for ``vmap`` (Note [vmap dispatch] in func/_batching.py; the rules of
    most ops are set from the table in ops/batching_rules.py).
    """
    if isinstance(save, str):
        save = (save,)

    def deco(fwd):
        import inspect
        plist = list(inspect.signature(fwd).parameters.values())[1:]
        names = [p.name for p in plist if p.kind == p.POSITIONAL_OR_KEYWORD]
        if tensors == "*":
            if not plist or plist[0].kind != plist[0].VAR_POSITIONAL:
                raise ValueError(f"op {name}: tensors='*' needs a forward taking *tensors")
        elif not isinstance(tensors, int) or not 1 <= tensors <= len(names):
            raise ValueError(f"op {name}: tensors={tensors!r} must count leading forward parameters "
                             f"(1 to {len(names)}) or be '*'")
        idx = []
        for s in save:
            if s == "out":
                idx.append(-1)
            elif s in names:
                idx.append(names.index(s))
            else:
                raise ValueError(f"op {name}: save={s!r} is not an argument of the forward")
        d = OpDef(name, fwd, _SAVE_OUT if tuple(idx) == _SAVE_OUT else tuple(idx), promote, view)
        d.promote_args = promote_args
        # apply's fast paths: tensors of one dtype need no promotion; a Python
        # number next to a float tensor takes the tensor's dtype.
        d.fast = promote_args is None
        d.scalars = bool(promote) and promote_args is None
        d.nin = len(names)
        d.tensors = tensors
        # The params, in forward order: the graph-mode call fills them positionally
        # after the tensors, as the backend method takes them.
        d.params = tuple(p.name for p in plist if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                         )[0 if tensors == "*" else tensors:]
        d.bind = bind
        d.math = name if math is True else math
        d.batch = batch
        if name in REGISTRY:
            raise ValueError(f"op {name!r} registered twice")
        REGISTRY[name] = d
        return d
    return deco


_new = object.__new__
_BY_TYPE = B.BY_TYPE
_ANOMALY = _anomaly.ENABLED
# Note [dispatch hook]: while autocast is on (tapegrad/amp), ``ARGS_HOOK[0]`` is ``f(op, args) -> args``, run
# before dispatch to cast the op's inputs; None otherwise (one list read per call).
ARGS_HOOK = [None]
# Note [vmap dispatch] (func/_batching.py): while a vmap runs its function once on batched tensors,
# ``BATCH_HOOK[0]`` is ``f(op, args, params) -> Tensor or None`` (None: no batched input, dispatch as usual).
BATCH_HOOK = [None]
# Note [forward mode] (autograd/forward_ad.py): while a dual level is active, ``FWD_HOOK[0]`` is the level; its
# ``propagate(op, args, params, out)`` gives ``out`` its tangent. None otherwise (one list read per call).
FWD_HOOK = [None]
_FWD = FWD_HOOK


def apply(op, *args, **params):
    """Run ``op`` on tensors (or numbers/arrays), recording a Node when a gradient is needed.

    This is the single dispatch point: promotion, device checks, error naming,
    anomaly checks and recording all happen here and nowhere else.
    """
    # Fast paths (no promotion needed): one tensor; two tensors of one dtype on
    # one backend; a float tensor with a Python number. Everything else goes
    # through _all_tensors, then _to_tensor_args. ``op.fast``/``op.scalars``
    # are precomputed from the op's promotion rules (OpDef.__init__).
    if ARGS_HOOK[0] is not None:
        args = ARGS_HOOK[0](op, args)
    if BATCH_HOOK[0] is not None:
        batched = BATCH_HOOK[0](op, args, params)
        if batched is not None:
            return batched
    n = len(args)
    arrays = None
    if n == 2:
        a, b = args
        if isinstance(a, Tensor):
            x = a._data
            if isinstance(b, Tensor):
                y = b._data
                if op.fast and (x.dtype is y.dtype or x.dtype == y.dtype) and x.__class__ is y.__class__ \
                        and (x.dtype.kind == "f" or op.promote != "float"):
                    arrays = (x, y)
                    be = _BY_TYPE[x.__class__]
            elif (b.__class__ is float or b.__class__ is int) and op.scalars and x.dtype.kind == "f":
                arrays = (x, x.dtype.type(b))
                be = _BY_TYPE[x.__class__]
        elif (a.__class__ is float or a.__class__ is int) and op.scalars and isinstance(b, Tensor):
            y = b._data
            if y.dtype.kind == "f":
                arrays = (y.dtype.type(a), y)
                be = _BY_TYPE[y.__class__]
    elif n == 1:
        a = args[0]
        if isinstance(a, Tensor):
            x = a._data
            if op.promote != "float" or x.dtype.kind == "f":
                arrays = (x,)
                be = _BY_TYPE[x.__class__]
    if arrays is None:
        arrays, be = _all_tensors(op, args)
        if arrays is None:
            arrays, be, _ = _to_tensor_args(op, args)
    quiet = _QUIET_SET(_QUIET)
    try:
        out = op.forward(be, *arrays, **params) if params else op.forward(be, *arrays)
    except Exception as e:  # name the op and its inputs in every forward error
        if getattr(e, "_tapegrad_named", False):
            raise
        cls, msg = _error(op, e, args)
        err = cls(msg)
        err._tapegrad_named = True
        raise err from e
    finally:
        _QUIET_RESET(quiet)
    if out.__class__ is not be.array_type and out.__class__ not in B.BY_TYPE:   # to_device returns the other device's array
        out = be.asarray(out)
    if _CAPTURE[0] is not None:         # Note [capture hook] (tape/capture.py): tapegrad.compile is tracing
        _CAPTURE[0].forward(op, args, arrays, params, out, be)
    if _ANOMALY[0]:
        _anomaly.check_forward(op, out, args)

    # Record only when grad mode is on, the op is differentiable, some input
    # requires grad, and the result is floating point. One and two inputs are
    # unrolled: they are nearly every call.
    t = _new(Tensor)
    t._data = out
    next_ = None
    if op.vjp_fn is not None and _GM.enabled:
        if n == 2:
            a, b = args
            ea = eb = None
            if (a.__class__ is Tensor or isinstance(a, Tensor)) and a._requires_grad:
                fn = a._grad_fn
                x = a._data
                ea = (a if fn is None else fn, a._output_nr, x.shape, x.dtype)
            if (b.__class__ is Tensor or isinstance(b, Tensor)) and b._requires_grad:
                fn = b._grad_fn
                x = b._data
                eb = (b if fn is None else fn, b._output_nr, x.shape, x.dtype)
            if ea is not None or eb is not None:
                next_ = (ea, eb)
        elif n == 1:
            a = args[0]
            if (a.__class__ is Tensor or isinstance(a, Tensor)) and a._requires_grad:
                fn = a._grad_fn
                next_ = ((a if fn is None else fn, a._output_nr, arrays[0].shape, arrays[0].dtype),)
        else:
            for i, a in enumerate(args):
                if (a.__class__ is Tensor or isinstance(a, Tensor)) and a._requires_grad:
                    if next_ is None:
                        next_ = [None] * n
                    fn = a._grad_fn
                    x = a._data
                    next_[i] = (a if fn is None else fn, a._output_nr, x.shape, x.dtype)
            if next_ is not None:
                next_ = tuple(next_)
        if next_ is not None and out.dtype.kind not in "fV":     # Note [bfloat16 kind] in _dtype.py
            next_ = None                    # integer/bool results carry no gradient
    if next_ is None:
        t._grad_fn = None
        t._requires_grad = False
        t._version = args[0]._version if op.view and isinstance(args[0], Tensor) else [0, None]
        if op.view:
            set_base(t, args[0])
        if _FWD[0] is not None:
            _FWD[0].propagate(op, args, params, t)
        return t
    version = args[0]._version if op.view else [0, None]
    # Note [saved values]: a node saves arrays, never Tensors, plus a flat
    # (version_counter, version, ...) tuple to catch in-place changes. Under
    # create_graph the engine rebuilds each saved input's Tensor from the node's
    # edges (as PyTorch's SavedVariable does), so the tape keeps no Tensor alive
    # and CPython's cyclic GC has few objects to scan per op.
    save = op.save
    if not save:
        saved = versions = ()
    elif save is _SAVE_OUT:
        saved = (out,)
        versions = (version, version[0])
    else:
        sv = []
        vv = []
        for i in save:
            if i < 0:
                sv.append(out)
                vv.append(version)
                vv.append(version[0])
            elif i >= n:
                sv.append(None)           # an optional input that was not given
            else:
                sv.append(arrays[i])
                a = args[i]
                if a.__class__ is Tensor or isinstance(a, Tensor):
                    v = a._version
                    vv.append(v)
                    vv.append(v[0])
        saved = tuple(sv)
        versions = tuple(vv)
    # Inlined Node(...): this is the hottest allocation in the library.
    node = _new(Node)
    node.op = op
    node.seq = _next_seq()
    node.next = next_
    node.saved = saved
    node.versions = versions
    node.params = params
    if _ANOMALY[0]:
        node.anomaly = traceback.extract_stack()[:-1]
    t._grad_fn = node
    t._requires_grad = True
    t._version = version
    if op.view:
        set_base(t, args[0])
    if _FWD[0] is not None:
        _FWD[0].propagate(op, args, params, t)
    return t


def set_base(t, a):
    """Record that ``t`` is a view of ``a``'s base (Note [copy slices] in ops/_copy_slices.py)."""
    if isinstance(a, Tensor):
        b = a._base
        if b is None:
            b = a
        t._base = b
        if a._multi_view is not None:
            t._multi_view = a._multi_view
        if _GM.enabled and (b._grad_fn is not None or not b._requires_grad):
            views = b._views
            if views is None:
                b._views = views = []
            elif len(views) >= 16 and not len(views) & (len(views) - 1):     # at powers of two: drop the dead
                views[:] = [r for r in views if r() is not None]
            views.append(_weakref(t))
