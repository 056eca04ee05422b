"""``Flatten`` and ``Unflatten`` (``torch.nn.modules.flatten``)."""
from ..module import Module

__all__ = ["Flatten", "Unflatten"]


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


class Unflatten(Module):
    """Split dim ``dim`` into the shape ``unflattened_size`` (one entry may be -1).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Unflatten(1, (2, 3))(tapegrad.zeros(4, 6)).shape
        tapegrad.Size([4, 2, 3])
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(dim, int) or isinstance(dim, bool):
            raise TypeError(f"Unflatten: dim must be an int (named dims are not supported), got {dim!r}")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"unflattened_size must be tuple of ints, but found type "
                            f"{type(unflattened_size).__name__}")
        for i, s in enumerate(unflattened_size):
            if not isinstance(s, int) or isinstance(s, bool):
                raise TypeError(f"unflattened_size must be tuple of ints, but found element of type "
                                f"{type(s).__name__} at pos {i}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        return input.unflatten(self.dim, tuple(self.unflattened_size))

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
