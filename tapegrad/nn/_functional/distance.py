"""``F.pairwise_distance`` and ``F.cosine_similarity`` (``torch.nn.modules.distance``'s functions)."""
from ...ops.joining import broadcast_shapes
from ...ops.statistics import norm

__all__ = ["pairwise_distance", "cosine_similarity"]


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of ``x1 - x2 + eps`` over the last dim (of the broadcast shape), as PyTorch computes it.

    ``eps`` is added to the difference (not to the norm), so equal inputs give ``eps * D**(1/p)``
    and a finite gradient.

    Example:
        >>> import tapegrad
        >>> d = tapegrad.nn.functional.pairwise_distance(tapegrad.tensor([[3.0, 0.0]]), tapegrad.zeros(1, 2), eps=0)
        >>> d
        tensor([3.])
    """
    nd = max(x1.ndim, x2.ndim)
    diff = x1 - x2 + eps
    if nd == 0:
        return diff.abs() if p != 0 else (diff != 0).to(diff.dtype)
    return norm(diff, p, dim=nd - 1, keepdim=keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``sum(x1/|x1| * x2/|x2|)`` along ``dim`` of the broadcast shape; each norm is clamped at ``eps``.

    The clamp changes the value only (PyTorch clamps under ``no_grad``), and each input is divided by its
    norm before the product, which keeps the result within [-1, 1].

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[1.0, 0.0], [1.0, 1.0]])
        >>> tapegrad.nn.functional.cosine_similarity(x, tapegrad.tensor([[1.0, 0.0]]))
        tensor([1.0000, 0.7071])
    """
    shape = tuple(broadcast_shapes(tuple(x1.shape), tuple(x2.shape)))
    nd = len(shape)
    if not (-max(nd, 1) <= dim < max(nd, 1)):
        raise IndexError(f"cosine_similarity: dim {dim} out of range for inputs of shapes {tuple(x1.shape)} and "
                         f"{tuple(x2.shape)} (broadcast {tuple(shape)})")
    if not (x1.dtype.is_floating_point and x2.dtype.is_floating_point):
        raise RuntimeError(f"cosine_similarity: expected floating inputs, got {x1.dtype} and {x2.dtype}")
    a, b = x1.broadcast_to(shape), x2.broadcast_to(shape)
    na = _clamp_value(norm(a, 2, dim=dim, keepdim=True), eps)
    nb = _clamp_value(norm(b, 2, dim=dim, keepdim=True), eps)
    return ((a / na) * (b / nb)).sum(dim)


def _clamp_value(x, lo):
    # the value of clamp(min=lo), the gradient of x (PyTorch clamps in place under no_grad)
    return x + (x.clamp(min=lo) - x).detach()
