"""Linear algebra: matmul (1-D, 2-D, batched N-D with broadcasting), mm, bmm, dot, outer, einsum."""
from .registry import op, apply


@op("matmul", save=("a", "b"))
def matmul_op(be, a, b):
    return be.matmul(a, b)


@matmul_op.vjp
def _(F, ctx, g, a, b):
    n = ctx.next
    a_nd, b_nd = a.ndim, b.ndim
    # Promote 1-D operands to matrices so one formula covers every case.
    if a_nd == 1:
        a = F.reshape(a, (1,) + a.shape)
        g = F.reshape(g, g.shape[:-1] + (1, g.shape[-1])) if b_nd > 1 else F.reshape(g, (1,) + g.shape)
    if b_nd == 1:
        b = F.reshape(b, b.shape + (1,))
        g = F.reshape(g, g.shape + (1,))
    ga = gb = None
    if n[0] is not None:
        ga = F.matmul(g, _mT(F, b))
        if a_nd == 1:
            ga = F.reshape(ga, ga.shape[:-2] + ga.shape[-1:])
    if n[1] is not None:
        gb = F.matmul(_mT(F, a), g)
        if b_nd == 1:
            gb = F.reshape(gb, gb.shape[:-1])
    return ga, gb


def _mT(F, x):
    nd = x.ndim
    return F.transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def matmul(input, other):
    """Matrix product with NumPy/PyTorch semantics (1-D, 2-D, batched and broadcast).

    Example:
        >>> import tapegrad
        >>> a = tapegrad.ones(2, 3); b = tapegrad.ones(3, 4)
        >>> tapegrad.matmul(a, b).shape
        tapegrad.Size([2, 4])
    """
    if input.ndim == 0 or other.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)}")
    return apply(matmul_op, input, other)


__all__ = ["matmul"]
METHODS = {n: globals()[n] for n in __all__}
