"""Forward-mode AD with PyTorch's API: ``dual_level``, ``make_dual``, ``unpack_dual``.

# Note [forward mode by double vjp]
tapegrad has one tape, read in reverse; forward mode is built on it by the
double-vjp trick. The JVP of ``f`` at ``x`` along ``v`` is the VJP of
``u -> VJP(f, x, u) = J^T u`` along ``v``: ``J^T u`` is linear in ``u``, so its
gradient with respect to ``u``, seeded with ``v``, is ``J v``. Two reverse
passes with ``create_graph``.

``make_dual(x, t)`` returns a fresh handle on ``x`` (a new leaf that requires
grad, or an identity node over ``x`` when ``x`` already requires grad, so
reverse mode through duals still works) and records ``(handle, t)`` on the
current level. Dual tensors then flow through every ordinary op: the ops record
on the tape as usual. ``unpack_dual(y)`` computes ``y``'s tangent on demand:
two reverse passes over the part of the tape between ``y`` and the level's
duals, so each ``unpack_dual`` of a derived tensor costs about two backward
passes of that subgraph (and the tape of the dual computation is kept until
the level exits or its tensors die). A tensor that depends on no dual of the
level has tangent None.

Differences from PyTorch: ops must run with grad mode on (under ``no_grad``
nothing is recorded, so tangents are lost); a dual made from a tensor that does
not require grad itself reports ``requires_grad=True``; and, as in PyTorch,
levels do not nest.
"""
import collections
import contextlib

from . import api as _api
from ._levels import strip
from .functional import _Fresh

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor"]


class UnpackedDualTensor(collections.namedtuple("UnpackedDualTensor", ["primal", "tangent"])):
    """What ``unpack_dual`` returns: ``(primal, tangent)``, the tangent None for a non-dual tensor."""


class _Level:
    def __init__(self, idx):
        self.idx = idx
        self.duals = []             # (handle, tangent), in make_dual order
        self.by_id = {}             # id(handle) -> (primal, tangent)
        self.private = set()        # ids of the leaves this level made


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
    return _LEVELS[-1].idx


def exit_dual_level(*, level=None):
    """Exit the current forward-AD level; its dual tensors become ordinary tensors.

    Example:
        >>> from tapegrad.autograd import forward_ad as fwAD
        >>> _ = fwAD.enter_dual_level(); fwAD.exit_dual_level()
    """
    cur = _current("exit_dual_level", level)
    _LEVELS.remove(cur)


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
        (Note [forward mode by double vjp]).

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
    from ..tape.grad_mode import enable_grad
    with enable_grad():
        if tensor._requires_grad:
            handle = _Fresh.apply(tensor)
        else:
            handle = tensor.detach().requires_grad_(True)
            cur.private.add(id(handle))
    cur.duals.append((handle, tangent))
    cur.by_id[id(handle)] = (tensor, tangent)
    return handle


def unpack_dual(tensor, *, level=None):
    """Return ``(primal, tangent)`` of ``tensor`` at the current level (tangent None when it has none).

    The tangent of a tensor computed from duals costs two reverse passes (Note [forward mode by double vjp]).

    Args:
        tensor: any tensor.
        level: the level (the current one when None).

    Returns:
        An ``UnpackedDualTensor(primal, tangent)`` namedtuple.

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
    hit = cur.by_id.get(id(tensor))
    if hit is not None:
        return UnpackedDualTensor(strip(tensor, cur.private), hit[1])
    return UnpackedDualTensor(strip(tensor, cur.private), _tangent(tensor, cur))


def _tangent(y, cur):
    """``J v`` for ``y`` against the level's duals, or None when ``y`` depends on none of them."""
    from .. import _creation
    from ..tape.grad_mode import enable_grad, is_grad_enabled
    if not y._requires_grad or not cur.duals or y._data.dtype.kind not in "fV":
        return None
    handles = [h for h, _ in cur.duals]
    with enable_grad():
        u = _creation.zeros_like(y).requires_grad_(True)
        g = _api.grad([y], handles, [u], retain_graph=True, create_graph=True, allow_unused=True)
        pairs = [(gi, t) for gi, (_, t) in zip(g, cur.duals) if gi is not None]
        if not pairs:
            return None
        live = [(gi, t) for gi, t in pairs if gi._requires_grad]
        if not live:                # J^T u does not depend on u: J is zero
            return _creation.zeros_like(y)
        (jv,) = _api.grad([gi for gi, _ in live], [u], [t for _, t in live], retain_graph=True,
                          create_graph=is_grad_enabled(), allow_unused=True)
    if jv is None:
        return _creation.zeros_like(y)
    return strip(jv, cur.private | {id(u)})
