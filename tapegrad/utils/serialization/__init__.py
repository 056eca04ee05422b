"""``tapegrad.save`` / ``tapegrad.load``: checkpoints, PyTorch's files, and PyTorch 2.6+'s weights-only safety model.

Formats ``save`` writes:

- **safetensors** (version 2, the default whenever it can represent the
  object: nested dicts/OrderedDicts/lists/tuples of tensors, NumPy arrays,
  numbers, strings, bools, None): the arrays as safetensors tensors, and the
  object's structure (tensor references with dtype, device, requires_grad and
  Parameter-ness) as JSON in ``__metadata__["tapegrad"]``. A flat dict of
  tensors (a state dict) names each tensor by its key, so
  ``safetensors.numpy.load_file`` / ``safetensors.torch.load_file`` read it as
  that state dict.
- **a pickle archive** for anything else (a whole ``Module``, an optimizer,
  any picklable object; subclasses such as ``Counter`` or namedtuples too): a
  zip of ``tapegrad/data.pkl`` in which every tensor and array is a persistent
  id of a ``tapegrad/tensors/<i>.npy`` member (``_pickle_zip.py``).
- **PyTorch's format** with ``save(obj, f, _use_torch_format=True)`` or
  ``save_torch_compatible(obj, f)`` (nested containers of tensors): the zip
  ``torch.save`` writes, which ``torch.load(f, weights_only=True)`` reads
  (``_torch_writer.py``; torch is never imported).

``load`` tells the format by content and also reads plain safetensors files
(as a dict of tensors), ``torch.save`` zip files (their storages viewed
without torch, ``_torch_shims.py``) and the version 1 zip files of earlier
tapegrad releases. Bare pickles (``pickle.dump``, torch's pre-1.6 format) are
refused.

The safety model is PyTorch 2.6+'s: ``weights_only=True`` is the default and
never runs code from the file. Safetensors and version 1 files hold no code;
pickles are read by a restricted unpickler (Note [weights-only unpickling] in
``_unpickler.py``) that resolves only tensors, builtin containers and numbers,
``collections.OrderedDict``/``Counter``, tapegrad's dtype/device/Size, the
``torch._utils._rebuild_tensor_v2``-style names of PyTorch's files (mapped to
shims that build arrays with bounds checks) and what the user allow-lists
with ``tapegrad.serialization.add_safe_globals`` / ``safe_globals``; any other
global raises ``WeightsOnlyError`` naming it. ``weights_only=False`` is the
explicit opt-in to full unpickling, for trusted files only.

Loading is bounded (Note [checkpoint limits] in ``_source.py``): only regular
files, every declared size checked against the file before anything is
allocated (zip members stored, never compressed, inside the file and not
overlapping; a pickle of at most ``LIMITS["pickle_bytes"]``; a torch storage
holding exactly its declared elements; a view inside its storage), each array
read once straight into its own array (peak memory about the checkpoint's
size), and repeated references load as one shared array.

Saving encodes the whole object first (so unsupported values fail before the
file is touched), writes a temporary file in the target's directory, fsyncs
it and renames it over ``path``: an interrupted save leaves either the old
file or the new one. The new file keeps the old one's permission bits, or gets
the umask's default for a new file, like any file writer.
"""
import os
import secrets

from . import _pickle_zip, _safetensors, _torch_writer, _zip_v1
from ._source import CheckpointError, LIMITS, Source
from ._structure import Decoder, Encoder
from ._unpickler import WeightsOnlyError, add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals

__all__ = ["save", "load", "save_torch_compatible", "CheckpointError", "WeightsOnlyError", "LIMITS",
           "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals"]


def save(obj, f, _use_torch_format=False):
    """Save ``obj`` to ``f``: safetensors when JSON can describe it, else a zip of a pickle.

    Args:
        obj: e.g. ``{"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}``
            (written as safetensors), or any picklable object such as a whole
            ``Module`` or optimizer (written as a pickle archive, which
            ``load`` reads under ``weights_only=True`` only for allow-listed classes).
        f: a path, or a writable binary file object.
        _use_torch_format: write ``torch.save``'s format instead (nested
            containers of tensors only), which ``torch.load(f, weights_only=True)`` reads.

    Example:
        >>> import os, tempfile, tapegrad
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.tg")
        >>> tapegrad.save({"w": tapegrad.ones(2), "step": 3}, path)
        >>> tapegrad.load(path)
        {'w': tensor([1., 1.]), 'step': 3}
    """
    if _use_torch_format:
        encoded = _torch_writer.encode(obj)
        return _write(f, lambda fh: _torch_writer.write(fh, encoded))
    try:
        enc = Encoder(obj)
    except TypeError as e:
        if "cannot save an object of type" not in str(e):
            raise
        encoded = _pickle_zip.encode(obj)
        return _write(f, lambda fh: _pickle_zip.write(fh, encoded))
    if hasattr(f, "write"):
        _safetensors.write(f, enc.root, enc.arrays, enc.names)
        return
    _atomic(os.fspath(f), lambda tmp: _safetensors.write(tmp, enc.root, enc.arrays, enc.names))


def save_torch_compatible(obj, f):
    """Save nested dicts/lists/tuples of tensors in ``torch.save``'s zip format, without importing torch.

    ``torch.load(f, weights_only=True)`` reads the file; so does ``tapegrad.load``.

    Args:
        obj: e.g. ``model.state_dict()``.
        f: a path, or a writable binary file object.

    Example:
        >>> import io, tapegrad
        >>> from tapegrad.utils.serialization import save_torch_compatible
        >>> buf = io.BytesIO(); save_torch_compatible({"w": tapegrad.arange(3.0)}, buf)
        >>> _ = buf.seek(0); tapegrad.load(buf)
        {'w': tensor([0., 1., 2.])}
    """
    save(obj, f, _use_torch_format=True)


def _write(f, writer):
    if hasattr(f, "write"):
        writer(f)
        return

    def to_path(tmp):
        with open(tmp, "wb") as fh:
            writer(fh)
    _atomic(os.fspath(f), to_path)


def _atomic(path, write_to):
    tmp, mode = _create_temp(path)
    try:
        write_to(tmp)
        fd = os.open(tmp, os.O_RDWR | getattr(os, "O_BINARY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, mode)             # (safetensors replaces the file it writes with a 0600 one)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _create_temp(path):
    """Reserve a temporary name next to ``path``; returns it and the mode the checkpoint gets.

    The mode is ``path``'s permission bits when it exists, else what a new file
    gets: the temporary file is created with 0o666 so that the kernel applies
    the umask (reading the umask from Python would briefly change it for every thread).
    """
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as e:
        why = f"the directory {directory!r} does not exist" if isinstance(e, FileNotFoundError) else e.strerror
        raise type(e)(e.errno, f"tapegrad.save: cannot write {path!r}: {why}", path) from e
    try:
        mode = os.fstat(fd).st_mode & 0o7777
    finally:
        os.close(fd)
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        pass
    return tmp, mode


def load(f, map_location=None, weights_only=None):
    """Load an object saved by ``tapegrad.save`` (or ``torch.save``, or a safetensors file).

    With ``weights_only=True`` (the default, as in PyTorch 2.6+) loading never
    executes code from the file and allocates only what it holds: safetensors
    files and version 1 checkpoints carry no code at all, and pickle archives
    (tapegrad's, ``torch.save``'s) are read by a restricted unpickler that
    resolves only tensors, builtin containers and numbers, ``OrderedDict``,
    tapegrad's dtype/device/Size and what ``tapegrad.serialization.add_safe_globals``
    allow-lists. ``weights_only=False`` unpickles anything: only for files you trust.

    Args:
        f: a path, or a readable, seekable binary file object.
        map_location: where tensors go: None (where they were saved), a device
            or device string (``"cpu"``), or a dict like ``{"cuda": "cpu"}``.
        weights_only: True or None (the default): refuse any global that is
            not allow-listed; False: full unpickling of pickle archives (trusted files only).

    Returns:
        the saved object, with tensors restored with their dtype (Parameters
        as Parameters, ``requires_grad`` as saved); references to one tensor
        load as one tensor. A plain safetensors file loads as a dict of tensors.

    Raises:
        CheckpointError: the file is not a regular file, is truncated,
            corrupted, claims more than it holds or more than the limits in
            ``LIMITS``, or is not a checkpoint.
        WeightsOnlyError: (a CheckpointError and a ``pickle.UnpicklingError``)
            under ``weights_only=True``, the pickle names a global that is not allow-listed.

    Example:
        >>> import io, tapegrad
        >>> buf = io.BytesIO(); tapegrad.save([tapegrad.tensor([1, 2]), (1.5, None)], buf)
        >>> _ = buf.seek(0); tapegrad.load(buf, map_location="cpu")
        [tensor([1, 2]), (1.5, None)]
    """
    if weights_only not in (None, True, False):
        raise TypeError(f"tapegrad.load: weights_only must be True, False or None, got {weights_only!r}")
    src = Source(f)
    try:
        return _load(src, map_location, weights_only is not False)
    finally:
        src.close()


def _load(src, map_location, weights_only):
    if src.size == 0:
        src.fail("the file is empty")
    head = src.read_at(0, min(src.size, 9))
    if _zip_v1.looks_like(head):
        z, names = _zip_v1.open_archive(src)
        member = _pickle_zip.pickle_member(names, src.fail)
        if member is not None:
            return _pickle_zip.read(src, z, names, member, map_location, weights_only)
        return _zip_v1.read(src, z, names, lambda array: Decoder(array, src.fail, map_location))
    if not _safetensors.looks_like(head, src.size):
        if head[:1] == b"\x80" or head[:2] in (b"(d", b"(l", b"}q"):
            src.fail("it is a bare pickle (e.g. written by pickle.dump or torch.save's legacy format), not a "
                     "zip archive; tapegrad.load reads pickles only inside tapegrad's or torch.save's zip format")
        src.fail("it is neither a safetensors file nor a zip checkpoint (tapegrad's or torch.save's)")
    structure, arrays = _safetensors.read(src)
    if structure is None:                   # a plain safetensors file
        from ._structure import tapegrad_dtype
        root = {"dict": [[n, {"tensor": n, "dtype": _dtype_name(a, n, src.fail, tapegrad_dtype)}]
                         for n, a in arrays.items()]}
    else:
        root = structure["root"]

    def array(name):
        a = arrays.get(name) if isinstance(name, str) else None
        if a is None:
            src.fail(f"bad tensor reference {name!r}")
        return a
    return Decoder(array, src.fail, map_location).decode(root)


def _dtype_name(a, name, fail, tapegrad_dtype):
    if tapegrad_dtype(a.dtype.name) is None:
        from ..._dtype import SUPPORTED
        fail(f"tensor {name!r} has dtype {a.dtype}, which tapegrad tensors do not support ({SUPPORTED})")
    return a.dtype.name
