"""Creation functions: ``tensor``, ``zeros``, ``ones``, ``full``, ``empty``, ``arange``,
``linspace``, ``eye``, ``*_like``, ``rand``, ``randn``, ``randint``, ``manual_seed``,
``from_numpy``, ``as_tensor``."""
import numbers

import numpy as np

from . import _convert as C
from . import _dtype as D
from . import backend as B
from ._tensor import Tensor
from . import _generator as G
from ._device import _DEFAULT_DEVICE

__all__ = ["tensor", "as_tensor", "from_numpy", "from_dlpack", "zeros", "ones", "full", "empty", "arange", "linspace",
           "eye", "zeros_like", "ones_like", "full_like", "empty_like", "rand_like", "randn_like",
           "rand", "randn", "randint", "randperm", "manual_seed", "seed", "scalar_tensor"]


def _shape(size, fn):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        size = tuple(int(s) for s in size)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: size must be ints or a tuple of ints, got {size!r}") from None
    if any(s < 0 for s in size):
        raise RuntimeError(f"{fn}: negative dimension in size {size}")
    return size


def _finish(data, requires_grad, fn):
    t = Tensor._make(data, None)
    if requires_grad:
        if data.dtype.kind not in D.FLOAT_KINDS:     # Note [bfloat16 kind] in _dtype.py
            raise RuntimeError(f"{fn}: only tensors of floating point dtype can require gradients, "
                               f"got {D.from_numpy_dtype(data.dtype)}")
        t._requires_grad = True
    return t


def _be(device):
    if device is None:
        device = _DEFAULT_DEVICE[0]                     # Note [default device] in _device.py
        if device is None:
            return B.CPU_BACKEND
    from ._device import device as _dev
    return B.get(_dev(device).type)


def _check_device_dtype(be, d, fn):
    """A backend may support only some dtypes (``be.dtypes``): say which, naming ``fn``."""
    ok = be.dtypes
    if ok is not None and d.np not in ok:
        raise NotImplementedError(f"{fn}: dtype {d.name} is not supported on device '{be.device_type}'; "
                                  f"supported there: {', '.join(D.from_numpy_dtype(x).name for x in ok)}")


def tensor(data, dtype=None, device=None, requires_grad=False):
    """Make a new tensor from data (a number, nested lists, a NumPy array or a Tensor), always copying.

    Python floats become the default dtype (float32), ints int64, bools bool;
    NumPy arrays keep their dtype.

    Example:
        >>> import tapegrad
        >>> tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]]).shape
        tapegrad.Size([2, 2])
        >>> tapegrad.tensor([1, 2]).dtype
        tapegrad.int64
    """
    if isinstance(data, Tensor):
        src = data._backend.to_numpy(data._data)
        a = np.array(src, copy=True)
        d = D.to_dtype(dtype) if dtype is not None else D.from_numpy_dtype(a.dtype)
    else:
        if isinstance(data, (list, tuple)) and _has_tensor(data):
            data = _untensor(data)
        if isinstance(data, np.ndarray) or isinstance(data, np.generic):
            a = np.array(data, copy=True)
            d = C.source_dtype(a, dtype, "tensor")
        else:
            a = C.from_python(data, "tensor")
            d = D.to_dtype(dtype) if dtype is not None else C.infer_dtype(a)
            C.check_range(a, d, "tensor")
    be = _be(device)
    _check_device_dtype(be, d, "tensor")
    a = C.cast(a, d)
    return _finish(be.from_numpy(a), requires_grad, "tensor")


def _has_tensor(seq):
    for x in seq:
        if isinstance(x, Tensor):
            return True
        if isinstance(x, (list, tuple)) and _has_tensor(x):
            return True
    return False


def _untensor(seq):
    return [x._backend.to_numpy(x._data) if isinstance(x, Tensor) else _untensor(x) if isinstance(x, (list, tuple))
            else x for x in seq]


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a NumPy array (or Tensor) when it can.

    Example:
        >>> import numpy as np, tapegrad
        >>> a = np.zeros(2, dtype=np.float32)
        >>> tapegrad.as_tensor(a).numpy() is a or True
        True
    """
    if isinstance(data, Tensor):
        if dtype is None and device is None:
            return data
        return data.to(device=device, dtype=dtype)
    if hasattr(data, "__cuda_array_interface__") or hasattr(data, "__dlpack__") and not isinstance(data, np.ndarray):
        return _from_foreign(data, dtype)
    if isinstance(data, np.ndarray) and (device if device is not None else _DEFAULT_DEVICE[0]) in (None, "cpu"):
        d = C.source_dtype(data, dtype, "as_tensor")
        return Tensor._make(data if data.dtype == d.np else C.cast(data, d), None)
    return tensor(data, dtype=dtype, device=device)


def from_dlpack(ext):
    """A tensor sharing memory with another library's array: a CUDA array (PyTorch, CuPy,
    numba; via ``__cuda_array_interface__``) or a CPU array exposing ``__dlpack__``.

    Example:
        >>> import numpy as np, tapegrad
        >>> tapegrad.from_dlpack(np.arange(3.0)).tolist()
        [0.0, 1.0, 2.0]
    """
    return _from_foreign(ext)


def _from_foreign(data, dtype=None):
    """Wrap the backend array CUDA makes of a foreign array (a backend never builds a Tensor)."""
    from . import cuda          # loaded on first use: ``import tapegrad`` never imports numba.cuda
    t = Tensor._make(cuda._foreign_array(data), None)
    return t if dtype is None else t.to(dtype)


def from_numpy(a):
    """A tensor sharing memory with a NumPy array (dtype kept).

    Example:
        >>> import numpy as np, tapegrad
        >>> a = np.arange(3.0)
        >>> t = tapegrad.from_numpy(a); a[0] = 7; t[0].item()
        7.0
    """
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(a).__name__}")
    C.source_dtype(a, None, "from_numpy")
    if not a.flags.writeable:       # as PyTorch warns; here an in-place write then raises, naming the op
        import warnings
        warnings.warn("from_numpy: the given NumPy array is not writable; the tensor shares its memory, so "
                      "in-place operations on it will raise. Copy the array (or call .clone()) to write to it.",
                      UserWarning, stacklevel=2)
    return Tensor._make(a, None)


def _dt(dtype, fn):
    return D.to_dtype(dtype) if dtype is not None else D.get_default_dtype()


def _bd(device, dtype, fn):
    """The backend for ``device`` and the dtype (default: the default float), checked together."""
    be = _be(device)
    d = _dt(dtype, fn)
    _check_device_dtype(be, d, fn)
    return be, d


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(2, 3).shape
        tapegrad.Size([2, 3])
    """
    be, d = _bd(device, dtype, "zeros")
    return _finish(be.zeros(_shape(size, "zeros"), d.np), requires_grad, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2)
        tensor([1., 1.])
    """
    be, d = _bd(device, dtype, "ones")
    return _finish(be.ones(_shape(size, "ones"), d.np), requires_grad, "ones")


def empty(*size, dtype=None, device=None, requires_grad=False):
    """An uninitialized tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.empty(2, 2).shape
        tapegrad.Size([2, 2])
    """
    be, d = _bd(device, dtype, "empty")
    return _finish(be.empty(_shape(size, "empty"), d.np), requires_grad, "empty")


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor filled with ``fill_value`` (dtype inferred from it when not given).

    Example:
        >>> import tapegrad
        >>> tapegrad.full((2,), 7)
        tensor([7, 7])
    """
    if dtype is None:
        dtype = D.scalar_dtype(fill_value) if isinstance(fill_value, numbers.Number) else None
    be, d = _bd(device, dtype, "full")
    return _finish(be.full(_shape((size,), "full"), C.fill_value(fill_value, d, "full"), d.np), requires_grad, "full")


def scalar_tensor(value, dtype=None, device=None, requires_grad=False):
    """A 0-dim tensor holding ``value`` (the default float dtype unless ``dtype`` is given).

    Example:
        >>> import tapegrad
        >>> tapegrad.scalar_tensor(3)
        tensor(3.)
    """
    return full((), value, dtype=dtype or D.get_default_dtype(), device=device, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless a bound is a float.

    Example:
        >>> import tapegrad
        >>> tapegrad.arange(3)
        tensor([0, 1, 2])
    """
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        dtype = D.get_default_dtype() if any(isinstance(v, float) for v in (start, end, step)) else D.int64
    be, d = _bd(device, dtype, "arange")
    n = max(0, int(np.ceil((end - start) / step)))
    a = np.arange(n, dtype=np.float64) * step + start
    if d._category == 1:      # wraps into a narrow dtype as PyTorch's arange does (uint8 past 255)
        a = a.astype(np.int64)
    return _finish(be.from_numpy(C.cast(a, d)), requires_grad, "arange")


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    Example:
        >>> import tapegrad
        >>> tapegrad.linspace(0, 1, 3)
        tensor([0.0000, 0.5000, 1.0000])
    """
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    be, d = _bd(device, dtype, "linspace")
    return _finish(be.from_numpy(C.cast(np.linspace(start, end, steps), d)), requires_grad, "linspace")


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The identity matrix (n x m).

    Example:
        >>> import tapegrad
        >>> tapegrad.eye(2)
        tensor([[1., 0.],
                [0., 1.]])
    """
    be, d = _bd(device, dtype, "eye")
    return _finish(be.eye(n, n if m is None else m, d.np), requires_grad, "eye")


def _like(fn, name):
    def like(input, dtype=None, device=None, requires_grad=False, **kw):
        dtype = input.dtype if dtype is None else dtype
        device = input.device if device is None else device
        return fn(*input.shape, dtype=dtype, device=device, requires_grad=requires_grad, **kw)
    like.__name__ = name
    like.__doc__ = f"""``{fn.__name__}`` with the shape (and by default dtype and device) of ``input``.

    Example:
        >>> import tapegrad
        >>> tapegrad.{name}(tapegrad.zeros(2, 3)).shape
        tapegrad.Size([2, 3])
    """
    return like


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor like ``input`` filled with ``fill_value``.

    Example:
        >>> import tapegrad
        >>> tapegrad.full_like(tapegrad.zeros(2), 3.0)
        tensor([3., 3.])
    """
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def manual_seed(seed):
    """Seed every random generator of tapegrad (CPU and, when loaded, CUDA); returns ``default_generator``.

    Example:
        >>> import tapegrad
        >>> _ = tapegrad.manual_seed(0); a = tapegrad.rand(2)
        >>> _ = tapegrad.manual_seed(0); bool((a == tapegrad.rand(2)).all())
        True
        >>> tapegrad.manual_seed(3) is tapegrad.default_generator
        True
    """
    seed = G._check_seed(int(seed), "manual_seed")      # torch's global manual_seed takes int(seed) first
    for be in set(B.BY_DEVICE.values()):
        G.default_for(be).manual_seed(seed)
    return G.default_generator


def seed():
    """Seed the default generator from a fresh random number and return that seed.

    Example:
        >>> import tapegrad
        >>> s = tapegrad.seed(); isinstance(s, int)
        True
    """
    import random
    s = random.SystemRandom().randrange(2 ** 63)
    manual_seed(s)
    return s


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Uniform random values in [0, 1).

    Example:
        >>> import tapegrad
        >>> tapegrad.rand(2, 3).shape
        tapegrad.Size([2, 3])
    """
    be, d = _bd(device, dtype, "rand")
    if not d.is_floating_point:
        raise TypeError(f"rand: dtype must be floating, got {d}")
    return _finish(G.draw(generator, be, "rand", "rand", _shape(size, "rand"), d.np), requires_grad, "rand")


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Standard normal random values.

    Example:
        >>> import tapegrad
        >>> tapegrad.randn(4).dtype
        tapegrad.float32
    """
    be, d = _bd(device, dtype, "randn")
    if not d.is_floating_point:
        raise TypeError(f"randn: dtype must be floating, got {d}")
    return _finish(G.draw(generator, be, "randn", "randn", _shape(size, "randn"), d.np), requires_grad, "randn")


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False, generator=None):
    """Random integers in [low, high); ``randint(high, size)`` or ``randint(low, high, size)``.

    Example:
        >>> import tapegrad
        >>> int(tapegrad.randint(0, 5, (10,)).max()) < 5
        True
    """
    if size is None:
        if high is None:
            raise TypeError("randint: size is required")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    be, d = _bd(device, dtype if dtype is not None else D.int64, "randint")
    return _finish(G.draw(generator, be, "randint", "randint", low, high, _shape((size,), "randint"), d.np),
                   requires_grad, "randint")


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1.

    Example:
        >>> import tapegrad
        >>> sorted(tapegrad.randperm(4).tolist())
        [0, 1, 2, 3]
    """
    be, d = _bd(device, dtype if dtype is not None else D.int64, "randperm")
    return _finish(be.astype(G.draw(generator, be, "randperm", "permutation", n), d.np), requires_grad, "randperm")


zeros_like = _like(zeros, "zeros_like")
ones_like = _like(ones, "ones_like")
empty_like = _like(empty, "empty_like")
rand_like = _like(rand, "rand_like")
randn_like = _like(randn, "randn_like")


def legacy_tensor(name, dtype, args, device):
    """The Tensor a legacy constructor ``name(*args, device=device)`` makes (tapegrad/_legacy.py).

    ``dtype`` None is the default dtype (``Tensor(...)``); a tensor argument is aliased.

    Example:
        >>> import tapegrad
        >>> tapegrad.Tensor([1, 2]), tapegrad.Tensor(2, 3).shape
        (tensor([1., 2.]), tapegrad.Size([2, 3]))
    """
    from ._tensor import Size
    if dtype is None:
        dtype = D.get_default_dtype()
    if not args:
        return empty(0, dtype=dtype, device=device)
    if len(args) == 1 and isinstance(args[0], Tensor):
        t = args[0]
        if t.dtype != dtype:
            if name != "Tensor":
                raise TypeError(f"{name}(): expected a tensor of type {dtype} (the legacy constructor aliases "
                                f"a tensor of its own type), got {t.dtype}; use .to({dtype}) to convert")
        return t.detach()
    if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
        return empty(*args, dtype=dtype, device=device)
    if len(args) == 1 and isinstance(args[0], Size):
        return empty(tuple(args[0]), dtype=dtype, device=device)
    if len(args) == 1 and (hasattr(args[0], "__len__") or hasattr(args[0], "__array__")) \
            and not isinstance(args[0], (str, bytes)):
        data = args[0]
        try:
            return tensor(data, dtype=dtype, device=device)
        except TypeError:
            return tensor(np.asarray(data).astype(dtype.np), device=device)
    got = ", ".join(type(a).__name__ for a in args)
    raise TypeError(f"{name}(): invalid combination of arguments, got ({got}); expected one of (*, device=None), "
                    "(Tensor other), (tuple of ints size, *, device=None), (object data, *, device=None)")
