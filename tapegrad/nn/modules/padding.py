"""Padding layers (``torch.nn.modules.padding``): zero, constant, reflection, replication and circular, 1-3 d.

Each stores ``padding`` as PyTorch does (an int becomes ``2 * d`` copies; a
tuple must have ``2 * d`` entries: left, right, then top, bottom, then front,
back) and calls ``F.pad`` (nn/_functional/padding.py) in forward.
"""
from .. import functional as F
from ..module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


def _padding(padding, d, cls):
    if isinstance(padding, int) and not isinstance(padding, bool):
        return (padding,) * (2 * d)
    padding = tuple(padding)
    if len(padding) != 2 * d or not all(isinstance(p, int) and not isinstance(p, bool) for p in padding):
        raise ValueError(f"{cls}: padding must be an int or a tuple of {2 * d} ints, got {padding!r}")
    return padding


class _PadNd(Module):
    """Shared by every padding layer: ``mode`` and the number of padded dims come from the subclass."""
    mode = "constant"
    dims = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding(padding, self.dims, type(self).__name__)

    def forward(self, input):
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


def _doc(cls, mode, d, example):
    cls.__doc__ = (f"Pad the last {d} dim{'s' if d > 1 else ''} {mode}, as ``torch.nn.{cls.__name__}``.\n\n"
                   f"    Example:\n{example}")
    return cls


_SHAPES = {1: "1, 2, 3", 2: "1, 2, 2, 3", 3: "1, 2, 2, 2, 3"}


def _make(name, base, mode, d, fill):
    args = "1, 2.0" if base is _ConstantPadNd else "1"
    example = (f"        >>> import tapegrad\n        >>> m = tapegrad.nn.{name}({args})\n"
               f"        >>> m(tapegrad.ones({_SHAPES[d]})).shape[-1]\n        5\n")
    cls = type(name, (base,), {"mode": mode, "dims": d, "__module__": __name__, "__qualname__": name})
    return _doc(cls, fill, d, example)


ZeroPad1d, ZeroPad2d, ZeroPad3d = (type(f"ZeroPad{d}d", (_ConstantPadNd,), {
    "dims": d, "__module__": __name__, "__qualname__": f"ZeroPad{d}d",
    "__init__": lambda self, padding: _ConstantPadNd.__init__(self, padding, 0.0),
    "extra_repr": _PadNd.extra_repr}) for d in (1, 2, 3))
for _d, _c in zip((1, 2, 3), (ZeroPad1d, ZeroPad2d, ZeroPad3d)):
    _doc(_c, "with zeros", _d, f"        >>> import tapegrad\n        >>> tapegrad.nn.ZeroPad{_d}d(1)(tapegrad.ones("
         f"{_SHAPES[_d]})).shape[-1]\n        5\n")
ConstantPad1d, ConstantPad2d, ConstantPad3d = (_make(f"ConstantPad{d}d", _ConstantPadNd, "constant", d,
                                                     "with a constant") for d in (1, 2, 3))
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = (_make(f"ReflectionPad{d}d", _PadNd, "reflect", d,
                                                           "by reflection") for d in (1, 2, 3))
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = (_make(f"ReplicationPad{d}d", _PadNd, "replicate", d,
                                                              "by replicating the edge") for d in (1, 2, 3))
CircularPad1d, CircularPad2d, CircularPad3d = (_make(f"CircularPad{d}d", _PadNd, "circular", d,
                                                     "circularly (wrapping around)") for d in (1, 2, 3))
