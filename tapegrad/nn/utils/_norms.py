"""The norms behind weight and spectral normalisation, composed of recorded ops (so gradients flow)."""


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dimension but ``dim`` (all of them when ``dim == -1``), kept as size 1.

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn.utils._norms import norm_except_dim
        >>> norm_except_dim(tapegrad.tensor([[3.0, 4.0], [0.0, 1.0]]))
        tensor([[5.],
                [1.]])
    """
    if dim == -1:
        return v.norm(pow)
    dim = dim % v.ndim
    other = tuple(d for d in range(v.ndim) if d != dim)
    if not other:
        return v.abs()
    if pow == 2:
        return (v * v).sum(dim=other, keepdim=True).sqrt()
    return (v.abs() ** pow).sum(dim=other, keepdim=True) ** (1.0 / pow)


def weight_norm(v, g, dim=0):
    """``torch._weight_norm``: ``v * (g / norm_except_dim(v, 2, dim))``.

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn.utils._norms import weight_norm
        >>> weight_norm(tapegrad.tensor([[3.0, 4.0]]), tapegrad.tensor([[10.0]]))
        tensor([[6., 8.]])
    """
    return v * (g / norm_except_dim(v, 2, dim))


def normalize(x, eps=1e-12):
    """``F.normalize(x, dim=0, eps=eps)`` for a 1-D tensor: ``x / max(||x||, eps)``.

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn.utils._norms import normalize
        >>> normalize(tapegrad.tensor([3.0, 4.0]))
        tensor([0.6000, 0.8000])
    """
    return x / x.norm().clamp(min=eps)


def reshape_to_matrix(weight, dim):
    """``weight`` with ``dim`` moved first and the rest flattened: the matrix whose largest singular value is used."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.ndim) if d != dim))
    return weight.reshape(weight.shape[0], -1)
