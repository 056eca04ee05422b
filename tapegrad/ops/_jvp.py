"""Shared JVP rules, attached below the ops in their files (Note [forward mode] in autograd/forward_ad.py).

A rule is ``rule(F, primals, tangents, out, **params) -> tangent of out``: ``F`` is the graph-mode
namespace (ops/graph_math.py), ``primals`` the op's inputs as ``apply`` got them (Tensors or Python
numbers), ``tangents`` one Tensor or None per input, ``out`` the op's result Tensor. The rule may
return the tangent in a shape that broadcasts to ``out`` and in another float dtype: the caller
broadcasts and casts it once (as the engine's ``sum_to`` does for VJPs).

Three kinds cover most ops:
- ``diagonal``: elementwise ops. Their Jacobian is diagonal (per input, after broadcasting), so the
  JVP along input ``i`` is the op's own VJP for input ``i`` with the gradient set to ``i``'s tangent
  broadcast to the output's shape; the rule is then exactly as exact as the VJP.
- ``linear(op)``: ops linear in all their tensor inputs together (reshape, sum, getitem, cat): the
  JVP is the op applied to the tangents (zeros for an input without one).
- ``multilinear(op)``: ops linear in each tensor input separately (matmul, einsum): the sum over the
  inputs with a tangent of the op with that input replaced by its tangent.
"""
from .. import _creation
from .graph_math import lift

__all__ = ["diagonal", "linear", "multilinear", "affine"]


class _Ctx:
    """The two fields of a node a VJP reads (``needs``, ``shapes``), for one input at a time."""
    __slots__ = ("needs", "shapes")

    def __init__(self, needs, shapes):
        self.needs = needs
        self.shapes = shapes


def _saved(F, op, primals, out):
    vals = []
    for i in op.save:
        if i < 0:
            vals.append(out)
        elif i >= len(primals):
            vals.append(None)
        else:
            p = primals[i]
            vals.append(p if p is None or hasattr(p, "_data") else lift(F, p, like=out))
    return vals


def diagonal(op):
    """The JVP rule of the elementwise op ``op``: its VJP applied to each tangent (module docstring).

    Example:
        >>> import tapegrad
        >>> from tapegrad.ops.registry import REGISTRY
        >>> from tapegrad.ops.graph_math import TENSOR_MATH
        >>> x = tapegrad.tensor([0.0, 1.0])
        >>> diagonal(REGISTRY["sin"])(TENSOR_MATH, (x,), (tapegrad.ones(2),), x.sin())
        tensor([1.0000, 0.5403])
    """
    def rule(F, primals, tangents, out, **params):
        saved = _saved(F, op, primals, out)
        shapes = tuple(tuple(p.shape) if hasattr(p, "_data") else () for p in primals)
        shape = tuple(out.shape)
        res = None
        n = len(primals)
        for i, t in enumerate(tangents):
            if t is None:
                continue
            g = t if tuple(t.shape) == shape else F.broadcast_to(t, shape)
            g = g.to(out.dtype) if g.dtype != out.dtype else g
            r = op.vjp_fn(F, _Ctx(tuple(j == i for j in range(n)), shapes), g, *saved, **params)
            if isinstance(r, tuple):
                r = r[i]
            if r is not None:
                res = r if res is None else res + r
        return res
    return rule


def _zeros_for(p):
    return _creation.zeros_like(p) if hasattr(p, "_data") else 0.0


def linear(op, n=None):
    """The JVP rule of ``op`` linear in its first ``n`` tensor inputs together (all when None).

    Example:
        >>> import tapegrad
        >>> from tapegrad.ops.graph_math import TENSOR_MATH
        >>> from tapegrad.ops.shape import reshape_op
        >>> x = tapegrad.zeros(2, 2)
        >>> linear(reshape_op)(TENSOR_MATH, (x,), (tapegrad.ones(2, 2),), None, shape=(4,))
        tensor([1., 1., 1., 1.])
    """
    from .registry import apply

    def rule(F, primals, tangents, out, **params):
        k = len(primals) if n is None else n
        args = [(t if t is not None else _zeros_for(p)) if i < k else p
                for i, (p, t) in enumerate(zip(primals, tangents))]
        return apply(op, *args, **params)
    return rule


def multilinear(op):
    """The JVP rule of ``op`` linear in each tensor input separately (matmul, einsum, conv_weight).

    Example:
        >>> import tapegrad
        >>> from tapegrad.ops.graph_math import TENSOR_MATH
        >>> from tapegrad.ops.linalg import matmul_op
        >>> a, b = tapegrad.eye(2), tapegrad.ones(2, 2)
        >>> multilinear(matmul_op)(TENSOR_MATH, (a, b), (a, None), a @ b)
        tensor([[1., 1.],
                [1., 1.]])
    """
    from .registry import apply

    def rule(F, primals, tangents, out, **params):
        res = None
        for i, t in enumerate(tangents):
            if t is None:
                continue
            args = list(primals)
            args[i] = t
            r = apply(op, *args, **params)
            res = r if res is None else res + r
        return res
    return rule


def affine(op):
    """The JVP rule of ``op(x, w, b=None)`` bilinear in ``x`` and ``w`` plus the bias ``b`` (linear, conv).

    Example:
        >>> import tapegrad
        >>> from tapegrad.ops.graph_math import TENSOR_MATH
        >>> from tapegrad.ops.linalg import linear_op
        >>> x, w, b = tapegrad.ones(1, 2), tapegrad.eye(2), tapegrad.zeros(2)
        >>> affine(linear_op)(TENSOR_MATH, (x, w, b), (None, None, tapegrad.ones(2)), None)
        tensor([1., 1.])
    """
    from .registry import apply

    def rule(F, primals, tangents, out, **params):
        x, w = primals[0], primals[1]
        res = None
        if tangents[0] is not None:
            res = apply(op, tangents[0], w, **params)
        if tangents[1] is not None:
            r = apply(op, x, tangents[1], **params)
            res = r if res is None else res + r
        if len(tangents) > 2 and tangents[2] is not None:
            tb = _bias(op, tangents[2], x.dim())
            res = tb if res is None else res + tb
        return res
    return rule


def _bias(op, tb, ndim):
    """The bias tangent shaped to add to the output (conv's bias is per channel, along dim 1)."""
    if op.name in ("conv", "conv_transpose"):
        return tb.reshape((1, -1) + (1,) * (ndim - 2))
    return tb
