"""``F.bilinear``: ``y = x1^T A x2 + b`` over the last dim, composed of a matmul and a reduction."""
__all__ = ["bilinear"]


def bilinear(input1, input2, weight, bias=None):
    """``y[..., o] = sum_ij input1[..., i] * weight[o, i, j] * input2[..., j] + bias[o]``.

    Args:
        input1: ``(*, in1)``.
        input2: ``(*, in2)`` with the same leading dims.
        weight: ``(out, in1, in2)``.
        bias: ``(out,)`` or None.

    Example:
        >>> import tapegrad
        >>> w = tapegrad.ones(1, 2, 3)
        >>> tapegrad.nn.functional.bilinear(tapegrad.ones(4, 2), tapegrad.ones(4, 3), w).shape
        tapegrad.Size([4, 1])
    """
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear: expected a 3-D weight (out, in1, in2), got shape {tuple(weight.shape)}")
    o, i, j = weight.shape
    s1, s2 = tuple(input1.shape), tuple(input2.shape)
    if input1.ndim == 0 or input2.ndim == 0 or s1[:-1] != s2[:-1]:
        raise RuntimeError(f"bilinear: input1 {s1} and input2 {s2} must have the same leading dims and a "
                           "feature dim each")
    if s1[-1] != i or s2[-1] != j:
        raise RuntimeError(f"bilinear: input1 {s1} and input2 {s2} do not match weight {tuple(weight.shape)} "
                           f"(expected last dims {i} and {j})")
    if bias is not None and tuple(bias.shape) != (o,):
        raise RuntimeError(f"bilinear: bias must have shape ({o},), got {tuple(bias.shape)}")
    lead = s1[:-1]
    x1 = input1.reshape((-1, i))
    x2 = input2.reshape((-1, 1, j))
    t = (x1 @ weight.permute(1, 0, 2).reshape((i, o * j))).reshape((-1, o, j))       # (M, out, in2)
    y = (t * x2).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (o,))
