"""Instance normalization: ``InstanceNorm1d``, ``InstanceNorm2d``, ``InstanceNorm3d``
(``torch.nn.modules.instancenorm``)."""
import warnings

from .. import functional as F
from .batchnorm import _NormBase

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _InstanceNorm(_NormBase):
    _no_batch = 0

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None,
                 dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input):
        if input.ndim not in (self._no_batch, self._no_batch + 1):
            raise ValueError(f"{type(self).__name__}: expected {self._no_batch}D or {self._no_batch + 1}D input "
                             f"(got {input.ndim}D input)")
        fdim = input.ndim - self._no_batch
        if input.shape[fdim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={fdim} to match num_features ({self.num_features}), "
                                 f"but got: {input.shape[fdim]}.")
            warnings.warn(f"input's size at dim={fdim} does not match num_features. You can silence this warning by "
                          "not passing in num_features, which is not used because affine=False", stacklevel=2)
        unbatched = input.ndim == self._no_batch
        x = input.unsqueeze(0) if unbatched else input
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            self.momentum if self.momentum is not None else 0.0, self.eps)
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of ``(N, C, L)`` or ``(C, L)`` inputs: each channel of each sample over ``L``.

    ``affine`` and ``track_running_stats`` are off by default, as in PyTorch.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.InstanceNorm1d(3)
        InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)
    """
    _no_batch = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of ``(N, C, H, W)`` or ``(C, H, W)`` inputs over ``H, W``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.InstanceNorm2d(2, affine=True)(tapegrad.randn(2, 2, 3, 3)).shape
        tapegrad.Size([2, 2, 3, 3])
    """
    _no_batch = 3


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` inputs over ``D, H, W``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.InstanceNorm3d(2)(tapegrad.randn(2, 2, 2, 2, 2)).shape
        tapegrad.Size([2, 2, 2, 2, 2])
    """
    _no_batch = 4
