"""The public math functions (``tapegrad.exp``, ``tapegrad.sum`` ...), re-exported from their op families.

Every name here is a plain function defined in its family file, with PyTorch's
parameter names, its own docstring and a doctest; the family's ``OpDef`` goes
by ``<op>_op`` (Note [public functions] in ops/unary.py). tests/test_public_api.py
keeps it so.
"""
from .ops import FAMILIES as _FAMILIES

__all__ = []
for _mod in _FAMILIES:
    for _name in _mod.__all__:
        globals()[_name] = getattr(_mod, _name)
        __all__.append(_name)
