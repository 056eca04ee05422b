"""The activation modules beyond relu/tanh/sigmoid/gelu/softmax, each a thin wrapper of its ``F.`` form
(tapegrad/nn/_functional/activation.py, Note [activation kinks]); ``nn.modules.activation`` re-exports them."""
import warnings

from ... import _creation as C
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["LeakyReLU", "PReLU", "ReLU6", "ELU", "SELU", "CELU", "SiLU", "Mish", "Softplus", "Softsign", "Hardtanh",
           "Hardswish", "Hardsigmoid", "Tanhshrink", "Softshrink", "Hardshrink", "Threshold", "GLU", "LogSigmoid",
           "Softmin", "Softmax2d"]


def _inplace_str(m):
    return ", inplace=True" if m.inplace else ""


class _Inplace(Module):
    """An activation whose only argument is ``inplace``; ``_fn`` names its ``F.`` form."""
    _fn = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return getattr(F, self._fn)(input, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class _Plain(Module):
    """An activation without arguments; ``_fn`` names its ``F.`` form."""
    _fn = None

    def forward(self, input):
        return getattr(F, self._fn)(input)


class LeakyReLU(Module):
    """``x`` for ``x > 0``, else ``negative_slope * x``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.LeakyReLU(0.2)(tapegrad.tensor([-1.0, 1.0]))
        tensor([-0.2000,  1.0000])
    """

    def __init__(self, negative_slope=1e-2, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace_str(self)}"


class PReLU(Module):
    """Leaky ReLU with a learned slope: one (``num_parameters=1``) or one per channel, initialised to ``init``.

    Example:
        >>> import tapegrad
        >>> m = tapegrad.nn.PReLU()
        >>> m, m.weight.tolist()
        (PReLU(num_parameters=1), [0.25])
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        self.num_parameters = num_parameters
        super().__init__()
        self.init = init
        self.weight = Parameter(C.empty(num_parameters, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self):
        """Every slope to ``init``."""
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Hardtanh(Module):
    """Clamp into ``[min_val, max_val]`` (gradient 0 at the bounds).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Hardtanh(-2.0, 2.0)(tapegrad.tensor([-3.0, 3.0]))
        tensor([-2.,  2.])
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`", FutureWarning,
                          stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`", FutureWarning,
                          stacklevel=2)
            max_val = max_value
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace
        if self.max_val <= self.min_val:
            raise ValueError(f"max_val ({self.max_val}) must be greater than min_val ({self.min_val})")

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_str(self)}"


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.ReLU6()(tapegrad.tensor([-1.0, 7.0]))
        tensor([0., 6.])
    """

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ELU(Module):
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.ELU(alpha=0.5)
        ELU(alpha=0.5)
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_str(self)}"


class CELU(ELU):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.CELU(2.0)
        CELU(alpha=2.0)
    """

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)


class SELU(_Inplace):
    """Scaled ELU with the self-normalizing constants.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.SELU()(tapegrad.zeros(1))
        tensor([0.])
    """
    _fn = "selu"


class SiLU(_Inplace):
    """``x * sigmoid(x)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.SiLU(inplace=True)
        SiLU(inplace=True)
    """
    _fn = "silu"


class Mish(_Inplace):
    """``x * tanh(softplus(x))``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Mish()(tapegrad.zeros(1))
        tensor([0.])
    """
    _fn = "mish"


class Hardswish(_Inplace):
    """``x * relu6(x + 3) / 6``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Hardswish()(tapegrad.tensor([3.0]))
        tensor([3.])
    """
    _fn = "hardswish"

    def extra_repr(self):
        return ""


class Hardsigmoid(Hardswish):
    """``relu6(x + 3) / 6``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Hardsigmoid()(tapegrad.tensor([0.0]))
        tensor([0.5000])
    """
    _fn = "hardsigmoid"


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Softplus(beta=2.0)
        Softplus(beta=2.0, threshold=20.0)
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softshrink(Module):
    """Shrink toward 0 by ``lambd``; 0 inside ``[-lambd, lambd]``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Softshrink()(tapegrad.tensor([1.0]))
        tensor([0.5000])
    """
    _fn = "softshrink"

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return getattr(F, self._fn)(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    """``x`` outside ``[-lambd, lambd]``, else 0.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Hardshrink()(tapegrad.tensor([0.4, 1.0]))
        tensor([0., 1.])
    """
    _fn = "hardshrink"


class Threshold(Module):
    """``x`` where ``x > threshold``, else ``value``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Threshold(0.5, -1.0)(tapegrad.tensor([0.0, 1.0]))
        tensor([-1.,  1.])
    """

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace_str(self)}"


class GLU(Module):
    """Gated linear unit along ``dim``: ``a * sigmoid(b)`` of the two halves.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.GLU()(tapegrad.ones(2, 4)).shape
        tapegrad.Size([2, 2])
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(Module):
    """``softmax(-x)`` along ``dim``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Softmin(dim=0)(tapegrad.zeros(2))
        tensor([0.5000, 0.5000])
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softsign(_Plain):
    """``x / (1 + |x|)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Softsign()(tapegrad.tensor([1.0]))
        tensor([0.5000])
    """
    _fn = "softsign"


class Tanhshrink(_Plain):
    """``x - tanh(x)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Tanhshrink()(tapegrad.zeros(1))
        tensor([0.])
    """
    _fn = "tanhshrink"


class LogSigmoid(_Plain):
    """``log(sigmoid(x))``, finite for any ``x``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.LogSigmoid()(tapegrad.tensor([-200.0]))
        tensor([-200.])
    """
    _fn = "logsigmoid"


class Softmax2d(Module):
    """Softmax over the channels (dim -3) of a ``(N, C, H, W)`` or ``(C, H, W)`` input.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Softmax2d()(tapegrad.zeros(1, 2, 1, 1)).flatten()
        tensor([0.5000, 0.5000])
    """

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return F.softmax(input, -3)
