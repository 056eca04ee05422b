"""``PixelShuffle`` and ``PixelUnshuffle`` (``torch.nn.modules.pixelshuffle``): channels to pixel blocks and back."""
from .. import functional as F
from ..module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    """``(*, C r^2, H, W)`` to ``(*, C, H r, W r)``, as ``torch.nn.PixelShuffle``.

    Example:
        >>> import tapegrad
        >>> m = tapegrad.nn.PixelShuffle(2)
        >>> m
        PixelShuffle(upscale_factor=2)
        >>> m(tapegrad.ones(1, 8, 3, 3)).shape
        tapegrad.Size([1, 2, 6, 6])
    """

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``(*, C, H r, W r)`` to ``(*, C r^2, H, W)``, as ``torch.nn.PixelUnshuffle``.

    Example:
        >>> import tapegrad
        >>> m = tapegrad.nn.PixelUnshuffle(3)
        >>> m
        PixelUnshuffle(downscale_factor=3)
        >>> m(tapegrad.ones(2, 6, 6)).shape
        tapegrad.Size([18, 2, 2])
    """

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
