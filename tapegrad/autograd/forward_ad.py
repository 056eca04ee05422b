"""Forward-mode AD with PyTorch's API: ``dual_level``, ``make_dual``, ``unpack_dual``.

# Note [forward mode]
Forward mode has two paths. An op declares a JVP rule beside its VJP
(``@op.jvp`` or ``op.jvp(rule)`` in ops/*.py; the shared kinds, elementwise,
linear and multilinear, are in ops/_jvp.py): ``rule(F, primals, tangents, out,
**params)`` returns the output's tangent, computed with the graph-mode
namespace ``F`` from the primal inputs, their tangents (None for an input
without one) and the output. While a level is active, ``apply``
(ops/registry.py) hands every result to ``_Level.propagate`` through one list
read (``FWD_HOOK``; when no level is active that read is all forward mode
costs). When an input carries a tangent the rule runs at once, so a result has
its tangent as soon as it exists: ``unpack_dual`` is a lookup and runs no
backward pass, and tangents flow under ``no_grad`` as in PyTorch (the rule's
ops are recorded when grad mode is on and their inputs require grad, so a
tangent is itself differentiable in reverse mode: ``jacfwd(jacrev(f))``).

An op without a rule gets its tangent by the double-vjp trick on that one
node (``_Level._local``): the JVP of ``f`` along ``v`` is the VJP of ``u ->
J^T u`` along ``v`` (``J^T u`` is linear in ``u``). That reruns the op on fresh
handles and costs two small reverse passes; ``ops_without_rules()`` lists the
ops that take it and each level counts its uses in ``fallbacks``.

Tangents are kept per level, keyed by the result's node and output number
(or by the tensor itself when it has no node), so a saved value the engine
rebuilds on its node under ``create_graph`` finds its tangent; entries die
with their keys. An in-place op moves the tangent of the out-of-place result
it wrote to the written tensor (ops/inplace.py), and an ``autograd.Function``
passes the tangents its forward's ops computed on to its outputs
(autograd/function.py). Differences from PyTorch: a Function whose forward
leaves tapegrad (raw NumPy) loses tangents instead of asking for a ``jvp``
staticmethod; the tangent of a view is not a view of the tangent, but acts as
one (Note [forward views] in autograd/_forward_views.py); and, as in PyTorch,
levels do not nest.
"""
import collections
import contextlib
import weakref

from . import api as _api
from ._forward_views import ViewTangents, weak_put
from .functional import _Fresh

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor", "ops_without_rules"]


class UnpackedDualTensor(collections.namedtuple("UnpackedDualTensor", ["primal", "tangent"])):
    """What ``unpack_dual`` returns: ``(primal, tangent)``, the tangent None for a non-dual tensor."""


def _hook():
    from ..ops import registry
    return registry.FWD_HOOK


class _Level(ViewTangents):
    """One dual level: the tangents of its tensors and the propagation ``apply`` calls (Note [forward mode])."""

    def __init__(self, idx):
        self.idx = idx
        self.tans = {}                          # id(key) -> (weakref to key, {output_nr: tangent})
        self.fallbacks = collections.Counter()  # op name -> how many tangents came from _local
        self.written = {}   # id(base) -> (weakref, n): bases written in place n times (Note [forward views])
        self.stamps = {}    # id(view) -> (weakref, n): the base's n when the view's tangent was read from it
        self.aliases = {}   # id(primal) -> (weakref, [weakrefs to make_dual's views of it])

    def get(self, t):
        """``t``'s tangent at this level, or None."""
        if self.written and t._base is not None:
            self._fresh(t)
        return self._raw(t)

    def _raw(self, t):
        fn = t._grad_fn
        e = self.tans.get(id(t if fn is None else fn))
        if e is None:
            return None
        return e[1].get(0 if fn is None else t._output_nr)

    def set(self, t, tangent):
        fn = t._grad_fn
        key = t if fn is None else fn
        k = id(key)
        e = self.tans.get(k)
        if e is None or e[0]() is not key:
            tans = self.tans

            def drop(r, k=k):
                cur = tans.get(k)
                if cur is not None and cur[0] is r:
                    del tans[k]
            e = self.tans[k] = (weakref.ref(key, drop), {})
        e[1][0 if fn is None else t._output_nr] = tangent

    def propagate(self, op, args, params, out):
        """Give ``out`` (``op``'s result on ``args``) its tangent when an input has one."""
        from .._tensor import Tensor
        tans = None
        for i, a in enumerate(args):
            if isinstance(a, Tensor) and self.tans:
                t = self.get(a)
                if t is not None:
                    if tans is None:
                        tans = [None] * len(args)
                    tans[i] = t
        if tans is None or out._data.dtype.kind not in "fV":
            return
        hook = _hook()
        hook[0] = None                          # the rule's own ops carry no tangents
        try:
            if op.jvp_fn is not None:
                from ..ops.graph_math import TENSOR_MATH
                r = op.jvp_fn(TENSOR_MATH, args, tuple(tans), out, **params)
            else:
                self.fallbacks[op.name] += 1
                r = _local(op, args, params, tans)
            if r is not None:
                r = _fit(r, out)
        finally:
            hook[0] = self
        if r is not None:
            self.set(out, r)

    def moved(self, src, dst):
        """An in-place op wrote ``src`` (its out-of-place result) into ``dst``: ``dst`` takes its tangent."""
        t = self.get(src)
        if t is None and self.get(dst) is not None:
            from .. import _creation
            t = _creation.zeros_like(dst)
        if t is not None:
            self.set(dst, t)

    def function(self, outs, wrapped):
        """An ``autograd.Function`` returned ``wrapped`` for its forward's ``outs``: pass their tangents on."""
        for o, w in zip(outs, wrapped):
            if o is not w and hasattr(o, "_data") and hasattr(w, "_data"):
                t = self.get(o)
                if t is not None:
                    self.set(w, t)


def _fit(r, out):
    """The rule's tangent as a Tensor shaped and typed like ``out``."""
    from .._tensor import Tensor
    from ..ops.graph_math import TENSOR_MATH, lift
    if not isinstance(r, Tensor):
        r = lift(TENSOR_MATH, r, like=out)
    if tuple(r.shape) != tuple(out.shape):
        r = TENSOR_MATH.broadcast_to(r, tuple(out.shape))
    if r.dtype != out.dtype:
        r = r.to(out.dtype)
    return r


def _local(op, args, params, tans):
    """``op``'s output tangent by the double-vjp trick on this one node (Note [forward mode])."""
    from .. import _creation
    from ..ops.registry import apply
    from ..tape.grad_mode import enable_grad, is_grad_enabled
    # record the tangent's own graph only when something could differentiate it again
    outer = is_grad_enabled() and any(t is not None and (args[i]._requires_grad or t._requires_grad)
                                      for i, t in enumerate(tans))
    with enable_grad():
        ins = list(args)
        handles, vs = [], []
        for i, t in enumerate(tans):
            if t is None:
                continue
            a = args[i]
            h = _Fresh.apply(a) if a._requires_grad and outer else a.detach().requires_grad_(True)
            ins[i] = h
            handles.append(h)
            vs.append(t)
        y = apply(op, *ins, **params)
        if not y._requires_grad:
            return None
        u = _creation.zeros_like(y).requires_grad_(True)
        g = _api.grad([y], handles, [u], retain_graph=True, create_graph=True, allow_unused=True)
        pairs = [(gi, v) for gi, v in zip(g, vs) if gi is not None and gi._requires_grad]
        if not pairs:                           # J^T u does not depend on u: J is zero
            return _creation.zeros_like(y)
        (jv,) = _api.grad([p for p, _ in pairs], [u], [v for _, v in pairs], retain_graph=outer,
                          create_graph=outer, allow_unused=True)
    return _creation.zeros_like(y) if jv is None else jv


def ops_without_rules():
    """The names of the differentiable ops that declare no JVP rule (their tangents come from ``_local``).

    Example:
        >>> from tapegrad.autograd import forward_ad as fwAD
        >>> "multiply" in fwAD.ops_without_rules(), "cross_entropy" in fwAD.ops_without_rules()
        (False, True)
    """
    from ..ops.registry import REGISTRY
    return sorted(n for n, d in REGISTRY.items() if d.vjp_fn is not None and d.jvp_fn is None)


_LEVELS = []


def enter_dual_level():
    """Enter a new forward-AD level and return its index (levels do not nest).

    Example:
        >>> from tapegrad.autograd import forward_ad as fwAD
        >>> fwAD.enter_dual_level()
        0
        >>> fwAD.exit_dual_level()
    """
    if _LEVELS:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _LEVELS.append(_Level(len(_LEVELS)))
    _hook()[0] = _LEVELS[-1]
    return _LEVELS[-1].idx


def exit_dual_level(*, level=None):
    """Exit the current forward-AD level; its dual tensors become ordinary tensors.

    Example:
        >>> from tapegrad.autograd import forward_ad as fwAD
        >>> _ = fwAD.enter_dual_level(); fwAD.exit_dual_level()
    """
    cur = _current("exit_dual_level", level)
    _LEVELS.remove(cur)
    _hook()[0] = None
    cur.tans.clear()
    cur.written.clear()
    cur.stamps.clear()
    cur.aliases.clear()


@contextlib.contextmanager
def dual_level():
    """Context manager for one forward-AD level: dual tensors made inside lose their tangents on exit.

    Example:
        >>> import tapegrad
        >>> from tapegrad.autograd import forward_ad as fwAD
        >>> with fwAD.dual_level():
        ...     x = fwAD.make_dual(tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([1.0, 0.0]))
        ...     fwAD.unpack_dual(x * x).tangent
        tensor([2., 0.])
    """
    enter_dual_level()
    try:
        yield
    finally:
        if _LEVELS:
            exit_dual_level()


def _current(fn, level):
    if not _LEVELS:
        raise RuntimeError(f"{fn}: no forward AD level is active. To create or read a dual tensor, you must be "
                           "inside a dual level context (`with tapegrad.autograd.forward_ad.dual_level():`)")
    cur = _LEVELS[-1]
    if level is not None and level != cur.idx:
        raise RuntimeError(f"{fn}: level {level} is not the current forward AD level ({cur.idx})")
    return cur


def make_dual(tensor, tangent, *, level=None):
    """Return a dual tensor: ``tensor``'s value carrying ``tangent`` at the current level.

    Args:
        tensor: the primal (a floating point tensor).
        tangent: its tangent, of the same shape (cast to the primal's dtype).
        level: the level (the current one when None).

    Returns:
        A tensor to compute with; ``unpack_dual`` of any result gives its tangent
        (Note [forward mode]).

    Example:
        >>> import tapegrad
        >>> from tapegrad.autograd import forward_ad as fwAD
        >>> with fwAD.dual_level():
        ...     y = fwAD.make_dual(tapegrad.tensor(0.0), tapegrad.tensor(2.0)).cos()
        ...     fwAD.unpack_dual(y)
        UnpackedDualTensor(primal=tensor(1.), tangent=tensor(-0.))
    """
    from .._tensor import Tensor
    cur = _current("make_dual", level)
    for name, t in (("tensor", tensor), ("tangent", tangent)):
        if not isinstance(t, Tensor):
            raise TypeError(f"make_dual: expected {name} to be a Tensor, got {type(t).__name__}")
    if tensor._data.dtype.kind not in "fV":
        raise ValueError(f"make_dual: expected primal to be a floating point tensor, got {tensor.dtype}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while the given "
                           f"forward gradient is of size {list(tangent.shape)}.")
    if tangent.device != tensor.device:
        raise RuntimeError(f"make_dual: the tangent is on {tangent.device} but the primal is on {tensor.device}")
    if tangent.dtype != tensor.dtype:
        tangent = tangent.to(tensor.dtype)
    handle = _alias(tensor)
    cur.set(handle, tangent)
    e = cur.aliases.get(id(tensor))
    if e is None or e[0]() is not tensor:
        weak_put(cur.aliases, tensor, [])
        e = cur.aliases[id(tensor)]
    e[1].append(weakref.ref(handle))
    return handle


def _alias(t):
    """A view of ``t`` with no tangent: the same values, and a path back to ``t`` in reverse mode."""
    from ..ops.registry import apply
    from ..ops.shape import reshape_op
    hook = _hook()
    saved, hook[0] = hook[0], None
    try:
        return apply(reshape_op, t, shape=tuple(t._data.shape))
    finally:
        hook[0] = saved


def unpack_dual(tensor, *, level=None):
    """Return ``(primal, tangent)`` of ``tensor`` at the current level (tangent None when it has none).

    A lookup: the tangent was computed when ``tensor`` was (Note [forward mode]).

    Args:
        tensor: any tensor.
        level: the level (the current one when None).

    Returns:
        An ``UnpackedDualTensor(primal, tangent)`` namedtuple; the primal is a view of ``tensor``
        without the tangent.

    Example:
        >>> import tapegrad
        >>> from tapegrad.autograd import forward_ad as fwAD
        >>> with fwAD.dual_level():
        ...     x = fwAD.make_dual(tapegrad.tensor([1.0, 2.0]), tapegrad.ones(2))
        ...     fwAD.unpack_dual((x ** 2).sum()).tangent
        tensor(6.)
    """
    from .._tensor import Tensor
    if not isinstance(tensor, Tensor):
        raise TypeError(f"unpack_dual: expected a Tensor, got {type(tensor).__name__}")
    if not _LEVELS:
        return UnpackedDualTensor(tensor, None)
    cur = _current("unpack_dual", level)
    t = cur.get(tensor)
    if t is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(_alias(tensor), t)
