"""``parameters_to_vector`` and ``vector_to_parameters``, as ``torch.nn.utils.convert_parameters``."""
from ..._tensor import Tensor
from ...ops.joining import cat as _cat

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_device(p, device):
    if device is None:
        return p.device
    if p.device != device:
        raise TypeError(f"Found two parameters on different devices, this is currently not supported: "
                        f"{device} and {p.device}")
    return device


def parameters_to_vector(parameters):
    """Flatten ``parameters`` into one 1-D tensor (recorded, so gradients flow back).

    Example:
        >>> from tapegrad import nn
        >>> nn.utils.parameters_to_vector(nn.Linear(3, 2).parameters()).shape
        tapegrad.Size([8])
    """
    device = None
    vec = []
    for p in parameters:
        device = _check_device(p, device)
        vec.append(p.view(-1))
    return _cat(vec)


def vector_to_parameters(vec, parameters):
    """Set the values of ``parameters`` from consecutive slices of the 1-D tensor ``vec``.

    Each parameter's ``.data`` becomes a view of ``vec``, as in PyTorch.

    Example:
        >>> import tapegrad
        >>> from tapegrad import nn
        >>> lin = nn.Linear(2, 1)
        >>> nn.utils.vector_to_parameters(tapegrad.arange(3.0), lin.parameters())
        >>> lin.weight, lin.bias
        (Parameter containing:
        tensor([[0., 1.]], requires_grad=True), Parameter containing:
        tensor([2.], requires_grad=True))
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    device = None
    pointer = 0
    for p in parameters:
        device = _check_device(p, device)
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p).data
        pointer += n
