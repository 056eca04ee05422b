"""The unpicklers behind ``tapegrad.load`` for pickle-based files (``weights_only`` and trusted).

Note [weights-only unpickling]
A pickle is a program: every global it names is imported and may be called
with arguments the file chooses (``os.system``, ``builtins.eval``,
``numpy.core.multiarray._reconstruct`` with a 10^12-element shape). The
weights-only unpickler resolves globals only from a fixed table: builtin
containers and numbers whose constructors cannot allocate more than the file
holds, ``collections.OrderedDict`` and ``Counter``, ``_codecs.encode`` for
latin-1 only and ``bytearray`` of given data only (how protocol 2 spells bytes), tapegrad's dtype/device/Size types, the
``torch.*`` names PyTorch's files use (mapped to the shims in
``_torch_shims.py``; torch is never imported), and what the user allow-listed
(``tapegrad.serialization.add_safe_globals``). Tensors never appear as
globals: they are persistent ids that the file's reader turns into arrays
read, with bounds, from the archive's own members. Every other global is
refused before it is imported.
"""
import collections
import contextlib
import pickle

from ._source import CheckpointError

__all__ = ["WeightsOnlyError", "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals",
           "RestrictedUnpickler", "TrustedUnpickler"]


class WeightsOnlyError(CheckpointError, pickle.UnpicklingError):
    """A ``weights_only=True`` load met a global that is not allow-listed (the file may try to run code)."""


_user = []                      # entries: an object, or (object, "module.name") as torch allows


def add_safe_globals(safe_globals):
    """Allow-list globals (classes, functions) for ``tapegrad.load(..., weights_only=True)``.

    Args:
        safe_globals: a list of objects, or of ``(object, "module.qualname")``
            pairs naming the path the file uses for the object.

    Example:
        >>> import collections, tapegrad.serialization as ts
        >>> ts.add_safe_globals([collections.Counter])
        >>> collections.Counter in ts.get_safe_globals()
        True
        >>> ts.clear_safe_globals()
    """
    if not isinstance(safe_globals, (list, tuple)):
        raise TypeError(f"add_safe_globals: expected a list of objects, got {type(safe_globals).__name__}")
    for g in safe_globals:
        if isinstance(g, tuple) and not (len(g) == 2 and isinstance(g[1], str)):
            raise TypeError(f"add_safe_globals: a tuple entry must be (object, 'module.name'), got {g!r}")
        _user.append(g)


def get_safe_globals():
    """The user's allow-listed globals (a new list).

    Example:
        >>> import tapegrad.serialization as ts
        >>> ts.get_safe_globals()
        []
    """
    return list(_user)


def clear_safe_globals():
    """Forget every user allow-listed global.

    Example:
        >>> import tapegrad.serialization as ts
        >>> ts.clear_safe_globals(); ts.get_safe_globals()
        []
    """
    _user.clear()


@contextlib.contextmanager
def safe_globals(globals_list):
    """A context manager that allow-lists ``globals_list`` for weights-only loads inside it.

    Example:
        >>> import collections, tapegrad.serialization as ts
        >>> with ts.safe_globals([collections.Counter]):
        ...     collections.Counter in ts.get_safe_globals()
        True
        >>> collections.Counter in ts.get_safe_globals()
        False
    """
    saved = list(_user)
    add_safe_globals(globals_list)
    try:
        yield
    finally:
        _user[:] = saved


def _encode_latin1(obj, encoding="utf-8", errors="strict"):
    # protocol 2 pickles bytes as _codecs.encode(str, "latin1"); other codecs are refused
    if encoding not in ("latin1", "latin-1") or not isinstance(obj, str) or errors != "strict":
        raise WeightsOnlyError(f"_codecs.encode is allowed only as encode(str, 'latin1'), got encoding {encoding!r}")
    return obj.encode("latin1")


def _bytearray(source=b"", *args):
    # bytearray(n) would allocate n bytes the file never held: only copies of given data are allowed
    if isinstance(source, int):
        raise WeightsOnlyError(f"bytearray is allowed only from bytes or a string, not from the integer {source}")
    return bytearray(source, *args)


def _builtin_table():
    table = {f"builtins.{c.__name__}": c for c in (dict, list, tuple, set, frozenset, int, float, complex, bool,
                                                    str, slice)}
    table["__builtin__.set"] = set              # protocol 2 written by Python 2
    table["collections.OrderedDict"] = collections.OrderedDict
    table["collections.Counter"] = collections.Counter            # (MultiStepLR's milestones; torch allows it)
    table["builtins.bytearray"] = _bytearray
    table["_codecs.encode"] = _encode_latin1
    from ... import _dtype
    from ..._device import device
    from ..._tensor import Size
    table["tapegrad._dtype._lookup_name"] = _dtype._lookup_name
    table["tapegrad._device.device"] = device
    table["tapegrad._tensor.Size"] = Size
    from . import _torch_shims
    table.update(_torch_shims.GLOBALS)
    return table


_TABLE = None


def _table():
    global _TABLE
    if _TABLE is None:
        _TABLE = _builtin_table()
    return _TABLE


def _user_lookup(module, name):
    for g in _user:
        obj, path = g if isinstance(g, tuple) else (g, None)
        if path is None:
            path = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', getattr(obj, '__name__', ''))}"
        if path == f"{module}.{name}":
            return obj
    return None


_SIZED = (str, bytes, bytearray, tuple, list, dict, set, frozenset)


class RestrictedUnpickler(pickle._Unpickler):
    """Resolves only the globals of Note [weights-only unpickling]; BUILD only on OrderedDict, Counter, allowed types.

    The pure-Python unpickler, because its opcode table can be narrowed: BUILD
    sets attributes, and on an allowed singleton (a dtype, a cached device) it
    would change it for the whole process. Pickles here are small (tensors are
    persistent ids), so its speed does not matter.
    """
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, persistent_load, size):
        super().__init__(file, encoding="utf-8")
        self._pload = persistent_load
        # Note [copy budget]: an allowed constructor called on a memoized object copies it (tuple(big_list),
        # _codecs.encode(big_str), bytearray(...)), and a pickle can repeat such a call a million times.
        # Every container or string those calls return is charged its length; the total may not exceed twice the
        # pickle's own size (what one pass over the file's own items costs) plus a little.
        self._budget = 2 * size + (1 << 16)

    def persistent_load(self, pid):
        return self._pload(pid)

    def _charged(op):
        def run(self):
            op(self)
            x = self.stack[-1]          # (tensors are views of storages, bounded apart: Note [torch views])
            self._budget -= len(x) if isinstance(x, _SIZED) else 1
            if self._budget < 0:
                raise WeightsOnlyError("Weights only load failed: the pickle's calls build more than twice the "
                                       "pickle's own size (copies of one object, repeated): refused as an "
                                       "allocation bomb")
        return run

    for _code in (pickle.REDUCE, pickle.NEWOBJ, pickle.NEWOBJ_EX):
        dispatch[_code[0]] = _charged(dispatch[_code[0]])
    del _code

    def _load_build(self):
        inst = self.stack[-2]
        kind = type(inst)
        if kind not in (collections.OrderedDict, collections.Counter) and \
                not any(kind is (g[0] if isinstance(g, tuple) else g) for g in _user):
            raise WeightsOnlyError(f"Weights only load failed: the pickle sets the state of a {kind.__name__} "
                                   "(BUILD), which a weights-only load allows only for OrderedDict, Counter and "
                                   "classes allow-listed with tapegrad.serialization.add_safe_globals")
        pickle._Unpickler.load_build(self)

    dispatch[pickle.BUILD[0]] = _load_build

    def find_class(self, module, name):
        obj = _table().get(f"{module}.{name}")
        if obj is None:
            obj = _user_lookup(module, name)
        if obj is None and (module == "torch" or module.startswith("torch.")):
            raise WeightsOnlyError(
                f"Weights only load failed: the file names the PyTorch global {module}.{name}, which tapegrad does "
                "not implement (it reads tensors of tapegrad's dtypes, Parameters, torch.Size, torch.device and "
                "dtypes; a whole torch module or a complex tensor cannot load without torch)")
        if obj is None:
            raise WeightsOnlyError(
                f"Weights only load failed: tapegrad.load(weights_only=True) refuses the global {module}.{name} "
                "(a weights-only load resolves only tensors, builtin containers and numbers, OrderedDict and "
                "tapegrad's dtype/device/Size). If you trust this file, allow-list it with "
                f"tapegrad.serialization.add_safe_globals([{name}]) or the tapegrad.serialization.safe_globals "
                "context manager, or pass weights_only=False (which can run arbitrary code from the file)")
        return obj


class TrustedUnpickler(pickle.Unpickler):
    """Full unpickling (``weights_only=False``), with PyTorch's tensor names mapped to tapegrad's shims."""

    def __init__(self, file, persistent_load):
        super().__init__(file, encoding="utf-8")
        self._pload = persistent_load

    def persistent_load(self, pid):
        return self._pload(pid)

    def find_class(self, module, name):
        if module == "torch" or module.startswith("torch."):
            obj = _table().get(f"{module}.{name}")
            if obj is not None:
                return obj
        return super().find_class(module, name)

