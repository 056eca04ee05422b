"""Dropout layers (``torch.nn.modules.dropout``)."""
from .. import functional as F
from ..module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Randomly zero elements with probability ``p`` while training (scaling the rest by 1/(1-p)).

    Example:
        >>> import tapegrad
        >>> d = tapegrad.nn.Dropout(0.5).eval()
        >>> d(tapegrad.ones(3))
        tensor([1., 1., 1.])
    """

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` inputs while training.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Dropout1d(0.2)
        Dropout1d(p=0.2, inplace=False)
    """

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels of ``(N, C, H, W)`` inputs while training (a 3-D input is ``(N, C, L)``, as in PyTorch).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Dropout2d(0.5).eval()(tapegrad.ones(1, 1, 2, 2)).sum()
        tensor(4.)
    """

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` inputs while training.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Dropout3d(0.5).eval()(tapegrad.ones(1, 1, 1, 2, 2)).sum()
        tensor(4.)
    """

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Alpha dropout (keeps SELU's self-normalizing mean and variance) while training.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.AlphaDropout(0.5).eval()(tapegrad.ones(2))
        tensor([1., 1.])
    """

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training, self.inplace)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels while training.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.FeatureAlphaDropout(0.5).eval()(tapegrad.ones(1, 2)).tolist()
        [[1.0, 1.0]]
    """

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training, self.inplace)
