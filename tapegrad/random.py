"""``tapegrad.random``, as ``torch.random``: the default generator's seed and state, and ``fork_rng``.

Example:
    >>> import tapegrad
    >>> _ = tapegrad.random.manual_seed(1); a = tapegrad.rand(2)
    >>> with tapegrad.random.fork_rng():
    ...     _ = tapegrad.rand(5)
    >>> _ = tapegrad.random.manual_seed(1); bool((tapegrad.rand(2) == a).all())
    True
"""
import contextlib

from . import backend as B
from . import _generator as G
from ._creation import manual_seed, seed
from ._generator import Generator, default_generator, get_rng_state, initial_seed, set_rng_state

__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed",
           "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """Save the random state of the CPU (and of CUDA, when it is loaded) and restore it when the block ends.

    Draws inside the block do not move the streams seen after it.

    Args:
        devices: CUDA device indices to fork (tapegrad has device 0 only; ``[]`` forks the CPU alone).
        enabled: False makes the block a no-op.
        device_type: ``"cuda"`` (the only accelerator tapegrad has) or None.

    Example:
        >>> import tapegrad
        >>> s = tapegrad.get_rng_state()
        >>> with tapegrad.random.fork_rng(devices=[]):
        ...     _ = tapegrad.randn(3)
        >>> bool((tapegrad.get_rng_state() == s).all())
        True
    """
    if not enabled:
        yield
        return
    if device_type not in (None, "cuda"):
        raise RuntimeError(f"{_caller}: device_type {device_type!r} is not supported: tapegrad has only 'cuda'")
    if devices is not None:
        devices = list(devices)
        for d in devices:
            idx = d.index if hasattr(d, "index") else int(str(d).rpartition(":")[2] or 0) \
                if isinstance(d, str) else int(d)
            if idx not in (0, None):
                raise RuntimeError(f"{_caller}: {_devices_kw} must be CUDA device indices; tapegrad has device 0 "
                                   f"only, got {d!r}")
    gens = [default_generator]
    cuda = B.BY_DEVICE.get("cuda")
    if cuda is not None and devices != []:
        gens.append(G.default_for(cuda))
    states = [g.get_state() for g in gens]
    try:
        yield
    finally:
        for g, s in zip(gens, states):
            g.set_state(s)
