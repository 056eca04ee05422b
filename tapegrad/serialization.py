"""``tapegrad.serialization``, like ``torch.serialization``: the weights-only allow-list and the save/load functions.

``tapegrad.load(f)`` is weights-only by default: a pickle archive may name
only tensors, builtin containers and numbers, ``collections.OrderedDict``,
tapegrad's dtype/device/Size, and the globals allow-listed here (Note
[weights-only unpickling] in ``tapegrad/utils/serialization/_unpickler.py``).
Allow-list a class of your own to load objects holding it without trusting
the whole file; pass ``weights_only=False`` only for files you trust.

Example:
    >>> import io, collections, tapegrad
    >>> buf = io.BytesIO(); tapegrad.save(collections.ChainMap({"a": 2}), buf)
    >>> with tapegrad.serialization.safe_globals([collections.ChainMap]):
    ...     _ = buf.seek(0); tapegrad.load(buf)
    ChainMap({'a': 2})
"""
from .utils.serialization import (CheckpointError, LIMITS, WeightsOnlyError, add_safe_globals, clear_safe_globals,
                                  get_safe_globals, load, safe_globals, save, save_torch_compatible)

__all__ = ["save", "load", "save_torch_compatible", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals", "CheckpointError", "WeightsOnlyError", "LIMITS"]
