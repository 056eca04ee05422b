"""``tapegrad.accelerator``: the device-agnostic accelerator API of PyTorch 2.6+, over ``tapegrad.cuda``.

Programs write ``device = torch.accelerator.current_accelerator() if
torch.accelerator.is_available() else "cpu"``; tapegrad's one accelerator is
CUDA (a GPU, or numba's simulator when ``NUMBA_ENABLE_CUDASIM=1``), device 0.

Example:
    >>> import tapegrad
    >>> acc = tapegrad.accelerator.current_accelerator()
    >>> dev = acc if tapegrad.accelerator.is_available() else tapegrad.device("cpu")
    >>> tapegrad.ones(2, device=dev).shape
    tapegrad.Size([2])
"""
from . import cuda as _cuda
from ._device import device as _device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "current_device_idx",
           "set_device_index", "set_device_idx", "synchronize", "device_index"]


def is_available():
    """True when an accelerator (CUDA, or its simulator) can run tensors.

    Example:
        >>> import tapegrad
        >>> tapegrad.accelerator.is_available() == tapegrad.cuda.is_available()
        True
    """
    return _cuda.is_available()


def current_accelerator(check_available=False):
    """``device(type='cuda')`` when CUDA can be used; ``None`` otherwise (as PyTorch's CPU-only build).

    ``check_available`` is accepted: tapegrad has no compiled-in accelerator
    that could be present but unusable, so both answers are the same.

    Example:
        >>> import tapegrad
        >>> tapegrad.accelerator.current_accelerator(check_available=True) in (None, tapegrad.device("cuda"))
        True
    """
    return _device("cuda") if _cuda.is_available() else None


def device_count():
    """Number of accelerator devices (0 or 1: tapegrad uses CUDA device 0 only).

    Example:
        >>> import tapegrad
        >>> tapegrad.accelerator.device_count() in (0, 1)
        True
    """
    return _cuda.device_count()


def current_device_index():
    """The index of the current accelerator device (always 0).

    Example:
        >>> import tapegrad
        >>> tapegrad.accelerator.current_device_index()
        0
    """
    return 0


current_device_idx = current_device_index


def set_device_index(device):
    """Select the accelerator device: only index 0 (or ``"cuda"``/``"cuda:0"``) exists; others raise.

    Example:
        >>> import tapegrad
        >>> tapegrad.accelerator.set_device_index(0)
    """
    index = device.index if isinstance(device, _device) else device
    if isinstance(index, str):
        index = _device(index).index
    if index not in (None, 0, -1):
        raise RuntimeError(f"accelerator.set_device_index: tapegrad uses one CUDA device (index 0), got {device!r}")


set_device_idx = set_device_index


class device_index:
    """Context manager selecting an accelerator device index for its block (only 0 or None exist).

    Example:
        >>> import tapegrad
        >>> with tapegrad.accelerator.device_index(0):
        ...     pass
    """

    def __init__(self, device):
        if device is not None:
            set_device_index(device)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def synchronize(device=None):
    """Wait for every queued kernel (no-op when the accelerator was never used).

    Example:
        >>> import tapegrad
        >>> tapegrad.accelerator.synchronize()
    """
    _cuda.synchronize()
