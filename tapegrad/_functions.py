"""The public math functions (``tapegrad.exp``, ``tapegrad.sum`` ...), re-exported from their op families."""
from .ops import FAMILIES as _FAMILIES

__all__ = []
for _mod in _FAMILIES:
    for _name in _mod.__all__:
        globals()[_name] = getattr(_mod, _name)
        __all__.append(_name)
