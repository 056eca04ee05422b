"""In-place ops: ``add_ sub_ mul_ div_ clamp_ zero_ fill_ copy_ masked_fill_`` (Tensor methods only).

# Note [in-place]
An in-place op writes into the tensor's existing array, so views see the
change, and bumps the version counter the tensor shares with its views, so a
node that saved it raises at backward (the engine's version check names the
saving op and this one). When the op is recorded, the tensor's history is
rebased: the out-of-place op runs on a *snapshot* (a new Tensor object with
the old history and, when the op saves its input, a copy of the old values),
and the tensor's ``grad_fn`` becomes that op's node. The VJP thus sees the
values from before the write. Everything that can fail (writable memory,
broadcasting, dtype casting, leaf checks) is checked before the write: a
failed op leaves the tensor, its version and its history unchanged. A write
into a view of a tensor with history rebases that base instead
(Note [copy slices] in _copy_slices.py).
"""
from .. import _dtype as D
from ..tape import grad_mode as _gm
from ..tape.capture import ACTIVE as _CAPTURE
from . import elementwise as E
from . import registry as _reg
from . import promotion as _promotion
from . import _copy_slices

__all__ = []

_LEAF = ("a leaf Variable that requires grad is being used in an in-place operation.")
_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation.")


def check_writable(name, t):
    """Raise before an in-place write into memory that cannot take it (Note [in-place]).

    A tensor whose elements share memory (``expand``: a stride of 0) raises
    PyTorch's error; other read-only memory (``from_numpy`` of a non-writable
    array, a view of an expanded tensor) raises too, naming the op, instead of
    NumPy's "assignment destination is read-only".
    """
    d = t._data
    writeable = getattr(getattr(d, "flags", None), "writeable", None)
    if writeable:           # a writable NumPy array (NumPy makes its broadcast views read-only)
        return
    if any(s == 0 and n > 1 for s, n in zip(d.strides, d.shape)):
        raise RuntimeError(f"{name}: {_OVERLAP}")
    if writeable is False:
        raise RuntimeError(f"{name}: the tensor's memory (shape {tuple(d.shape)}) is read-only: a view of an "
                           "expanded tensor, or from_numpy of a NumPy array that is not writable. clone() the "
                           "tensor before writing to it (or make the NumPy array writable)")


def _check_target(name, t):
    if t._grad_fn is None and t._requires_grad and _gm.STATE.enabled:
        raise RuntimeError(f"{name}: {_LEAF} Wrap the update in tapegrad.no_grad(), or operate on "
                           f"tensor.detach() / a clone.")


def _inplace(name, t, compute, saves_self, others=(), cast_check=True):
    """Run ``compute(snapshot)`` out of place, then write the result into ``t`` (Note [in-place]).

    ``saves_self``: the out-of-place op saves its first input for the VJP, so
    the snapshot needs a copy of the old values; ``others``: the other operands.
    """
    Tensor = _reg.Tensor
    check_writable(name, t)
    _check_target(name, t)
    if _reg.FWD_HOOK[0] is not None:      # Note [forward views] (autograd/_forward_views.py)
        _reg.FWD_HOOK[0].check_write(name, t, others)
    be = t._backend
    base = t._base
    recording = _gm.STATE.enabled and (t._requires_grad or any(
        isinstance(o, Tensor) and o._requires_grad for o in others) or (base is not None and base._requires_grad))
    target = None
    if recording and base is not None:        # Note [copy slices]
        target = _copy_slices.view_target(name, t)
    if target is not None:
        _write(name, t, _copy_slices.rebase(*target, t, lambda v: _named(name, compute, v),
                                            lambda out: _fit(name, t, out, cast_check)))
        if _reg.FWD_HOOK[0] is not None:  # Note [forward views] (autograd/_forward_views.py)
            _reg.FWD_HOOK[0].wrote(t, rebased=True)
        return t
    if recording:
        src = Tensor._make(be.copy(t._data) if saves_self else t._data, t._grad_fn, be)
        src._output_nr = t._output_nr
        src._requires_grad = t._requires_grad
        if _reg.FWD_HOOK[0] is not None and t._grad_fn is None:   # Note [forward views]: keep t's tangent
            _reg.FWD_HOOK[0].set(src, _reg.FWD_HOOK[0].get(t))
    elif saves_self and _reg.FWD_HOOK[0] is not None and _gm.STATE.enabled:
        src = _snapshot(t)                # Note [forward views]: the tangent's graph may save t's old values
        if t._grad_fn is None:
            _reg.FWD_HOOK[0].set(src, _reg.FWD_HOOK[0].get(t))
    else:
        src = t
    out = _fit(name, t, _named(name, compute, src), cast_check)
    _write(name, t, out)
    if out._grad_fn is not None:
        t._grad_fn = out._grad_fn
        t._output_nr = out._output_nr
        t._requires_grad = True
        if t._views is not None:          # its views now show the new history (Note [copy slices])
            _copy_slices.refresh_views(t)
    if _reg.FWD_HOOK[0] is not None:      # Note [forward mode] (autograd/forward_ad.py): t takes out's tangent
        _reg.FWD_HOOK[0].moved(out, t)
        _reg.FWD_HOOK[0].wrote(t)         # Note [forward views]: t's base and views follow
    return t


def _named(name, compute, src):
    try:
        return compute(src)
    except (RuntimeError, TypeError, ValueError, IndexError) as e:
        raise type(e)(f"{name}: {e}") from e


def _fit(name, t, out, cast_check):
    """``out`` checked against ``t``'s shape and cast to its dtype, before anything is written."""
    shape = t._data.shape
    if out._data.shape != shape:
        raise RuntimeError(f"{name}: output with shape {list(shape)} doesn't match the broadcast shape "
                           f"{list(out._data.shape)}")
    have, want = out.dtype, t.dtype
    if cast_check:
        _promotion.check_inplace_cast(name, have, want)
    if have is not want:
        out = out.to(want)
    return out


def _write(name, t, out):
    t._backend.setitem(t._data, Ellipsis, out._data)
    if _CAPTURE[0] is not None:         # Note [capture hook]: a trace records the write
        _CAPTURE[0].write(t, out._data)
    v = t._version
    v[0] += 1
    v[1] = name
    return t


def _snapshot(t):
    Tensor = _reg.Tensor
    s = Tensor._make(t._backend.copy(t._data), t._grad_fn)
    s._output_nr = t._output_nr
    s._requires_grad = t._requires_grad
    return s


def add_(self, other, *, alpha=1):
    """In-place ``self += alpha * other``; returns self.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2)
        >>> x.add_(tapegrad.tensor([1.0, 2.0]), alpha=2)
        tensor([3., 5.])
    """
    other = _self_safe(other, self)
    return _inplace("add_", self, lambda s: E.add(s, other, alpha=alpha), False, (other,))


def sub_(self, other, *, alpha=1):
    """In-place ``self -= alpha * other``; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2).sub_(0.5)
        tensor([0.5000, 0.5000])
    """
    other = _self_safe(other, self)
    return _inplace("sub_", self, lambda s: E.sub(s, other, alpha=alpha), False, (other,))


def mul_(self, other):
    """In-place ``self *= other``; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.tensor([1, 2]).mul_(3)
        tensor([3, 6])
    """
    other = _self_safe(other, self)
    return _inplace("mul_", self, lambda s: E.mul(s, other), True, (other,))


def div_(self, other, *, rounding_mode=None):
    """In-place ``self /= other`` (or floor/trunc division); returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.tensor([1.0, 3.0]).div_(2)
        tensor([0.5000, 1.5000])
    """
    other = _self_safe(other, self)
    return _inplace("div_", self, lambda s: E.div(s, other, rounding_mode=rounding_mode), True, (other,))


def clamp_(self, min=None, max=None):  # noqa: A002
    """In-place clamp into ``[min, max]``; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.tensor([-2.0, 0.5, 3.0]).clamp_(-1, 1)
        tensor([-1.0000,  0.5000,  1.0000])
    """
    return _inplace("clamp_", self, lambda s: E.clamp(s, min, max), True, (min, max))


def _all_true(t):
    Tensor = _reg.Tensor
    be = t._backend
    return Tensor._make(be.full(t._data.shape, True, D.bool.np), None)


def masked_fill_(self, mask, value):
    """In-place: set the elements where the bool ``mask`` is True to ``value``; returns self.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([1.0, 2.0, 3.0])
        >>> x.masked_fill_(x > 1.5, 0.0)
        tensor([1., 0., 0.])
    """
    # s.masked_fill: a Tensor method, so inplace (below indexing) imports nothing above it
    return _inplace("masked_fill_", self, lambda s: s.masked_fill(mask, value), False, (value,),
                    cast_check=False)


def fill_(self, value):
    """In-place: set every element to ``value`` (a number or a 0-d tensor); returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, dtype=tapegrad.int64).fill_(7)
        tensor([7, 7])
    """
    Tensor = _reg.Tensor
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"fill_: only supports 0-dimension value tensor but got tensor with {value.ndim} "
                           "dimensions")
    return _inplace("fill_", self, lambda s: E.where(_all_true(s), value, s), False, (value,), cast_check=False)


def zero_(self):
    """In-place: set every element to zero; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2).zero_()
        tensor([0., 0.])
    """
    return _inplace("zero_", self, lambda s: E.where(_all_true(s), 0, s), False, cast_check=False)


def copy_(self, src, non_blocking=False):
    """In-place: copy ``src`` (broadcast to self's shape, cast to self's dtype and device); returns self.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.zeros(2, 2)
        >>> x.copy_(tapegrad.tensor([1, 2]))
        tensor([[1., 2.],
                [1., 2.]])
    """
    Tensor = _reg.Tensor
    if not isinstance(src, Tensor):
        src = Tensor._coerce(src)
    if src.device != self.device:
        src = src.to(self.device)
    if src is self:
        return self
    if src.dtype is not self.dtype:
        src = src.to(self.dtype)
    return _inplace("copy_", self, lambda s: E.where(_all_true(s), src, s), False, (src,), cast_check=False)


def _self_safe(other, t):
    """``x.mul_(x)``: the other operand must keep the values from before the write."""
    return _snapshot(t) if other is t else other


METHODS = {"add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "clamp_": clamp_, "clip_": clamp_,
           "masked_fill_": masked_fill_, "fill_": fill_, "zero_": zero_, "copy_": copy_}
