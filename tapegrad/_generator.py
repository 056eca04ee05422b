"""``tapegrad.Generator`` and ``tapegrad.default_generator``: random streams, as ``torch.Generator``.

Note [generator streams]: every backend owns one stream (``backend.rng``: a NumPy ``Generator`` on the CPU, a
Philox key and counter on CUDA); its random methods (``rand``, ``randn``, ``randint``, ``permutation``...) draw
from it. That stream *is* the device's default generator: ``default_generator`` reads and writes the backend's
``rng`` rather than holding a copy, so ``tapegrad.manual_seed`` and ``default_generator.manual_seed`` are one
stream. A ``Generator()`` made by the user owns a stream of the same kind; ``draw`` lends it to the backend for
one call (the backend's own stream is put back even when the call raises), so the backends' interface stays a
stream-less one and a draw with ``generator=`` never moves the global stream.
"""
import copy
import random as _random

import numpy as np

from . import backend as B
from ._device import device as _device
from ._tensor import Tensor

__all__ = ["Generator", "default_generator", "initial_seed", "get_rng_state", "set_rng_state"]

_TORCH_DEFAULT_SEED = 67280421310721        # torch.Generator().initial_seed()
_U64 = 1 << 64


def _check_seed(seed, fn):
    """``seed`` as torch reads it: an int in [-2**63, 2**64), negatives wrapped modulo 2**64."""
    if isinstance(seed, Tensor):
        seed = seed.item()
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise RuntimeError(f"{fn} expected a long, but got {type(seed).__name__}")
    seed = int(seed)
    if not -(1 << 63) <= seed < _U64:
        raise ValueError(f"{fn}: Overflow when unpacking long long (seed {seed} is outside [-2**63, 2**64))")
    return seed % _U64


def _fresh_stream(be, seed):
    """A new stream of the kind ``be`` draws from, seeded with ``seed``."""
    if be.device_type == "cpu":
        return np.random.default_rng(seed)
    stream = copy.copy(be.rng)
    stream.seed(seed)
    return stream


# A state is a uint8 tensor: the stream's words, little-endian, then the initial seed (8 bytes), as torch's
# state carries the seed (set_state restores initial_seed() too).
def _pack(stream, initial_seed):
    if isinstance(stream, np.random.Generator):
        st = stream.bit_generator.state
        words = [(st["state"]["state"], 16), (st["state"]["inc"], 16), (st["has_uint32"], 4), (st["uinteger"], 4)]
    else:                                           # the CUDA backend's Philox: key words and counter offset
        words = [(int(stream.k0), 4), (int(stream.k1), 4), (int(stream.offset), 8)]
    raw = b"".join(int(v).to_bytes(n, "little") for v, n in words) + initial_seed.to_bytes(8, "little")
    return np.frombuffer(raw, dtype=np.uint8).copy()


def _unpack(stream, raw):
    """Load the words of ``raw`` into ``stream`` (in place); returns the initial seed they carry."""
    vals, pos = [], 0
    sizes = (16, 16, 4, 4) if isinstance(stream, np.random.Generator) else (4, 4, 8)
    for n in sizes:
        vals.append(int.from_bytes(raw[pos:pos + n], "little"))
        pos += n
    if isinstance(stream, np.random.Generator):
        stream.bit_generator.state = {"bit_generator": "PCG64", "state": {"state": vals[0], "inc": vals[1]},
                                      "has_uint32": vals[2], "uinteger": vals[3]}
    else:
        stream.k0, stream.k1, stream.offset = np.uint32(vals[0]), np.uint32(vals[1]), vals[2]
    return int.from_bytes(raw[pos:pos + 8], "little")


def _state_size(be):
    return (16 + 16 + 4 + 4 if be.device_type == "cpu" else 4 + 4 + 8) + 8


class Generator:
    """A random stream for one device, as ``torch.Generator``: pass it as ``generator=`` to random functions.

    A new generator starts from torch's default seed (``67280421310721``); its draws never move the global
    stream (``tapegrad.manual_seed``), nor the other way round. ``get_state``/``set_state`` save and restore it
    as a uint8 tensor (tapegrad's own layout: a state only goes back into a tapegrad generator).

    Args:
        device: the device whose stream kind it makes (``"cpu"`` or ``"cuda"``).

    Example:
        >>> import tapegrad
        >>> g = tapegrad.Generator().manual_seed(3)
        >>> a = tapegrad.rand(2, generator=g)
        >>> bool((a == tapegrad.rand(2, generator=tapegrad.Generator().manual_seed(3))).all())
        True
        >>> g.initial_seed(), g.device
        (3, device(type='cpu'))
    """

    def __init__(self, device="cpu"):
        self.device = _device(device)
        self._backend = B.get(self.device.type)
        self._owns_backend_stream = False
        self._stream = _fresh_stream(self._backend, _TORCH_DEFAULT_SEED)
        self._initial_seed = _TORCH_DEFAULT_SEED

    @classmethod
    def _of_backend(cls, be, initial_seed=0):
        """The default generator of backend ``be``: a view of ``be.rng`` (Note [generator streams])."""
        g = cls.__new__(cls)
        g.device, g._backend, g._owns_backend_stream = _device(be.device_type), be, True
        g._initial_seed = initial_seed
        return g

    @property
    def _rng(self):
        return self._backend.rng if self._owns_backend_stream else self._stream

    def manual_seed(self, seed):
        """Reset the stream to the one ``seed`` starts; returns the generator itself.

        Example:
            >>> import tapegrad
            >>> g = tapegrad.Generator()
            >>> g.manual_seed(-1).initial_seed()
            18446744073709551615
        """
        seed = _check_seed(seed, "manual_seed")
        if self._owns_backend_stream:
            self._backend.seed(seed)
        else:
            self._stream = _fresh_stream(self._backend, seed)
        self._initial_seed = seed
        return self

    def seed(self):
        """Seed the stream from a fresh nondeterministic number and return that seed.

        Example:
            >>> import tapegrad
            >>> g = tapegrad.Generator()
            >>> s = g.seed(); s == g.initial_seed()
            True
        """
        s = _random.SystemRandom().randrange(_U64)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        """The seed the stream was last reset with (``manual_seed``, ``seed`` or a restored state).

        Example:
            >>> import tapegrad
            >>> tapegrad.Generator().initial_seed()
            67280421310721
        """
        return self._initial_seed

    def get_state(self):
        """The stream's state as a 1-d uint8 tensor (a copy: later draws do not change it).

        Example:
            >>> import tapegrad
            >>> g = tapegrad.Generator().manual_seed(0)
            >>> s = g.get_state(); a = tapegrad.randn(3, generator=g)
            >>> bool((tapegrad.randn(3, generator=g.set_state(s)) == a).all())
            True
        """
        return Tensor._make(_pack(self._rng, self._initial_seed), None)

    def set_state(self, new_state):
        """Restore a state from ``get_state`` (of a generator of the same device type); returns the generator.

        Example:
            >>> import tapegrad
            >>> g = tapegrad.Generator().manual_seed(5)
            >>> tapegrad.Generator().set_state(g.get_state()).initial_seed()
            5
        """
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a tapegrad.ByteTensor, but got {type(new_state).__name__}")
        if new_state.dtype.name != "uint8":
            raise TypeError(f"RNG state must be a tapegrad.ByteTensor (uint8), got {new_state.dtype}")
        raw = new_state._backend.to_numpy(new_state._data).reshape(-1).tobytes()
        want = _state_size(self._backend)
        if new_state.ndim != 1 or len(raw) != want:
            raise RuntimeError(f"Generator.set_state: expected a 1-d uint8 state of size {want} for a "
                               f"'{self.device.type}' generator, but found the input RNG state to have shape "
                               f"{tuple(new_state.shape)}")
        stream = copy.deepcopy(self._rng)          # nothing half-set if unpacking fails
        seed = _unpack(stream, raw)
        if self._owns_backend_stream:
            self._backend.rng = stream
        else:
            self._stream = stream
        self._initial_seed = seed
        return self

    def __repr__(self):
        return f"<tapegrad.Generator device='{self.device.type}'>"

    def __reduce__(self):
        # A worker process (or a copy) gets an independent generator with the same state.
        return _rebuild_generator, (self.device.type, _pack(self._rng, self._initial_seed))


def _rebuild_generator(device_type, raw):
    g = Generator(device_type)
    g.set_state(Tensor._make(raw, None))
    return g


default_generator = Generator._of_backend(B.CPU_BACKEND)
_DEFAULTS = {B.CPU_BACKEND: default_generator}


def default_for(be):
    """The default generator of backend ``be`` (its own stream, Note [generator streams])."""
    g = _DEFAULTS.get(be)
    if g is None:
        g = _DEFAULTS[be] = Generator._of_backend(be)
    return g


def draw(generator, be, fn, method, *args):
    """``be.<method>(*args)``, drawing from ``generator``'s stream (the backend's own when None).

    Args:
        generator: a ``Generator`` or None.
        be: the backend of the tensor being made.
        fn: the public function's name, for errors.
        method: the backend's random method name.

    Example:
        >>> import tapegrad
        >>> from tapegrad import backend as B
        >>> g = tapegrad.Generator().manual_seed(0)
        >>> draw(g, B.CPU_BACKEND, "randperm", "permutation", 3).shape
        (3,)
    """
    if generator is None:
        return getattr(be, method)(*args)
    if not isinstance(generator, Generator):
        raise TypeError(f"{fn}(): argument 'generator' must be a tapegrad.Generator, not "
                        f"{type(generator).__name__}")
    if generator._backend is not be:
        raise RuntimeError(f"{fn}: Expected a '{be.device_type}' device type for generator but found "
                           f"'{generator.device.type}'")
    if generator._owns_backend_stream:
        return getattr(be, method)(*args)
    saved = be.rng
    be.rng = generator._stream
    try:
        return getattr(be, method)(*args)
    finally:
        generator._stream = be.rng      # a backend may replace the object it draws from
        be.rng = saved


def initial_seed():
    """The initial seed of the default (CPU) generator.

    Example:
        >>> import tapegrad
        >>> _ = tapegrad.manual_seed(11); tapegrad.initial_seed()
        11
    """
    return default_generator.initial_seed()


def get_rng_state():
    """The state of the default (CPU) generator as a uint8 tensor (``default_generator.get_state()``).

    Example:
        >>> import tapegrad
        >>> s = tapegrad.get_rng_state(); a = tapegrad.rand(2)
        >>> tapegrad.set_rng_state(s); bool((tapegrad.rand(2) == a).all())
        True
    """
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the default (CPU) generator from a state of ``get_rng_state``.

    Example:
        >>> import tapegrad
        >>> tapegrad.set_rng_state(tapegrad.manual_seed(2).get_state()); tapegrad.initial_seed()
        2
    """
    default_generator.set_state(new_state)
