"""Normalization layers over trailing or grouped dims: ``LayerNorm`` (``torch.nn.modules.normalization``)."""
import numbers

from ... import _creation as C
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["LayerNorm"]


def _shape(normalized_shape, cls):
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    try:
        shape = tuple(int(s) for s in normalized_shape)
    except TypeError:
        raise TypeError(f"{cls}: normalized_shape must be an int or a sequence of ints, got "
                        f"{normalized_shape!r}") from None
    return shape


class LayerNorm(Module):
    """Layer normalization over the trailing ``normalized_shape`` dims, with an optional elementwise affine.

    ``weight`` starts at ones and ``bias`` at zeros (both of shape
    ``normalized_shape``), as in PyTorch; ``bias=False`` keeps only the weight.

    Example:
        >>> import tapegrad
        >>> ln = tapegrad.nn.LayerNorm(4)
        >>> ln
        LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)
        >>> ln(tapegrad.arange(8.0).reshape(2, 4)).sum(1).abs().max().item() < 1e-5
        True
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape(normalized_shape, "LayerNorm")
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(C.empty(*self.normalized_shape, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(C.empty(*self.normalized_shape, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Weight to ones, bias to zeros."""
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
