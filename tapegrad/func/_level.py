"""One transform level: fresh inputs, gradients with zeros for unused inputs, results cut loose.

# Note [transform levels]
Every call of a transform (``grad``, ``vjp``, ``jacrev``, ...) is a level. Its
differentiated inputs become fresh handles: an input that already requires
grad (an outer level's handle, or a user's leaf) goes through an identity node,
so the level's results stay differentiable with respect to it (this is what
makes ``grad(grad(f))`` work); any other input becomes a new detached leaf,
private to the level. Gradients are always taken with ``create_graph`` (while
grad mode is on), and a result whose graph reaches no leaf but the level's own
private leaves is detached on the way out, so nothing of a level leaks into
its caller (a top-level ``grad(f)(x)`` returns a tensor that does not require
grad, as ``torch.func`` does). Distinct handles per level also keep nested
levels from confusing one another's perturbations.
"""
from ..autograd import api as _api
from ..autograd.functional import _Fresh
from ..tape.grad_mode import is_grad_enabled
from ..autograd._levels import strip as _strip, reaches_outside
from . import _batching

__all__ = ["fresh", "strip", "grads", "check_tensor", "new_private"]


class _Everything(set):
    """The private leaves of a level entered with grad mode off: every leaf, so all its results come
    out detached (torch.func respects a ``no_grad`` inside ``f``, not one around the transform)."""

    def __contains__(self, key):
        return True


def new_private():
    """The set of a new level's private leaves (Note [transform levels])."""
    return set() if is_grad_enabled() else _Everything()


def check_tensor(x, fn, what):
    from .._tensor import Tensor
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}: expected {what} to be a Tensor, got {type(x).__name__}")
    return x


def strip(t, private):
    """``t``, detached when it requires grad only through the leaves in ``private`` (a batched ``t`` by
    its physical tensor, Note [gradients in a batched run] in _batching.py)."""
    if t.__class__ is _batching.BatchedTensor:
        return _batching.wrap(_strip(t._phys, private), t._levels)
    return _strip(t, private)


def fresh(x, fn, private):
    """A handle on ``x`` for this level (Note [transform levels]); new private leaves go in ``private``."""
    check_tensor(x, fn, "every differentiated input")
    if x._data.dtype.kind not in "fcV":
        raise RuntimeError(f"{fn}: only Tensors of floating point dtype can be differentiated, but an input "
                           f"has dtype {x.dtype} and shape {tuple(x.shape)}")
    if _batching.active():
        return _batching.fresh_handle(x, private, _Fresh)
    if x._requires_grad and is_grad_enabled():
        return _Fresh.apply(x)
    leaf = x.detach().requires_grad_(True)
    private.add(id(leaf))
    return leaf


def grads(outputs, inputs, cotangents, private):
    """``autograd.grad`` of ``outputs`` along ``cotangents``, zeros for inputs they do not reach.

    The backward is recorded (``create_graph``) only when grad mode is on and some output reaches a
    leaf outside this level: otherwise nothing could differentiate the result again.
    """
    from .. import _creation
    levels = None
    if _batching.active():
        outputs, inputs, cotangents, levels = _batching.unbatch_for_grads(outputs, inputs, cotangents)
    live = [(o, c) for o, c in zip(outputs, cotangents) if o._requires_grad]
    if live:
        record = is_grad_enabled() and (any(reaches_outside(o, private) for o, _ in live)
                                        or any(c._requires_grad for _, c in live))
        res = _api.grad([o for o, _ in live], list(inputs), [c for _, c in live], retain_graph=True,
                        create_graph=record, allow_unused=True)
    else:
        res = (None,) * len(inputs)
    res = [_creation.zeros_like(x) if r is None else r for r, x in zip(res, inputs)]
    return res if levels is None else [_batching.wrap(r, lv) for r, lv in zip(res, levels)]
