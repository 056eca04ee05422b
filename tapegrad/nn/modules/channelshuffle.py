"""``torch.nn.modules.channelshuffle``: the ``ChannelShuffle`` module."""
from .. import functional as F
from ..module import Module

__all__ = ["ChannelShuffle"]


class ChannelShuffle(Module):
    """Interleave the channels of ``(N, C, *)`` across ``groups``, as ``torch.nn.ChannelShuffle``.

    Example:
        >>> import tapegrad
        >>> m = tapegrad.nn.ChannelShuffle(2)
        >>> m, m(tapegrad.arange(4.).reshape(1, 4, 1)).flatten()
        (ChannelShuffle(groups=2), tensor([0., 2., 1., 3.]))
    """

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
