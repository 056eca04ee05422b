"""``tapegrad.backends.mps``: Apple's Metal backend, which tapegrad does not have.

Example:
    >>> import tapegrad
    >>> tapegrad.backends.mps.is_available(), tapegrad.backends.mps.is_built()
    (False, False)
"""

__all__ = ["is_available", "is_built"]


def is_available():
    """False: tapegrad has no MPS backend.

    Example:
        >>> import tapegrad
        >>> tapegrad.backends.mps.is_available()
        False
    """
    return False


def is_built():
    """False: tapegrad is not built with MPS.

    Example:
        >>> import tapegrad
        >>> tapegrad.backends.mps.is_built()
        False
    """
    return False
