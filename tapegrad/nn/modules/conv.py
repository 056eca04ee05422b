"""Convolution layers (``torch.nn.modules.conv``): ``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d``.

PyTorch's constructor signatures, checks, attributes (``kernel_size``,
``stride``... as tuples; ``padding`` a tuple or ``"same"``/``"valid"``),
initialization (kaiming-uniform with ``a=sqrt(5)``, bias U(-1/sqrt(fan_in),
1/sqrt(fan_in))) and ``extra_repr``. A ``padding_mode`` other than zeros pads
with ``F.pad`` first, as PyTorch does.
"""
import math

from ... import _creation as C
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


def _ntuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


class _ConvNd(Module):
    """The state and checks shared by convolutions and transposed convolutions."""
    dims = 2
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding, groups,
                 bias, padding_mode, device=None, dtype=None):
        super().__init__()
        d = self.dims
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        kernel_size, stride, dilation = _ntuple(kernel_size, d), _ntuple(stride, d), _ntuple(dilation, d)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = _ntuple(padding, d)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, but got padding_mode={padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.output_padding = _ntuple(output_padding, d)
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's order: last dim first, (left, right) each (a list for strings, a tuple otherwise, as PyTorch)
        if padding == "valid":
            self._reversed_padding_repeated_twice = [0, 0] * d
        elif padding == "same":
            self._reversed_padding_repeated_twice = []
            for k, dl in zip(reversed(kernel_size), reversed(dilation)):
                total = dl * (k - 1)
                self._reversed_padding_repeated_twice += [total // 2, total - total // 2]
        else:
            self._reversed_padding_repeated_twice = tuple(p for p in reversed(padding) for _ in range(2))
        shape = ((in_channels, out_channels // groups) if self.transposed
                 else (out_channels, in_channels // groups)) + kernel_size
        self.weight = Parameter(C.empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(C.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw weight and bias from PyTorch's default distributions."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.weight.shape[2:])
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        fn = (F.conv1d, F.conv2d, F.conv3d)[self.dims - 1]
        if self.padding_mode != "zeros":
            return fn(F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode), weight, bias,
                      self.stride, 0, self.dilation, self.groups)
        return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D convolution layer over ``(N, C_in, L)`` or ``(C_in, L)``, as ``torch.nn.Conv1d``.

    Example:
        >>> import tapegrad
        >>> m = tapegrad.nn.Conv1d(2, 4, 3, padding=1)
        >>> m
        Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=(1,))
        >>> m(tapegrad.ones(5, 2, 7)).shape
        tapegrad.Size([5, 4, 7])
    """
    dims = 1


class Conv2d(_Conv):
    """2-D convolution layer over ``(N, C_in, H, W)`` or ``(C_in, H, W)``, as ``torch.nn.Conv2d``.

    Example:
        >>> import tapegrad
        >>> m = tapegrad.nn.Conv2d(3, 8, 3, stride=2, padding_mode="reflect", padding=1)
        >>> m
        Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), padding_mode=reflect)
        >>> m(tapegrad.ones(2, 3, 9, 9)).shape
        tapegrad.Size([2, 8, 5, 5])
    """
    dims = 2


class Conv3d(_Conv):
    """3-D convolution layer over ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``, as ``torch.nn.Conv3d``.

    Example:
        >>> import tapegrad
        >>> m = tapegrad.nn.Conv3d(1, 2, 2, bias=False)
        >>> m
        Conv3d(1, 2, kernel_size=(2, 2, 2), stride=(1, 1, 1), bias=False)
        >>> m(tapegrad.ones(1, 3, 3, 3)).shape
        tapegrad.Size([2, 2, 2, 2])
    """
    dims = 3


class _ConvTranspose(_ConvNd):
    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding, groups,
                         bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        """The ``output_padding`` that gives ``output_size`` (PyTorch's rule and errors), or the layer's own."""
        if output_size is None:
            return self.output_padding
        d = self.dims
        lead = 2 if input.ndim == d + 2 else 1
        output_size = tuple(output_size)
        if len(output_size) == lead + d:
            output_size = output_size[lead:]
        if len(output_size) != d:
            raise ValueError(f"ConvTranspose{d}D: for {input.ndim}D input, output_size must have {d} or {lead + d} "
                             f"elements (got {len(output_size)})")
        mins = [(input.shape[i + lead] - 1) * self.stride[i] - 2 * self.padding[i]
                + self.dilation[i] * (self.kernel_size[i] - 1) + 1 for i in range(d)]
        maxs = [m + self.stride[i] - 1 for i, m in enumerate(mins)]
        for want, lo, hi in zip(output_size, mins, maxs):
            if not lo <= want <= hi:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes range from {mins} to "
                                 f"{maxs} (for an input of {tuple(input.shape[lead:])})")
        return tuple(want - lo for want, lo in zip(output_size, mins))

    def forward(self, input, output_size=None):
        fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self.dims - 1]
        return fn(input, self.weight, self.bias, self.stride, self.padding, self._output_padding(input, output_size),
                  self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution layer, as ``torch.nn.ConvTranspose1d``; weight ``(C_in, C_out / groups, k)``.

    Example:
        >>> import tapegrad
        >>> m = tapegrad.nn.ConvTranspose1d(4, 2, 3, stride=2)
        >>> m(tapegrad.ones(1, 4, 5)).shape, m(tapegrad.ones(1, 4, 5), output_size=[12]).shape
        (tapegrad.Size([1, 2, 11]), tapegrad.Size([1, 2, 12]))
    """
    dims = 1


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution layer, as ``torch.nn.ConvTranspose2d``; weight ``(C_in, C_out / groups, kH, kW)``.

    Example:
        >>> import tapegrad
        >>> m = tapegrad.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
        >>> m
        ConvTranspose2d(4, 2, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))
        >>> m(tapegrad.ones(1, 4, 5, 5)).shape
        tapegrad.Size([1, 2, 10, 10])
    """
    dims = 2


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution layer, as ``torch.nn.ConvTranspose3d``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.ConvTranspose3d(2, 2, 2, groups=2)(tapegrad.ones(2, 2, 2, 2)).shape
        tapegrad.Size([2, 3, 3, 3])
    """
    dims = 3
