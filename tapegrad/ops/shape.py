"""Shape ops: reshape/view, transpose/permute, expand/broadcast_to, squeeze/unsqueeze, flip, cat, stack...

Views share storage and the version counter with their input (``view=True``).
"""
from .registry import op, apply


@op("reshape", promote=None, view=True)
def reshape_op(be, x, shape):
    return be.reshape(x, shape)


@reshape_op.vjp
def _(F, ctx, g, shape):
    return F.reshape(g, ctx.shapes[0])


@op("broadcast_to", promote=None, view=True)
def broadcast_to_op(be, x, shape):
    return be.broadcast_to(x, shape)


@broadcast_to_op.vjp
def _(F, ctx, g, shape):
    return g                    # Note [sum_to]: the engine sums back to the input's shape


@op("transpose", promote=None, view=True)
def transpose_op(be, x, axes):
    return be.transpose(x, axes)


@transpose_op.vjp
def _(F, ctx, g, axes):
    inv = [0] * len(axes)
    for i, a in enumerate(axes):
        inv[a] = i
    return F.transpose(g, tuple(inv))


__all__ = []
METHODS = {n: globals()[n] for n in __all__}
