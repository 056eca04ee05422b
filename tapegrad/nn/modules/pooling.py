"""Pooling modules (``torch.nn.modules.pooling``): max, average, power-average, adaptive pooling and max unpooling.

Each stores its arguments as PyTorch does (so ``repr`` matches) and calls its
``nn.functional`` twin (nn/_functional/pooling.py).
"""
from .. import functional as F
from ..module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "LPPool1d", "LPPool2d",
           "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
           "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "AdaptiveMaxPool3d", "LPPool3d"]


def _ntuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


class _MaxPoolNd(Module):
    _fn = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding, self.dilation,
                              ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling over ``(N, C, L)`` or ``(C, L)``, as ``torch.nn.MaxPool1d``.

    Example:
        >>> import tapegrad
        >>> m = tapegrad.nn.MaxPool1d(2)
        >>> m
        MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
        >>> m(tapegrad.tensor([[1., 4., 2., 3.]]))
        tensor([[4., 3.]])
    """
    _fn = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling over ``(N, C, H, W)`` or ``(C, H, W)``, as ``torch.nn.MaxPool2d``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.MaxPool2d(2)(tapegrad.ones(2, 3, 8, 8)).shape
        tapegrad.Size([2, 3, 4, 4])
    """
    _fn = staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """3-D max pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)``, as ``torch.nn.MaxPool3d``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.MaxPool3d(2, stride=1)(tapegrad.ones(1, 3, 3, 3)).shape
        tapegrad.Size([1, 2, 2, 2])
    """
    _fn = staticmethod(F.max_pool3d)


class _AvgPoolNd(Module):
    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """1-D average pooling over ``(N, C, L)`` or ``(C, L)``, as ``torch.nn.AvgPool1d`` (arguments kept as 1-tuples).

    Example:
        >>> import tapegrad
        >>> m = tapegrad.nn.AvgPool1d(2)
        >>> m
        AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))
        >>> m(tapegrad.tensor([[1., 3., 2., 4.]]))
        tensor([[2., 3.]])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, 1)
        self.stride = _ntuple(stride if stride is not None else kernel_size, 1)
        self.padding = _ntuple(padding, 1)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class _AvgPool23(_AvgPoolNd):
    _fn = None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                              self.count_include_pad, self.divisor_override)


class AvgPool2d(_AvgPool23):
    """2-D average pooling over ``(N, C, H, W)`` or ``(C, H, W)``, as ``torch.nn.AvgPool2d``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.AvgPool2d(2, padding=1)(tapegrad.ones(1, 4, 4)).shape
        tapegrad.Size([1, 3, 3])
    """
    _fn = staticmethod(F.avg_pool2d)


class AvgPool3d(_AvgPool23):
    """3-D average pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)``, as ``torch.nn.AvgPool3d``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.AvgPool3d(2)(tapegrad.ones(1, 1, 4, 4, 4)).shape
        tapegrad.Size([1, 1, 2, 2, 2])
    """
    _fn = staticmethod(F.avg_pool3d)


class _LPPoolNd(Module):
    _fn = None

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return type(self)._fn(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """1-D power-average pooling, as ``torch.nn.LPPool1d``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.LPPool1d(2, 2)(tapegrad.tensor([[3., 4.]]))
        tensor([[5.]])
    """
    _fn = staticmethod(F.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """2-D power-average pooling, as ``torch.nn.LPPool2d``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.LPPool2d(1, 2)(tapegrad.ones(1, 2, 2))
        tensor([[[4.]]])
    """
    _fn = staticmethod(F.lp_pool2d)


class _AdaptiveAvgPoolNd(Module):
    _fn = None

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return type(self)._fn(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """1-D adaptive average pooling to ``output_size`` positions, as ``torch.nn.AdaptiveAvgPool1d``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.AdaptiveAvgPool1d(1)(tapegrad.tensor([[1., 2., 6.]]))
        tensor([[3.]])
    """
    _fn = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """2-D adaptive average pooling to ``output_size`` (None keeps a dim), as ``torch.nn.AdaptiveAvgPool2d``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.AdaptiveAvgPool2d((1, None))(tapegrad.ones(2, 3, 5, 7)).shape
        tapegrad.Size([2, 3, 1, 7])
    """
    _fn = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """3-D adaptive average pooling to ``output_size``, as ``torch.nn.AdaptiveAvgPool3d``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.AdaptiveAvgPool3d(1)(tapegrad.ones(2, 3, 4, 5, 6)).shape
        tapegrad.Size([2, 3, 1, 1, 1])
    """
    _fn = staticmethod(F.adaptive_avg_pool3d)


class _AdaptiveMaxPoolNd(_AdaptiveAvgPoolNd):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return type(self)._fn(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """1-D adaptive max pooling, as ``torch.nn.AdaptiveMaxPool1d``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.AdaptiveMaxPool1d(1)(tapegrad.tensor([[1., 5., 2.]]))
        tensor([[5.]])
    """
    _fn = staticmethod(F.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """2-D adaptive max pooling, as ``torch.nn.AdaptiveMaxPool2d``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.AdaptiveMaxPool2d(2)(tapegrad.ones(1, 3, 5, 5)).shape
        tapegrad.Size([1, 3, 2, 2])
    """
    _fn = staticmethod(F.adaptive_max_pool2d)


class _MaxUnpoolNd(Module):
    _fn = None
    _nd = 1

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, self._nd)
        self.stride = _ntuple(stride if stride is not None else kernel_size, self._nd)
        self.padding = _ntuple(padding, self._nd)

    def forward(self, input, indices, output_size=None):
        return type(self)._fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool1d`` (the non-maximal values become zeros), as ``torch.nn.MaxUnpool1d``.

    Example:
        >>> import tapegrad
        >>> v, i = tapegrad.nn.MaxPool1d(2, return_indices=True)(tapegrad.tensor([[1., 3., 4., 2.]]))
        >>> tapegrad.nn.MaxUnpool1d(2)(v, i)
        tensor([[0., 3., 4., 0.]])
    """
    _fn = staticmethod(F.max_unpool1d)
    _nd = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool2d``, as ``torch.nn.MaxUnpool2d``.

    Example:
        >>> import tapegrad
        >>> m = tapegrad.nn.MaxUnpool2d(2)
        >>> m
        MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))
        >>> v, i = tapegrad.nn.MaxPool2d(2, return_indices=True)(tapegrad.ones(1, 1, 4, 4))
        >>> m(v, i, output_size=(5, 5)).shape
        tapegrad.Size([1, 1, 5, 5])
    """
    _fn = staticmethod(F.max_unpool2d)
    _nd = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool3d``, as ``torch.nn.MaxUnpool3d``.

    Example:
        >>> import tapegrad
        >>> m = tapegrad.nn.MaxUnpool3d(2)
        >>> m
        MaxUnpool3d(kernel_size=(2, 2, 2), stride=(2, 2, 2), padding=(0, 0, 0))
        >>> v, i = tapegrad.nn.MaxPool3d(2, return_indices=True)(tapegrad.ones(1, 1, 4, 4, 4))
        >>> m(v, i).shape
        tapegrad.Size([1, 1, 4, 4, 4])
    """
    _fn = staticmethod(F.max_unpool3d)
    _nd = 3


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """3-D adaptive max pooling, as ``torch.nn.AdaptiveMaxPool3d``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.AdaptiveMaxPool3d(2)(tapegrad.ones(1, 3, 5, 5, 5)).shape
        tapegrad.Size([1, 3, 2, 2, 2])
    """
    _fn = staticmethod(F.adaptive_max_pool3d)


class LPPool3d(_LPPoolNd):
    """3-D power-average pooling, as ``torch.nn.LPPool3d``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.LPPool3d(1, 2)(tapegrad.ones(1, 2, 2, 2))
        tensor([[[[8.]]]])
    """
    _fn = staticmethod(F.lp_pool3d)
