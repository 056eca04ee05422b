"""Moving tensors between devices; differentiable (the gradient moves back)."""
from .. import backend as B
from .registry import op, apply


def _move(x, device):
    src = B.BY_TYPE.get(type(x), B.CPU_BACKEND)      # a NumPy scalar (a 0-d CPU gradient) is on the CPU
    dst = B.get(device)
    return x if dst is src else dst.from_numpy(src.to_numpy(x))


@op("to_device", promote=None)
def to_device_op(be, x, device, src=None):
    return _move(x, device)


@to_device_op.vjp
def _(F, ctx, g, device, src=None):
    if hasattr(g, "_data"):                 # create_graph: record the move back
        return apply(to_device_op, g, device=src, src=device)
    return _move(g, src)


def to_device(x, device):
    src = B.BY_TYPE[type(x._data)].device_type
    return apply(to_device_op, x, device=device, src=src)
