"""``tapegrad.backends.cudnn``: torch's cuDNN flags, accepted and remembered; tapegrad has no cuDNN, so they
change nothing (convolutions on CUDA run tapegrad's own kernels, which are deterministic).

Example:
    >>> import tapegrad.backends.cudnn as cudnn
    >>> cudnn.deterministic, cudnn.enabled, cudnn.is_available()
    (False, True, False)
"""
import contextlib

__all__ = ["benchmark", "deterministic", "enabled", "allow_tf32", "benchmark_limit", "is_available", "version",
           "flags"]

benchmark = False
deterministic = False
enabled = True
allow_tf32 = True
benchmark_limit = 10


def is_available():
    """False: tapegrad does not use cuDNN.

    Example:
        >>> import tapegrad
        >>> tapegrad.backends.cudnn.is_available()
        False
    """
    return False


def version():
    """None: no cuDNN library is loaded.

    Example:
        >>> import tapegrad
        >>> tapegrad.backends.cudnn.version() is None
        True
    """
    return None


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, deterministic=False, allow_tf32=True):
    """Set the four flags for a block and restore them after it (they have no effect in tapegrad).

    Example:
        >>> import tapegrad.backends.cudnn as cudnn
        >>> with cudnn.flags(enabled=True, benchmark=True):
        ...     cudnn.benchmark
        True
        >>> cudnn.benchmark
        False
    """
    g = globals()
    names = ("enabled", "benchmark", "deterministic", "allow_tf32")
    old = {n: g[n] for n in names}
    g.update(enabled=enabled, benchmark=benchmark, deterministic=deterministic, allow_tf32=allow_tf32)
    try:
        yield
    finally:
        g.update(old)
