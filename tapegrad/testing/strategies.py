"""Hypothesis strategies for tapegrad: shapes, broadcastable shapes, tensors, index expressions, reduction dims."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["shapes", "broadcastable_shapes", "tensors", "index_expressions", "reduction_dims"]


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Shapes (tuples of ints) with ``min_dims..max_dims`` dims of ``min_side..max_side`` each.

    Example:
        >>> from hypothesis import find
        >>> from tapegrad.testing import shapes
        >>> s = find(shapes(min_dims=2, max_dims=2), lambda s: s[0] > s[1])
        >>> len(s) == 2 and 4 >= s[0] > s[1] >= 1
        True
    """
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


@st.composite
def broadcastable_shapes(draw, n=2, min_dims=0, max_dims=3, max_side=3, allow_empty=True):
    """Tuples of ``n`` shapes that broadcast together, with size-1 dims, dropped leading dims and size-0 dims.

    Args:
        n: how many shapes.
        min_dims, max_dims: bounds on the broadcast result's number of dims.
        max_side: the largest size of a dim.
        allow_empty: sometimes make one result dim 0 (every input then has 0 or 1 there).

    Example:
        >>> from hypothesis import find
        >>> from tapegrad.testing import broadcastable_shapes
        >>> import numpy as np
        >>> a, b = find(broadcastable_shapes(2), lambda s: len(s[0]) == 2 and s[0] != s[1])
        >>> len(np.broadcast_shapes(a, b))
        2
    """
    result = list(draw(shapes(min_dims, max_dims, 1, max_side)))
    if allow_empty and result and draw(st.integers(0, 7)) == 0:
        result[draw(st.integers(0, len(result) - 1))] = 0
    out = []
    for _ in range(n):
        drop = draw(st.integers(0, len(result)))
        shape = tuple(1 if draw(st.integers(0, 3)) == 0 else s for s in result[drop:])
        out.append(shape)
    return tuple(out)


def _layouts(ndim, contiguous):
    if contiguous is True:
        return st.just("contiguous")
    options = ["strided"] + (["transposed"] if ndim >= 2 else [])
    if contiguous is None:
        options = ["contiguous"] + options
    if ndim == 0:
        options = ["contiguous"]
    return st.sampled_from(options)


def _lay_out(values, layout):
    """The same values in a non-contiguous NumPy view (transposed storage or every other element)."""
    if layout == "transposed":
        base = np.empty(values.shape[::-1], values.dtype)
        view = base.T
    elif layout == "strided":
        base = np.empty(values.shape[:-1] + (2 * values.shape[-1],), values.dtype)
        view = base[..., ::2]
    else:
        return values
    view[...] = values
    return view


def _elements(dtype, elements):
    if not isinstance(elements, tuple):
        return elements
    low, high = elements
    if dtype.is_floating_point:
        # Round the bounds inward to the dtype, so every drawn value lies in [low, high].
        lo, hi = dtype.np.type(low), dtype.np.type(high)
        if lo < low:
            lo = np.nextafter(lo, dtype.np.type(np.inf))
        if hi > high:
            hi = np.nextafter(hi, dtype.np.type(-np.inf))
        return st.floats(float(lo), float(hi), allow_nan=False, allow_infinity=False, allow_subnormal=False,
                         width=8 * dtype.itemsize)
    if dtype.name == "bool":
        return st.booleans()
    return st.integers(int(np.ceil(low)), int(np.floor(high)))


@st.composite
def tensors(draw, shape=None, dtype=None, elements=(-10.0, 10.0), requires_grad=False, contiguous=None,
            device=None):
    """tapegrad tensors of a shape (or a shape strategy), dtype and value domain, sometimes non-contiguous.

    Args:
        shape: a shape tuple or a strategy of shapes (default ``shapes()``).
        dtype: a tapegrad dtype (default: the default float dtype).
        elements: ``(low, high)`` inclusive bounds, or a strategy of Python numbers.
        requires_grad: make a leaf that requires grad (floating dtypes only).
        contiguous: True: always contiguous; False: always a strided/transposed view
            (when ndim >= 1); None: either.
        device: where to put the tensor (a non-CPU copy is contiguous).

    Example:
        >>> from hypothesis import find
        >>> from tapegrad.testing import tensors
        >>> t = find(tensors((2, 3), elements=(0.5, 2.0), requires_grad=True), lambda t: True)
        >>> a = t.detach().numpy()
        >>> t.shape, t.dtype, t.requires_grad, bool(a.min() >= 0.5 and a.max() <= 2.0)
        (tapegrad.Size([2, 3]), tapegrad.float32, True, True)
    """
    import tapegrad
    dtype = tapegrad.get_default_dtype() if dtype is None else dtype
    if shape is None:
        shape = shapes()
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else draw(shape)
    values = draw(hnp.arrays(dtype.np, shape, elements=_elements(dtype, elements), fill=st.nothing()))
    layout = draw(_layouts(len(shape), contiguous))
    t = tapegrad.from_numpy(_lay_out(values, layout))
    if device is not None:
        t = t.to(device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _int_arrays(draw, size, shape):
    return np.asarray(draw(hnp.arrays(np.int64, shape, elements=st.integers(-size, size - 1))), dtype=np.int64)


@st.composite
def index_expressions(draw, shape, allow_advanced=True, max_index_dims=2, max_new_dims=2):
    """Valid ``t[...]`` keys for ``shape``: ints, slices, None, Ellipsis, bool masks and int arrays.

    Advanced parts are one bool mask (over one or more consecutive dims) or
    int arrays of one common shape (repeated indices included), not both.
    Arrays are NumPy arrays; wrap them with ``tapegrad.tensor`` to index with tensors.

    Args:
        shape: the shape of the tensor being indexed.
        allow_advanced: allow bool masks and int arrays.
        max_index_dims: the most dims of an int-array index.
        max_new_dims: the most ``None`` entries.

    Example:
        >>> import numpy as np
        >>> from hypothesis import find
        >>> from tapegrad.testing import index_expressions
        >>> key = find(index_expressions((3, 4)), lambda k: isinstance(k, tuple) and len(k) == 3)
        >>> np.zeros((3, 4))[key].ndim >= 0       # a valid NumPy (and tapegrad) key
        True
    """
    ndim = len(shape)
    key = []
    d = 0
    ellipsis = False
    advanced = None if allow_advanced else "none"
    array_shape = None
    new_dims = 0
    while True:
        # After an Ellipsis the remaining parts are aligned to the last dims, so they must use all of them.
        kinds = [] if ellipsis and d < ndim else ["stop"]
        if new_dims < max_new_dims:
            kinds.append("none")
        if d < ndim:
            kinds += ["int", "slice"]
            if advanced in (None, "int"):
                kinds.append("array")
            if advanced is None:
                kinds.append("mask")
        if not ellipsis:
            kinds.append("ellipsis")
        kind = draw(st.sampled_from(kinds))
        if kind == "stop":
            break
        if kind == "none":
            new_dims += 1
            key.append(None)
        elif kind == "ellipsis":
            ellipsis = True
            key.append(Ellipsis)
            # Ellipsis absorbs the dims the remaining parts do not use; later parts index from the end.
            rest = draw(st.integers(0, ndim - d))
            d = ndim - rest
        elif kind == "int":
            n = shape[d]
            if n == 0:
                key.append(slice(None))
            else:
                key.append(draw(st.integers(-n, n - 1)))
            d += 1
        elif kind == "slice":
            n = shape[d]
            start = draw(st.none() | st.integers(-n - 1, n + 1))
            stop = draw(st.none() | st.integers(-n - 1, n + 1))
            step = draw(st.none() | st.integers(1, 3))
            key.append(slice(start, stop, step))
            d += 1
        elif kind == "array":
            n = shape[d]
            if n == 0:
                key.append(slice(None))
            else:
                if array_shape is None:
                    array_shape = draw(shapes(0, max_index_dims, 1, 3))
                key.append(_int_arrays(draw, n, array_shape))
                advanced = "int"
            d += 1
        else:   # mask over k consecutive dims
            k = draw(st.integers(1, ndim - d))
            key.append(np.asarray(draw(hnp.arrays(np.bool_, tuple(shape[d:d + k]))), dtype=bool))
            advanced = "mask"
            d += k
    if len(key) == 1 and draw(st.booleans()):
        return key[0]
    return tuple(key)


@st.composite
def reduction_dims(draw, ndim, allow_none=True):
    """``(dim, keepdim)`` for a reduction over a tensor with ``ndim`` dims.

    ``dim`` is None (all dims), an int in ``[-ndim, ndim)`` or a tuple of
    distinct dims (negative ones included); ``keepdim`` a bool.

    Example:
        >>> from hypothesis import find
        >>> from tapegrad.testing import reduction_dims
        >>> dim, keepdim = find(reduction_dims(3), lambda d: isinstance(d[0], tuple) and len(d[0]) == 2)
        >>> len({d % 3 for d in dim}), isinstance(keepdim, bool)
        (2, True)
    """
    keepdim = draw(st.booleans())
    choices = (["none"] if allow_none or ndim == 0 else []) + (["int", "tuple"] if ndim else [])
    kind = draw(st.sampled_from(choices))
    if kind == "none":
        return None, keepdim
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1)), keepdim
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in axes), keepdim
