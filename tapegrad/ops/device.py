"""Moving tensors between devices; differentiable (the gradient moves back)."""
from .. import backend as B
from .registry import op, apply
from . import _jvp


def _move(x, device):
    return B.move(x, B.get(device))


@op("to_device", promote=None, tensors=1)
def to_device_op(be, x, device, src=None):
    return _move(x, device)


@to_device_op.vjp
def _(F, ctx, g, device, src=None):
    return F.to_device(g, src, device)      # the move back (recorded under create_graph)


to_device_op.jvp(_jvp.linear(to_device_op))


def to_device(x, device):
    src = x._backend.device_type
    return apply(to_device_op, x, device=device, src=src)
