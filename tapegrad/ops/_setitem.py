"""``t[key] = v`` (recorded as one ``setitem`` op) and ``index_put``, with ``__getitem__``'s key rules.

Split from indexing.py, whose primitives they build on (Note [torch indexing] in _index_key.py).
"""
import numpy as np

from ..tape import grad_mode as _gm
from . import _index_key as _K
from .indexing import _tensor_cls, _plan, index_put_add_op
from .inplace import _inplace, check_writable
from . import _copy_slices
from .registry import op, apply
from . import registry as _reg
from .graph_math import backend_array, lift


def _assign(be, x, basic, adv, value):
    """``x[key] = value`` on a backend array for the split key (Note [torch indexing])."""
    if adv is None:
        be.setitem(x, basic, value)
    else:
        be.setitem(x if basic is None else be.getitem(x, basic), adv, value)


def _index2(F, g, basic, adv):
    """``g[basic][adv]`` in either VJP mode."""
    if basic is not None:
        g = F.getitem(g, basic)
    return g if adv is None else F.getitem(g, adv)


# math=None: the backend's setitem(x, key, value) writes in place; this op is out of place.
@op("setitem", promote=None, tensors=2, math=None)
def setitem_op(be, x, value, basic, adv):
    _assign(be, x, basic, adv, value)
    return x


@setitem_op.vjp
def _(F, ctx, g, basic, adv):
    n = ctx.needs
    gx = gv = None
    if n[0]:
        be, ga = backend_array(g)
        keep = be.ones(ctx.shapes[0], ga.dtype)
        _assign(be, keep, basic, adv, 0)
        gx = g * lift(F, keep, like=g)
    if n[1]:
        gv = _index2(F, g, basic, adv)        # the engine sums it back to the value's shape
    return gx, gv


@setitem_op.jvp
def _(F, primals, tangents, out, basic, adv):
    # Linear in (x, value) together; the forward writes into x, so the rule writes into a copy of x's tangent.
    from .. import _creation
    tx, tv = tangents
    tx = _creation.zeros_like(primals[0]) if tx is None else F.copy(tx)
    tv = _creation.zeros_like(primals[1]) if tv is None else tv
    return apply(setitem_op, tx, tv, basic=basic, adv=adv)


def _strip_leading_ones(value):
    """``value`` without leading size-1 dims: they never matter to broadcasting (PyTorch drops them too),
    and without them the engine can sum the value's gradient back to its shape."""
    shape = tuple(value.shape)
    lead = 0
    while lead < len(shape) and shape[lead] == 1:
        lead += 1
    return value.reshape(shape[lead:]) if lead else value


def index_put(input, indices, values, accumulate=False):
    """``input`` with ``values`` written at ``input[indices]`` (added, repeats summing, when ``accumulate``).

    Args:
        input: the tensor to start from (not modified).
        indices: a tuple of index tensors, read as ``input[indices]`` reads them.
        values: a tensor broadcastable to the shape of ``input[indices]``.
        accumulate: add instead of writing; repeated indices then add up.

    Example:
        >>> import tapegrad
        >>> i = (tapegrad.tensor([0, 0, 2]),)
        >>> tapegrad.index_put(tapegrad.zeros(3), i, tapegrad.ones(3), accumulate=True)
        tensor([2., 0., 1.])
    """
    Tensor = _tensor_cls()
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): indices must be a tuple of tensors, got {type(indices).__name__}")
    if not isinstance(values, Tensor):
        values = Tensor._coerce(np.asarray(values))
    if not accumulate:
        out = input.clone()
        out[tuple(indices)] = values
        return out
    basic, adv = _K.parse(input, tuple(indices))
    values = _strip_leading_ones(values.to(input.dtype))
    shape = tuple(input.shape)
    if basic is not None and adv is not None:
        view = tuple(input._backend.getitem(input._data, basic).shape)
        values = apply(index_put_add_op, values, shape=view, key=adv)
        adv = None
    return input + apply(index_put_add_op, values, shape=shape, key=basic if adv is None else adv)


def _shape_list(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def setitem(self, key, value):
    """``self[key] = value`` in place (bumps the version counter), with ``__getitem__``'s key rules.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.zeros(2, 3)
        >>> x[0, [0, 2]] = 5.0
        >>> x
        tensor([[5., 0., 5.],
                [0., 0., 0.]])
    """
    Tensor = _tensor_cls()
    check_writable("setitem", self)
    be = self._backend
    basic, adv = _plan(self, key)
    vt = isinstance(value, Tensor)
    base = self._base
    recording = _gm.STATE.enabled and (self._requires_grad or (vt and value._requires_grad)
                                       or (base is not None and base._requires_grad))
    target = None
    if recording and base is not None:       # Note [copy slices]
        target = _copy_slices.view_target("setitem", self)
    if recording and self._requires_grad and self._grad_fn is None:
        raise RuntimeError(f"setitem: a leaf Variable that requires grad (shape {tuple(self.shape)}) is being "
                           "used in an in-place operation; wrap it in tapegrad.no_grad() or assign into a clone()")
    if vt and value._backend is not be:
        raise RuntimeError(f"setitem: the value is on {value.device} but the tensor is on {self.device}")
    if not vt:
        a = np.asarray(value)
        if a.dtype == object:
            raise TypeError(f"setitem: cannot assign a value of type {type(value).__name__}")
        value = Tensor._make(be.from_numpy(a.astype(self._data.dtype)), None)
    elif value.dtype is not self.dtype:
        value = value.to(self.dtype)
    vshape = tuple(value.shape)
    value = _strip_leading_ones(value)
    if _reg.FWD_HOOK[0] is not None:        # Note [forward views] (autograd/_forward_views.py)
        _reg.FWD_HOOK[0].check_write("setitem", self, (value,))
    try:
        if target is not None:
            out = _copy_slices.rebase(*target, self, lambda s: apply(setitem_op, s, value, basic=basic, adv=adv),
                                      lambda o: o)
            be.setitem(self._data, Ellipsis, out._data)
        elif recording:
            if be.is_view(self._data) and base is None:     # a _base that view_target refused: a copy
                raise NotImplementedError(
                    f"setitem: assigning into a view (shape {tuple(self.shape)}) while recording gradients is "
                    "not supported; assign into the base tensor, use masked_fill/where, or wrap it in "
                    "tapegrad.no_grad()")
            res = apply(setitem_op, self, value, basic=basic, adv=adv)
            self._grad_fn = res._grad_fn
            self._output_nr = 0
            self._requires_grad = True
            if self._views is not None:
                _copy_slices.refresh_views(self)
        else:
            _assign(be, self._data, basic, adv, value._data)
            if _reg.FWD_HOOK[0] is not None:    # Note [forward mode]: no op ran, so self's tangent is written here
                _reg.FWD_HOOK[0].propagate(setitem_op, (self, value), {"basic": basic, "adv": adv}, self)
    except IndexError as e:             # a plain key the backend refused: PyTorch's message
        raise _K.explain_basic(self, key, e) from None
    except (ValueError, RuntimeError) as e:
        if "broadcast" not in str(e):
            raise
        want = tuple(be.getitem(self._data, basic).shape) if adv is None else None
        raise RuntimeError(f"setitem: shape mismatch: value tensor of shape {_shape_list(vshape)} cannot be "
                           f"broadcast to indexing result" + (f" of shape {_shape_list(want)}" if want else "")
                           + f" (tensor of shape {tuple(self.shape)})") from e
    if _reg.FWD_HOOK[0] is not None:        # Note [forward views] (autograd/_forward_views.py)
        _reg.FWD_HOOK[0].wrote(self, rebased=target is not None)
    self._version[0] += 1
    self._version[1] = "setitem"


__all__ = ["index_put"]
def index_put_(self, indices, values, accumulate=False):
    """In-place ``index_put``: write (or, with ``accumulate``, add) ``values`` at ``self[indices]``; returns self.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.zeros(3)
        >>> x.index_put_((tapegrad.tensor([0, 0, 2]),), tapegrad.ones(3), accumulate=True)
        tensor([2., 0., 1.])
    """
    return _inplace("index_put_", self, lambda s: index_put(s, indices, values, accumulate), False, (values,))


METHODS = {"index_put": index_put, "index_put_": index_put_, "__setitem__": setitem}
