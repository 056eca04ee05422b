"""``tapegrad.device``: where a tensor's data lives ("cpu" or "cuda")."""

__all__ = ["device", "parse_to_args", "get_default_device", "set_default_device"]

SUPPORTED = "'cpu' and 'cuda'"


class device:
    """A device, like ``torch.device``: ``device("cpu")``, ``device("cuda")``, ``device("cuda:0")``.

    Example:
        >>> import tapegrad
        >>> tapegrad.device("cpu")
        device(type='cpu')
    """
    __slots__ = ("type", "index")

    def __new__(cls, spec="cpu", index=None):
        if isinstance(spec, device):
            return spec
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda', got {spec!r}")
        kind, _, idx = spec.partition(":")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(f"unsupported device {spec!r}; supported devices are {SUPPORTED}")
        if idx:
            index = int(idx)
        if index not in (None, 0):
            raise RuntimeError(f"device {spec!r}: only device index 0 is supported")
        key = (kind, index)
        cached = _CACHE.get(key)
        if cached is None:
            cached = object.__new__(cls)
            cached.type = kind
            cached.index = index
            _CACHE[key] = cached
        return cached

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError):
                return False
        return isinstance(other, device) and other.type == self.type

    def __hash__(self):
        return hash(self.type)

    # Note [default device]: ``with tapegrad.device("cuda"):`` makes it the default device of the factories
    # (``zeros``, ``tensor``, ``rand``...) until the block ends, as ``set_default_device`` does for good.
    def __enter__(self):
        _ENTERED.append(_DEFAULT_DEVICE[0])
        _DEFAULT_DEVICE[0] = self
        return self

    def __exit__(self, *exc):
        _DEFAULT_DEVICE[0] = _ENTERED.pop()
        return False

    def __reduce__(self):       # rebuilt through __new__ (validated, cached); never by setting attributes
        return (device, (str(self),))


_CACHE = {}
_DEFAULT_DEVICE = [None]      # None: the CPU, with no default set (Note [default device])
_ENTERED = []                 # the defaults that ``with device(...)`` blocks replaced
CPU = device("cpu")


def get_default_device():
    """The device factories use when none is given (``set_default_device``, ``with tapegrad.device(...)``).

    Example:
        >>> import tapegrad
        >>> tapegrad.get_default_device()
        device(type='cpu')
    """
    d = _DEFAULT_DEVICE[0]
    if d is None or d.type == "cpu":
        return CPU
    return device(d.type, 0)


def set_default_device(dev):
    """Make ``dev`` the device of new tensors from the factories (``None`` goes back to the CPU).

    Tensors made from others (``*_like``, operations) stay on their inputs' device, as in torch.

    Example:
        >>> import tapegrad
        >>> tapegrad.set_default_device("cpu"); tapegrad.zeros(1).device
        device(type='cpu')
        >>> tapegrad.set_default_device(None)
    """
    _DEFAULT_DEVICE[0] = None if dev is None else device(dev)

_DEVICE = device          # parse_to_args's own ``device`` parameter hides the class


def parse_to_args(args, dtype=None, device=None):
    """``(dtype, device)`` from ``.to``'s positional arguments: a dtype, a device, or a tensor to match.

    Shared by ``Tensor.to`` and ``nn.Module.to``. This floor sits below the
    Tensor, so a tensor is recognised by what it carries (its array, dtype and
    device) rather than by its class.

    Example:
        >>> import tapegrad
        >>> from tapegrad._device import parse_to_args
        >>> parse_to_args(("cpu", tapegrad.float64))
        (tapegrad.float64, 'cpu')
        >>> parse_to_args((tapegrad.ones(1, dtype=tapegrad.int64),))
        (tapegrad.int64, device(type='cpu'))
    """
    for a in args:
        if isinstance(a, (str, _DEVICE)):
            device = a
        elif hasattr(a, "_data") and hasattr(a, "dtype") and hasattr(a, "device"):
            dtype, device = a.dtype, a.device
        elif a is not None:
            dtype = a
    return dtype, device
