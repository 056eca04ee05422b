"""Batched tensors and the dispatch hook that runs a vmapped function once on a whole batch.

See Note [vmap by batching rules] in _vmap.py for the design. Here: ``BatchedTensor``
(a Tensor that looks like one batch element), the hook ``apply`` calls (Note [vmap
dispatch]), the per-op loop for ops without a rule, and entering/leaving a level.

# Note [vmap dispatch]
While a vmap runs its function on batched tensors, ``ops.registry.BATCH_HOOK[0]``
is ``_dispatch``: ``apply`` hands it every op call first. A call with no batched
argument returns None and dispatches as usual. Otherwise the batched arguments
are replaced by their physical tensors (batch dims in front) and the op's rule
(``OpDef.batch``, Note [batching rules] in ops/batching_rules.py) computes the
physical result with ordinary recorded ops, or, for an op without a rule, the
per-op loop slices every batched argument, runs the op once per batch element
and stacks the results. The result is wrapped as a BatchedTensor again.
"""
import itertools

from .._tensor import Tensor
from ..backend import CPU_BACKEND as _CPU
from ..ops import registry as _reg
from ..ops import batching_rules as _rules

__all__ = ["BatchedTensor", "NeedsLoop", "active", "eligible", "enter", "leave", "run_level"]

_rules.install()
_DEPTH = [0]
_NEXT_LEVEL = [0]
_ACTIVE = []        # (level, batch size) of the batched runs in progress, outermost first
# How often each path ran (tests read these to tell the paths apart): whole calls run batched, whole calls
# rerun as the loop, and ops run by the per-op loop for want of a rule.
COUNTS = {"batched": 0, "loop": 0, "per_op": 0}


class NeedsLoop(BaseException):
    """Raised inside a batched run where only the loop is right (a value read on the host, an in-place
    write into a batched tensor, a gradient transform inside): vmap reruns the whole call as a loop.
    A BaseException so that no ``except Exception`` in the code between swallows it."""


def active():
    """Whether a vmap is running its function on batched tensors now."""
    return _DEPTH[0] > 0


def _loop(*_a, **_k):
    if _DEPTH[0] == 0:      # a BatchedTensor kept past its vmap (in a global or a closure) and used later
        raise RuntimeError("vmap: a tensor made inside a vmapped function was used after the vmap returned "
                           "(it was kept in a global, a closure or a container instead of being returned); "
                           "return it from the function to get the batched result")
    raise NeedsLoop()


class _Meta:
    """The ``_data`` of a BatchedTensor: the shape and dtype of one batch element, and no values.

    Code that reads a tensor's metadata works on it; anything that reads values through NumPy (ufuncs,
    array functions, ``np.asarray``, indexing, writing it into an array) raises NeedsLoop, so that the
    call reruns as the loop instead of computing with one element's worth of nothing."""
    __slots__ = ("shape", "dtype", "ndim", "size")

    def __init__(self, shape, dtype):
        self.shape = shape
        self.dtype = dtype
        self.ndim = len(shape)
        n = 1
        for d in shape:
            n *= d
        self.size = n

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    @property
    def strides(self):
        st, acc = [], self.dtype.itemsize
        for d in reversed(self.shape):
            st.append(acc)
            acc *= max(d, 1)
        return tuple(reversed(st))

    def __getattr__(self, name):
        _loop()

    __array_ufunc__ = __array_function__ = __array__ = __getitem__ = __setitem__ = __iter__ = __len__ = _loop
    __bool__ = __float__ = __int__ = __index__ = __buffer__ = _loop


_METAS = {}         # (shape, dtype) -> its _Meta, shared (they are immutable); emptied when it grows past 512


def _meta(shape, dtype):
    m = _METAS.get((shape, dtype))
    if m is None:
        if len(_METAS) >= 512:
            _METAS.clear()
        m = _METAS[(shape, dtype)] = _Meta(shape, dtype)
    return m


class BatchedTensor(Tensor):
    """A tensor inside a vmapped function: it behaves as one batch element (``shape`` is the element's)
    while its physical tensor ``_phys`` holds the whole batch, one leading dim per vmap level in
    ``_levels`` (outermost first).

    Example:
        >>> import tapegrad
        >>> from tapegrad.func import vmap
        >>> vmap(lambda x: tapegrad.tensor(list(x.shape)))(tapegrad.zeros(4, 2, 3)).shape
        tapegrad.Size([4, 2])
    """

    @property
    def _backend(self):
        return self._phys._backend

    @property
    def _data(self):
        if _DEPTH[0] == 0:
            _loop()             # kept past its vmap: raises, saying so
        return self._meta

    @_data.setter
    def _data(self, value):
        _loop()                 # rebinding the data (squeeze_, t_, .data = ...) in place: the loop does it

    def detach(self):
        return wrap(self._phys.detach(), self._levels)

    def backward(self, *args, **kwargs):
        _loop()

    def requires_grad_(self, requires_grad=True):
        _loop()

    def __deepcopy__(self, memo):
        raise NeedsLoop()

    numpy = item = tolist = __float__ = __int__ = __index__ = __bool__ = __format__ = __array__ = backward

    def __repr__(self):
        return f"BatchedTensor(levels={self._levels}, physical shape={tuple(self._phys.shape)})"


def wrap(phys, levels):
    """``phys`` as a BatchedTensor at ``levels`` (``phys`` itself when there are none)."""
    if not levels:
        return phys
    t = object.__new__(BatchedTensor)
    t._phys = phys
    t._levels = levels
    t._meta = _meta(phys._data.shape[len(levels):], phys._data.dtype)
    t._grad_fn = phys._grad_fn
    t._requires_grad = phys._requires_grad
    t._version = phys._version
    t._output_nr = phys._output_nr
    return t


def _unpack(a):
    if a.__class__ is BatchedTensor:
        return a._phys, a._levels
    if a.__class__ is _Meta:
        raise NeedsLoop()
    return a, None


def _check_params(params):
    for v in params.values():
        if v.__class__ is BatchedTensor or v.__class__ is _Meta:
            raise NeedsLoop()
        if isinstance(v, (tuple, list)):
            for w in v:
                if w.__class__ is BatchedTensor or w.__class__ is _Meta:
                    raise NeedsLoop()


def _dispatch(op, args, params):
    """``apply``'s hook while a batched run is on (Note [vmap dispatch])."""
    if params:
        _check_params(params)
    for a in args:
        if a.__class__ is BatchedTensor or a.__class__ is _Meta:
            break
    else:
        return None
    pairs = [_unpack(a) for a in args]
    levels, sizes = set(), {}
    for x, lv in pairs:
        if lv:
            levels.update(lv)
            for i, l in enumerate(lv):
                sizes[l] = x.shape[i]
    levels = tuple(sorted(levels))
    rule = op.batch
    out = NotImplemented if rule is None else rule(op, pairs, params, levels, sizes)
    if out is NotImplemented:
        out = _per_op(op, pairs, params, levels, sizes)
    return wrap(out, levels)


def _per_op(op, pairs, params, levels, sizes):
    """The op run once per batch element, the results stacked: the fallback for ops without a rule."""
    from ..ops.joining import stack
    COUNTS["per_op"] += 1
    xs = [(_rules.align(x, lv, levels, sizes, expand=True), lv) for x, lv in pairs]
    results = []
    for idx in itertools.product(*[range(sizes[l]) for l in levels]):
        one = [x[idx] if lv is not None else x for x, lv in xs]
        results.append(_reg.apply(op, *one, **params))
    out = stack(results, 0)
    return _reg.apply(_reg.REGISTRY["reshape"], out,
                      shape=tuple(sizes[l] for l in levels) + tuple(results[0].shape))


def _move(x, src, dst):
    if src == dst:
        return x
    perm = list(range(x.dim()))
    perm.insert(dst, perm.pop(src))
    return _reg.apply(_reg.REGISTRY["transpose"], x, axes=tuple(perm))


def enter(x, d, level):
    """``x`` batched at a new innermost ``level`` along its logical dim ``d``."""
    if x.__class__ is BatchedTensor:
        nb = len(x._levels)
        return wrap(_move(x._phys, nb + d, nb), x._levels + (level,))
    return wrap(_move(x, d, 0), (level,))


def leave(o, d, level, size):
    """The output ``o`` of a level's function, with the level's batch dim moved to logical dim ``d``."""
    if not isinstance(o, Tensor):
        raise NeedsLoop()       # the loop reports a non-Tensor output
    phys, lv = (o._phys, o._levels) if o.__class__ is BatchedTensor else (o, ())
    nb = len(lv)
    if level not in lv:
        if d is None:
            return o
        r = phys.dim() - nb + 1
        if not -r <= d < r:
            raise NeedsLoop()
        d %= r
        shape = tuple(phys.shape)
        ones = _reg.apply(_reg.REGISTRY["reshape"], phys, shape=shape[:nb + d] + (1,) + shape[nb + d:])
        full = _reg.apply(_reg.REGISTRY["broadcast_to"], ones, shape=shape[:nb + d] + (size,) + shape[nb + d:])
        return wrap(_reg.apply(_reg.REGISTRY["copy"], full), lv)
    if d is None or lv[-1] != level:
        raise NeedsLoop()       # out_dims=None on a batched output: the loop checks and reports
    r = phys.dim() - nb + 1
    if not -r <= d < r:
        raise NeedsLoop()
    return wrap(_move(phys, nb - 1, nb - 1 + d % r), lv[:-1])


class run_level:
    """Context of one batched run of batch size ``size``: installs the hook and yields the level's number."""

    def __init__(self, size):
        self.size = size

    def __enter__(self):
        if _DEPTH[0] == 0:
            _reg.BATCH_HOOK[0] = _dispatch
        _DEPTH[0] += 1
        _NEXT_LEVEL[0] += 1
        _ACTIVE.append((_NEXT_LEVEL[0], self.size))
        return _NEXT_LEVEL[0]

    def __exit__(self, *exc):
        _ACTIVE.pop()
        _DEPTH[0] -= 1
        if _DEPTH[0] == 0:
            _reg.BATCH_HOOK[0] = None
        return False


def eligible(leaves):
    """Whether a call on these inputs may take the batched path: every tensor input on the CPU."""
    return all(x._backend is _CPU for x in leaves if isinstance(x, Tensor))


# Note [gradients in a batched run]
# A gradient transform inside a batched run (``vmap(grad(f))``: per-sample gradients) differentiates the
# physical tensors. Each differentiated input's handle is batched at every active vmap level (an input
# missing some level is copied along it), so each batch element of the output depends only on the same
# element of the handles and one backward pass gives every element's gradient at once. Cotangents are
# expanded to their output's batch dims; a cotangent batched at a level its output lacks (``vmap(vjp_fn)``
# over basis vectors, for a ``vjp`` taken outside the vmap) needs the loop.
def fresh_handle(x, private, identity):
    """A differentiation level's handle on ``x`` inside a batched run (Note [gradients in a batched run])."""
    from ..tape.grad_mode import is_grad_enabled
    phys, lv = (x._phys, x._levels) if x.__class__ is BatchedTensor else (x, ())
    levels = tuple(l for l, _ in _ACTIVE)
    sizes = dict(_ACTIVE)
    if x._requires_grad and is_grad_enabled():      # stays connected to the outer graph (Note [transform levels])
        p = _rules.align(phys, lv or None, levels, sizes, expand=True)
        return wrap(identity.apply(p if lv == levels else _reg.apply(_reg.REGISTRY["copy"], p)), levels)
    p = _rules.align(phys.detach(), lv or None, levels, sizes, expand=True)
    leaf = (p if lv == levels else _reg.apply(_reg.REGISTRY["copy"], p)).detach().requires_grad_(True)
    private.add(id(leaf))
    return wrap(leaf, levels)


def unbatch_for_grads(outputs, inputs, cotangents):
    """The physical outputs, inputs and cotangents of a gradient inside a batched run, and the inputs'
    levels (Note [gradients in a batched run])."""
    outs, cots = [], []
    for o, c in zip(outputs, cotangents):
        po, lo = (o._phys, o._levels) if o.__class__ is BatchedTensor else (o, ())
        pc, lc = (c._phys, c._levels) if c.__class__ is BatchedTensor else (c, ())
        if not set(lc) <= set(lo):
            raise NeedsLoop()
        sizes = dict(zip(lo, po.shape))
        outs.append(po)
        cots.append(_rules.align(pc, lc or None, lo, sizes, rank=po.dim() - len(lo), expand=True))
    ins = [x._phys if x.__class__ is BatchedTensor else x for x in inputs]
    levels = [x._levels if x.__class__ is BatchedTensor else () for x in inputs]
    return outs, ins, cots, levels


def zeros_leaf(o, private):
    """A private zero leaf shaped like ``o`` (batched as ``o`` is): the ``u`` of the double-vjp trick."""
    from .. import _creation
    if o.__class__ is BatchedTensor:
        leaf = _creation.zeros_like(o._phys).requires_grad_(True)
        private.add(id(leaf))
        return wrap(leaf, o._levels)
    leaf = _creation.zeros_like(o).requires_grad_(True)
    private.add(id(leaf))
    return leaf


def autograd_grad(outputs, inputs, cotangents, **kwargs):
    """``autograd.grad`` that takes batched tensors inside a batched run (Note [gradients in a batched
    run]); None stays None."""
    from ..autograd import api
    if not active():
        return api.grad(outputs, inputs, cotangents, **kwargs)
    outs, ins, cots, levels = unbatch_for_grads(outputs, inputs, cotangents)
    res = api.grad(outs, ins, cots, **kwargs)
    return [None if r is None else wrap(r, lv) for r, lv in zip(res, levels)]
