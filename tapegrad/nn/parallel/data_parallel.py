"""``nn.parallel.DataParallel`` on one device: the wrapped module itself, under PyTorch's ``module.`` prefix."""
from ..module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    """Wrap ``module`` as ``torch.nn.DataParallel`` does; on one device a call is the module's own call.

    tapegrad runs on a single device, so no replicas are made and the batch is
    not split along ``dim``: the result equals ``module(*inputs)``. The module
    is registered as ``self.module``, so ``state_dict`` keys carry PyTorch's
    ``module.`` prefix.

    Args:
        module: the module to run.
        device_ids: accepted for compatibility; at most one device is used.
        output_device: accepted for compatibility.
        dim: the batch dimension PyTorch would scatter along (kept as ``self.dim``).

    Example:
        >>> import tapegrad
        >>> from tapegrad import nn
        >>> dp = nn.DataParallel(nn.Linear(2, 1))
        >>> list(dp.state_dict()), dp(tapegrad.ones(3, 2)).shape
        (['module.weight', 'module.bias'], tapegrad.Size([3, 1]))
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be an nn.Module, got {type(module).__name__}")
        self.module = module
        self.device_ids = [] if device_ids is None else list(device_ids)
        self.output_device = output_device if output_device is not None else (
            self.device_ids[0] if self.device_ids else None)
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
