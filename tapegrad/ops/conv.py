"""Convolution primitives: ``conv``, ``conv_transpose`` and ``conv_weight``, whose VJPs are each other.

The forward of each is one backend call (Note [conv as im2col] in
backend/_conv.py). Their VJPs are written against ``F`` with the three ops
themselves, so every order of derivative works:

- conv's input gradient is the transposed convolution of ``g`` with the same
  weight (``output_padding`` recovers the input's size); the transposed
  convolution's input gradient is the convolution of ``g``.
- Both weight gradients are ``conv_weight`` (the output gradient times the
  input's columns), bilinear in its two inputs, so its VJPs are a
  convolution and a transposed convolution again. ``unfold`` reads the
  window view directly; its VJP is a transposed convolution.

Tuples (stride, padding, dilation, output_padding) have one int per spatial
dim; the nn.functional wrappers (nn/_functional/conv.py) normalize them.
"""
import math

from .graph_math import backend_array, lift
from .registry import op
from . import _jvp

__all__ = []


def _bias_grad(F, g):
    return F.sum(g, axis=(0,) + tuple(range(2, g.ndim)))


@op("conv", save=("x", "w"), tensors=3)
def conv_op(be, x, w, b=None, stride=(1,), padding=(0,), dilation=(1,), groups=1):
    return be.conv(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)


@conv_op.vjp
def _(F, ctx, g, x, w, stride=(1,), padding=(0,), dilation=(1,), groups=1):
    needs = ctx.needs
    k = tuple(w.shape[2:])
    gx = gw = None
    if needs[0]:
        extra = _out_padding(ctx.shapes[0][2:], g.shape[2:], k, stride, padding, dilation)
        gx = F.conv_transpose(g, w, stride=stride, padding=padding, output_padding=extra, dilation=dilation,
                              groups=groups)
    if needs[1]:
        gw = F.conv_weight(x, g, k, stride=stride, padding=padding, dilation=dilation, groups=groups)
    if len(needs) < 3:
        return gx, gw
    return gx, gw, _bias_grad(F, g) if needs[2] else None


conv_op.jvp(_jvp.affine(conv_op))


@op("conv_transpose", save=("x", "w"), tensors=3)
def conv_transpose_op(be, x, w, b=None, stride=(1,), padding=(0,), output_padding=(0,), dilation=(1,), groups=1):
    return be.conv_transpose(x, w, b, stride=stride, padding=padding, output_padding=output_padding,
                             dilation=dilation, groups=groups)


@conv_transpose_op.vjp
def _(F, ctx, g, x, w, stride=(1,), padding=(0,), output_padding=(0,), dilation=(1,), groups=1):
    needs = ctx.needs
    gx = gw = None
    if needs[0]:
        gx = F.conv(g, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
        if tuple(gx.shape) != tuple(ctx.shapes[0]):     # output_padding >= stride (< dilation) adds windows
            gx = F.getitem(gx, (slice(None), slice(None)) + tuple(slice(0, n) for n in ctx.shapes[0][2:]))
    if needs[1]:
        # conv_transpose(x, w) is the adjoint of conv(., w) from its output's shape to x's: swap the roles
        gw = F.conv_weight(g, x, tuple(w.shape[2:]), stride=stride, padding=padding, dilation=dilation,
                           groups=groups)
    if len(needs) < 3:
        return gx, gw
    return gx, gw, _bias_grad(F, g) if needs[2] else None


conv_transpose_op.jvp(_jvp.affine(conv_transpose_op))


@op("conv_weight", save=("x", "g"), tensors=2)
def conv_weight_op(be, x, g, kernel_size, stride=(1,), padding=(0,), dilation=(1,), groups=1):
    return be.conv_weight(x, g, kernel_size, stride=stride, padding=padding, dilation=dilation, groups=groups)


@conv_weight_op.vjp
def _(F, ctx, gw, x, g, kernel_size, stride=(1,), padding=(0,), dilation=(1,), groups=1):
    # conv_weight(x, g) is bilinear: <gw, conv_weight(x, g)> = <conv(x, gw), g> = <x, conv_transpose(g, gw)>
    needs = ctx.needs
    gx = gg = None
    if needs[0]:
        gx = F.conv_transpose(g, gw, stride=stride, padding=padding,
                              output_padding=_out_padding(ctx.shapes[0][2:], g.shape[2:], kernel_size, stride,
                                                          padding, dilation),
                              dilation=dilation, groups=groups)
    if needs[1]:
        gg = F.conv(x, gw, stride=stride, padding=padding, dilation=dilation, groups=groups)
        if tuple(gg.shape) != tuple(ctx.shapes[1]):         # windows past the ones g has (see conv_transpose)
            gg = F.getitem(gg, (slice(None), slice(None)) + tuple(slice(0, n) for n in ctx.shapes[1][2:]))
    return gx, gg


conv_weight_op.jvp(_jvp.multilinear(conv_weight_op))


def _out_padding(in_sp, out_sp, k, stride, padding, dilation):
    """The ``output_padding`` with which a transposed convolution gives back ``in_sp`` from ``out_sp``."""
    return tuple(xi - ((li - 1) * s - 2 * p + d * (ki - 1) + 1)
                 for xi, li, ki, s, p, d in zip(in_sp, out_sp, k, stride, padding, dilation))


# Note [unfold through the window view]: unfold is the im2col of conv without
# the matmul: the sliding-window view reshaped to (N, C * K, L) is its one copy.
# Its VJP (fold) is a transposed convolution with a one-hot weight per kernel
# tap, ``groups=C``, so every order of derivative is a conv again.
@op("unfold", promote=None, math=None)
def unfold_op(be, x, kernel_size, dilation, padding, stride):
    n, c = x.shape[:2]
    nd = len(kernel_size)
    for i, p in enumerate(padding):
        if p:
            x = be.pad_axis(x, 2 + i, p, p)
    win = be.sliding_windows(x, tuple(range(2, 2 + nd)), kernel_size, stride, dilation)     # (N, C, *L, *K)
    perm = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
    return be.reshape(be.transpose(win, perm), (n, c * math.prod(kernel_size), math.prod(win.shape[2:2 + nd])))


def tap_weight(be, channels, kernel_size, dtype):
    """The one-hot weight ``(channels * K, 1, *kernel_size)``: output channel ``c * K + k`` reads tap ``k`` of ``c``.

    With ``groups=channels`` a convolution by it is ``unfold`` and a transposed one is ``fold``.

    Example:
        >>> from tapegrad.backend import CPU_BACKEND
        >>> from tapegrad.ops.conv import tap_weight
        >>> tap_weight(CPU_BACKEND, 2, (2,), "float32")[:, 0]
        array([[1., 0.],
               [0., 1.],
               [1., 0.],
               [0., 1.]], dtype=float32)
    """
    kk = math.prod(kernel_size)
    eye = be.reshape(be.eye(kk, kk, dtype), (kk, 1) + tuple(kernel_size))
    return be.tile(eye, (channels,) + (1,) * (1 + len(kernel_size)))


@unfold_op.vjp
def _(F, ctx, g, kernel_size, dilation, padding, stride):
    shape = ctx.shapes[0]
    n, c, sp = shape[0], shape[1], tuple(shape[2:])
    out_sp = tuple((x + 2 * p - d * (k - 1) - 1) // s + 1
                   for x, p, d, k, s in zip(sp, padding, dilation, kernel_size, stride))
    be, arr = backend_array(g)
    w = lift(F, tap_weight(be, c, kernel_size, arr.dtype), like=g)
    g = F.reshape(g, (n, c * math.prod(kernel_size)) + out_sp)
    return F.conv_transpose(g, w, stride=stride, padding=padding,
                            output_padding=_out_padding(sp, out_sp, kernel_size, stride, padding, dilation),
                            dilation=dilation, groups=c)


unfold_op.jvp(_jvp.linear(unfold_op))
