"""Convolutions: ``conv1d/2d/3d``, ``conv_transpose1d/2d/3d``, ``unfold`` and ``fold``, PyTorch's rules and errors.

Each checks and normalizes its arguments here, then records one primitive of
ops/conv.py (``conv``, ``conv_transpose`` or ``unfold``); ``fold`` is a
transposed convolution with a one-hot weight (Note [unfold through the window
view]). Unbatched inputs (no batch dim) get one for the call.
"""
import math

from ..._tensor import Tensor
from ...ops.conv import conv_op, conv_transpose_op, unfold_op, tap_weight
from ...ops.graph_math import backend_array
from ...ops.registry import apply
from ...ops.shape import pad_axis_op

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "unfold",
           "fold"]


def _tuple(v, n, what):
    """``v`` (an int or a sequence of 1 or ``n`` ints) as ``n`` ints, with PyTorch's error otherwise."""
    if isinstance(v, int) and not isinstance(v, bool):
        return (v,) * n
    if isinstance(v, (tuple, list)) and all(isinstance(i, int) and not isinstance(i, bool) for i in v):
        if len(v) == n:
            return tuple(v)
        if len(v) == 1:
            return tuple(v) * n
        raise RuntimeError(f"expected {what} to be a single integer value or a list of {n} values to match the "
                           f"convolution dimensions, but got {what}={list(v)}")
    raise TypeError(f"{what} must be an int or a tuple of {n} ints, got {v!r}")


def _size(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _batched(name, input, nd):
    """``(input with a batch dim, whether one was added)``, or PyTorch's error for a wrong rank."""
    if input.ndim == nd + 1:
        return input.unsqueeze(0), True
    if input.ndim == nd + 2:
        return input, False
    raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input of "
                       f"size: {_size(input.shape)}")


def _check_common(name, input, weight, bias, nd, stride, dilation, groups, transposed):
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{name}: expected a {nd + 2}-D weight, but got weight of size {_size(weight.shape)}")
    if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{_size(weight.shape)}] instead")
    want = weight.shape[0] if transposed else weight.shape[1] * groups
    if input.shape[1] != want:
        head = "transposed=1" if transposed else f"groups={groups}"
        raise RuntimeError(f"Given {head}, weight of size {_size(weight.shape)}, expected input{_size(input.shape)} "
                           f"to have {want} channels, but got {input.shape[1]} channels instead")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"{name}: expected scalar type {input.dtype._torch_name} but found "
                           f"{weight.dtype._torch_name} (input {input.dtype}, weight {weight.dtype})")
    if input.device != weight.device:
        raise RuntimeError(f"{name}: input is on {input.device} but weight is on {weight.device}")
    if bias is not None:
        out = weight.shape[1] * groups if transposed else weight.shape[0]
        if bias.ndim != 1 or bias.shape[0] != out:
            raise RuntimeError(f"Given weight of size {_size(weight.shape)}, expected bias to be 1-dimensional with "
                               f"{out} elements, but got bias of size {_size(bias.shape)} instead")
        if bias.dtype != input.dtype:
            raise RuntimeError(f"Input type ({input.dtype.np.name.replace('float64', 'double').replace('32', '')}) "
                               f"and bias type ({bias.dtype.np.name.replace('float64', 'double').replace('32', '')}) "
                               "should be the same")


def _same_padding(input, k, dilation):
    """PyTorch's padding='same': ``(symmetric padding, input padded on the right where the total is odd)``."""
    pads = []
    for i, (ki, d) in enumerate(zip(k, dilation)):
        total = d * (ki - 1)
        left = total // 2
        if total - 2 * left:
            input = apply(pad_axis_op, input, axis=2 + i, before=0, after=total - 2 * left)
        pads.append(left)
    return tuple(pads), input


def _conv(name, nd, input, weight, bias, stride, padding, dilation, groups):
    x, added = _batched(name, input, nd)
    stride, dilation = _tuple(stride, nd, "stride"), _tuple(dilation, nd, "dilation")
    _check_common(name, x, weight, bias, nd, stride, dilation, groups, transposed=False)
    k = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            padding, x = _same_padding(x, k, dilation)
        else:
            raise RuntimeError(f"Invalid padding string: {padding!r}")
    else:
        padding = _tuple(padding, nd, "padding")
        if any(p < 0 for p in padding):
            raise RuntimeError("negative padding is not supported")
    padded = tuple(n + 2 * p for n, p in zip(x.shape[2:], padding))
    span = tuple(d * (ki - 1) + 1 for ki, d in zip(k, dilation))
    if any(s > n for s, n in zip(span, padded)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, span))}). Kernel size can't be greater than actual input size")
    args = (x, weight) if bias is None else (x, weight, bias)
    out = apply(conv_op, *args, stride=stride, padding=padding, dilation=dilation, groups=groups)
    return out.squeeze(0) if added else out


def _conv_transpose(name, nd, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x, added = _batched(name, input, nd)
    stride, dilation = _tuple(stride, nd, "stride"), _tuple(dilation, nd, "dilation")
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    padding, output_padding = _tuple(padding, nd, "padding"), _tuple(output_padding, nd, "output_padding")
    _check_common(name, x, weight, bias, nd, stride, dilation, groups, transposed=True)
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(op < 0 or (op >= s and op >= d) for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{name}: output padding must be smaller than either stride or dilation, but got "
                           f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    k = tuple(weight.shape[2:])
    size = tuple((n - 1) * s - 2 * p + d * (ki - 1) + 1 + op
                 for n, s, p, d, ki, op in zip(x.shape[2:], stride, padding, dilation, k, output_padding))
    if any(n < 0 for n in size):
        raise RuntimeError(f"{name}: input of size {_size(input.shape)} with weight {_size(weight.shape)}, "
                           f"stride={stride}, padding={padding} gives a negative output size {size}")
    args = (x, weight) if bias is None else (x, weight, bias)
    out = apply(conv_transpose_op, *args, stride=stride, padding=padding, output_padding=output_padding,
                dilation=dilation, groups=groups)
    return out.squeeze(0) if added else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over ``(N, C_in, L)`` or ``(C_in, L)`` input, as ``torch.nn.functional``.

    Args:
        input: ``(N, C_in, L)`` or unbatched ``(C_in, L)``.
        weight: ``(C_out, C_in / groups, kL)``.
        bias: ``(C_out,)`` or None.
        stride, padding, dilation: an int or a 1-tuple; ``padding`` may also be ``"valid"`` or ``"same"``.
        groups: splits the input and output channels into that many independent convolutions.

    Returns:
        ``(N, C_out, L_out)`` with ``L_out = (L + 2 * padding - dilation * (kL - 1) - 1) // stride + 1``.

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> F.conv1d(tapegrad.ones(1, 1, 5), tapegrad.ones(1, 1, 3))
        tensor([[[3., 3., 3.]]])
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over ``(N, C_in, H, W)`` or ``(C_in, H, W)`` input, as ``torch.nn.functional.conv2d``.

    Args:
        input: ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``.
        weight: ``(C_out, C_in / groups, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, padding, dilation: an int or a pair; ``padding`` may also be ``"valid"`` or ``"same"``
            (PyTorch's rule: an odd total padding puts the extra zero on the right).
        groups: splits the channels into that many independent convolutions.

    Returns:
        ``(N, C_out, H_out, W_out)``.

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> F.conv2d(tapegrad.ones(2, 3, 5, 5), tapegrad.ones(4, 3, 3, 3), padding="same").shape
        tapegrad.Size([2, 4, 5, 5])
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)`` input, as ``torch.nn.functional.conv3d``.

    Args:
        input: ``(N, C_in, D, H, W)`` or unbatched ``(C_in, D, H, W)``.
        weight: ``(C_out, C_in / groups, kD, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, padding, dilation: an int or a triple; ``padding`` may also be ``"valid"`` or ``"same"``.
        groups: splits the channels into that many independent convolutions.

    Returns:
        ``(N, C_out, D_out, H_out, W_out)``.

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> F.conv3d(tapegrad.ones(1, 2, 4, 4, 4), tapegrad.ones(3, 2, 2, 2, 2), stride=2).shape
        tapegrad.Size([1, 3, 2, 2, 2])
    """
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution (the gradient of ``conv1d`` for its input), as ``torch.nn.functional``.

    Args:
        input: ``(N, C_in, L)`` or unbatched ``(C_in, L)``.
        weight: ``(C_in, C_out / groups, kL)``.
        bias: ``(C_out,)`` or None.
        stride, padding, output_padding, dilation: an int or a 1-tuple; ``output_padding`` adds to one side.
        groups: splits the channels into that many independent convolutions.

    Returns:
        ``(N, C_out, (L - 1) * stride - 2 * padding + dilation * (kL - 1) + output_padding + 1)``.

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> F.conv_transpose1d(tapegrad.ones(1, 1, 3), tapegrad.ones(1, 1, 2))
        tensor([[[1., 2., 2., 1.]]])
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    Args:
        input: ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``.
        weight: ``(C_in, C_out / groups, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, padding, output_padding, dilation: an int or a pair.
        groups: splits the channels into that many independent convolutions.

    Returns:
        ``(N, C_out, H_out, W_out)``.

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> F.conv_transpose2d(tapegrad.ones(1, 4, 3, 3), tapegrad.ones(4, 2, 3, 3), stride=2,
        ...                    output_padding=1).shape
        tapegrad.Size([1, 2, 8, 8])
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution, as ``torch.nn.functional.conv_transpose3d``.

    Args:
        input: ``(N, C_in, D, H, W)`` or unbatched ``(C_in, D, H, W)``.
        weight: ``(C_in, C_out / groups, kD, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, padding, output_padding, dilation: an int or a triple.
        groups: splits the channels into that many independent convolutions.

    Returns:
        ``(N, C_out, D_out, H_out, W_out)``.

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> F.conv_transpose3d(tapegrad.ones(1, 2, 2, 2, 2), tapegrad.ones(2, 1, 2, 2, 2)).shape
        tapegrad.Size([1, 1, 3, 3, 3])
    """
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def _pair_args(kernel_size, dilation, padding, stride, name):
    k, d, p, s = (_tuple(v, 2, w) for v, w in ((kernel_size, "kernel_size"), (dilation, "dilation"),
                                               (padding, "padding"), (stride, "stride")))
    if any(v <= 0 for v in k + d + s) or any(v < 0 for v in p):
        raise RuntimeError(f"{name}: kernel_size, dilation and stride must be positive and padding non-negative, "
                           f"but got kernel_size={k}, dilation={d}, padding={p}, stride={s}")
    return k, d, p, s


def _blocks(size, k, d, p, s):
    return tuple((n + 2 * pi - di * (ki - 1) - 1) // si + 1 for n, ki, di, pi, si in zip(size, k, d, p, s))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks: ``(N, C, H, W)`` -> ``(N, C * kH * kW, L)``, as ``torch.nn.functional.unfold``.

    Args:
        input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        kernel_size, dilation, padding, stride: an int or a pair each.

    Returns:
        ``(N, C * kH * kW, L)``, ``L`` the number of block positions; column ``l`` holds block ``l``
        channel by channel, each in row-major kernel order.

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> F.unfold(tapegrad.arange(9.0).reshape(1, 1, 3, 3), 2)
        tensor([[[0., 1., 3., 4.],
                 [1., 2., 4., 5.],
                 [3., 4., 6., 7.],
                 [4., 5., 7., 8.]]])
    """
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {_size(input.shape)}")
    k, d, p, s = _pair_args(kernel_size, dilation, padding, stride, "unfold")
    x, added = (input.unsqueeze(0), True) if input.ndim == 3 else (input, False)
    blocks = _blocks(x.shape[2:], k, d, p, s)
    if any(b < 1 for b in blocks):
        raise RuntimeError(f"Given input with spatial size {tuple(x.shape[2:])}, kernel_size={k}, dilation={d}, "
                           f"padding={p}, calculated shape of the array of sliding blocks as {blocks}, but its "
                           "components must be at least one.")
    out = apply(unfold_op, x, kernel_size=k, dilation=d, padding=p, stride=s)
    return out.squeeze(0) if added else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding local blocks back into an image: ``unfold``'s adjoint, as ``torch.nn.functional.fold``.

    Args:
        input: ``(N, C * kH * kW, L)`` or unbatched ``(C * kH * kW, L)``.
        output_size: ``(H, W)`` (or an int) of the image.
        kernel_size, dilation, padding, stride: an int or a pair each, as given to ``unfold``.

    Returns:
        ``(N, C, H, W)``: overlapping block entries add up.

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> F.fold(tapegrad.ones(1, 4, 4), (3, 3), 2)
        tensor([[[[1., 2., 1.],
                  [2., 4., 2.],
                  [1., 2., 1.]]]])
    """
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {_size(input.shape)}")
    size = _tuple(output_size, 2, "output_size")
    k, d, p, s = _pair_args(kernel_size, dilation, padding, stride, "fold")
    x, added = (input.unsqueeze(0), True) if input.ndim == 2 else (input, False)
    kk = math.prod(k)
    if x.shape[1] % kk:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={x.shape[1]} and kernel_size={k}.")
    blocks = _blocks(size, k, d, p, s)
    if any(b < 1 for b in blocks) or math.prod(blocks) != x.shape[2]:
        raise RuntimeError(f"Given output_size={size}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, "
                           f"expected size of input's dimension 2 to match the calculated number of sliding blocks "
                           f"{blocks[0]} * {blocks[1]} = {math.prod(blocks)}, but got input.size(2)={x.shape[2]}.")
    c = x.shape[1] // kk
    be, arr = backend_array(x)
    w = Tensor._make(tap_weight(be, c, k, arr.dtype), None)     # a constant: fold is conv_transpose with one-hot taps
    extra = tuple(n - ((b - 1) * si - 2 * pi + di * (ki - 1) + 1)
                  for n, b, si, pi, di, ki in zip(size, blocks, s, p, d, k))
    out = apply(conv_transpose_op, x.reshape((x.shape[0], x.shape[1]) + blocks), w, stride=s, padding=p,
                output_padding=extra, dilation=d, groups=c)
    return out.squeeze(0) if added else out
