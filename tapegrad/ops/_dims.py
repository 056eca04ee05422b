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
        g = F.reshape(g, shape=tuple(1 if i in axis else s for i, s in enumerate(shape)))
    return g


def shape_arg(args, opname):
    """``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` all mean the shape ``(2, 3)``."""
    if len(args) == 1 and not isinstance(args[0], int):
        args = args[0]
        if hasattr(args, "tolist") and not isinstance(args, (tuple, list)):
            args = args.tolist()
    try:
        shape = tuple(int(s) for s in args)
    except (TypeError, ValueError):
        raise TypeError(f"{opname}: expected a sequence of ints for the shape, got {args!r}") from None
    for s, a in zip(shape, args):
        if isinstance(a, float):
            raise TypeError(f"{opname}: expected a sequence of ints for the shape, got {args!r}")
    return shape


def varargs_or_keyword(args, value, name, opname):
    """``f(x, 2, 3)`` or ``f(x, name=(2, 3))`` (PyTorch's keyword for a varargs shape): the shape args."""
    if value is None:
        return args
    if args:
        raise TypeError(f"{opname}() got multiple values for argument '{name}'")
    return (value,)


def infer_shape(shape, numel, opname, in_shape):
    """Resolve one ``-1`` in ``shape`` so that it holds ``numel`` elements; raise when impossible."""
    shape = tuple(shape)
    free = [i for i, s in enumerate(shape) if s == -1]
    if len(free) > 1:
        raise RuntimeError(f"{opname}: only one dimension can be inferred, got shape {list(shape)}")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"{opname}: invalid shape dimension in {list(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if free:
        if known == 0 or numel % known:
            raise RuntimeError(f"{opname}: shape '{list(shape)}' is invalid for input of size {numel} "
                               f"(input shape {tuple(in_shape)})")
        shape = shape[:free[0]] + (numel // known,) + shape[free[0] + 1:]
    elif known != numel:
        raise RuntimeError(f"{opname}: shape '{list(shape)}' is invalid for input of size {numel} "
                           f"(input shape {tuple(in_shape)})")
    return shape


def reduced_numel(shape, axis):
    n = 1
    for a in axis:
        n *= shape[a]
    return n


def reduced_shape(shape, axis, keepdims):
    if keepdims:
        return tuple(1 if i in axis else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axis)
