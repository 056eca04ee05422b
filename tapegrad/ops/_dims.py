"""PyTorch ``dim``/``keepdim`` to NumPy ``axis``/``keepdims``: translated once, here."""


def norm_dims(dim, ndim, opname):
    """Return a sorted tuple of non-negative axes (all axes when ``dim`` is None or ())."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dims = (dim,)
    else:
        dims = tuple(dim)
        if not dims:
            return tuple(range(ndim))
    n = max(ndim, 1)
    out = []
    for d in dims:
        if not isinstance(d, int):
            raise TypeError(f"{opname}: dim must be an int or a tuple of ints, got {d!r}")
        if not -n <= d < n:
            raise IndexError(f"{opname}: dimension out of range (expected to be in range of "
                             f"[{-n}, {n - 1}], but got {d})")
        d %= n
        if d in out:
            raise RuntimeError(f"{opname}: dim {d} appears multiple times in the list of dims")
        out.append(d)
    if ndim == 0:
        return ()
    return tuple(sorted(out))


def wrap_dim(dim, ndim, opname):
    n = max(ndim, 1)
    if not isinstance(dim, int):
        raise TypeError(f"{opname}: dim must be an int, got {dim!r}")
    if not -n <= dim < n:
        raise IndexError(f"{opname}: dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def expand_reduced(F, g, shape, axis, keepdims):
    """Reinsert reduced axes into ``g`` (when not keepdims) so it broadcasts against ``shape``."""
    if not keepdims and axis:
        g = F.reshape(g, tuple(1 if i in axis else s for i, s in enumerate(shape)))
    return g
