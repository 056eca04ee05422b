"""``Flatten`` (``torch.nn.modules.flatten``)."""
from ..module import Module

__all__ = ["Flatten"]


class Flatten(Module):
    """Flatten dims ``start_dim..end_dim`` into one.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Flatten()(tapegrad.zeros(2, 3, 4)).shape
        tapegrad.Size([2, 12])
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        shape = tuple(input.shape)
        n = max(len(shape), 1)
        s, e = self.start_dim, self.end_dim
        if not (-n <= s < n and -n <= e < n):
            raise IndexError(f"Flatten: start_dim={s}, end_dim={e} out of range for an input of shape {shape}")
        s, e = s % n, e % n
        if s > e:
            raise RuntimeError(f"Flatten: start_dim ({s}) cannot come after end_dim ({e})")
        if not shape:
            return input.reshape((1,))
        mid = 1
        for d in shape[s:e + 1]:
            mid *= d
        return input.reshape(shape[:s] + (mid,) + shape[e + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
