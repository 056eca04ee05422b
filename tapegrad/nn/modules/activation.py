"""Activation modules (``torch.nn.modules.activation``): ``ReLU``, ``Tanh``, ``Sigmoid``, ``GELU``, ``Softmax``,
``LogSoftmax`` here; the rest (``LeakyReLU``, ``ELU``, ``Hardtanh``, ``PReLU`` ...) in ``_activation_more.py``,
re-exported below so ``nn.modules.activation.<Class>`` resolves for all of them."""
from .. import functional as F
from ..module import Module

__all__ = ["ReLU", "Tanh", "Sigmoid", "GELU", "Softmax", "LogSoftmax"]


class ReLU(Module):
    """``max(x, 0)`` elementwise.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.ReLU()(tapegrad.tensor([-1.0, 1.0]))
        tensor([0., 1.])
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu_(input) if self.inplace else F.relu(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """Hyperbolic tangent elementwise.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Tanh()(tapegrad.zeros(1))
        tensor([0.])
    """

    def forward(self, input):
        return F.tanh(input)


class Sigmoid(Module):
    """Logistic sigmoid elementwise.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Sigmoid()(tapegrad.zeros(1))
        tensor([0.5000])
    """

    def forward(self, input):
        return F.sigmoid(input)


class GELU(Module):
    """Gaussian error linear unit (``approximate="tanh"`` for the tanh form).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.GELU()
        GELU(approximate='none')
    """

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """Softmax along ``dim``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Softmax(dim=-1)(tapegrad.zeros(2))
        tensor([0.5000, 0.5000])
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """Log-softmax along ``dim``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.LogSoftmax(dim=1)
        LogSoftmax(dim=1)
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


from ._attention import MultiheadAttention  # noqa: E402,F401  (torch.nn.modules.activation.MultiheadAttention)
from ._activation_more import *  # noqa: E402,F401,F403
from ._activation_more import __all__ as _more  # noqa: E402
__all__ += _more
