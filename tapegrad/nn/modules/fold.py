"""``Unfold`` and ``Fold`` (``torch.nn.modules.fold``): sliding local blocks out of an image and back."""
from .. import functional as F
from ..module import Module

__all__ = ["Unfold", "Fold"]


class Unfold(Module):
    """Extract sliding local blocks: ``(N, C, H, W)`` -> ``(N, C * prod(kernel_size), L)``, as ``torch.nn.Unfold``.

    Example:
        >>> import tapegrad
        >>> m = tapegrad.nn.Unfold(2, padding=1)
        >>> m
        Unfold(kernel_size=2, dilation=1, padding=1, stride=1)
        >>> m(tapegrad.ones(1, 3, 4, 4)).shape
        tapegrad.Size([1, 12, 25])
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Sum sliding local blocks back into an image (``Unfold``'s adjoint), as ``torch.nn.Fold``.

    Example:
        >>> import tapegrad
        >>> m = tapegrad.nn.Fold((4, 5), 2)
        >>> m
        Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=1)
        >>> m(tapegrad.ones(1, 12, 12)).shape
        tapegrad.Size([1, 3, 4, 5])
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
