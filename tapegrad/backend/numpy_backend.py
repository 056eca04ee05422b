"""The CPU backend: NumPy itself, plus a few numba kernels where NumPy is slow.

numba is imported only when one of those kernels is first used (see
``_kernels``), so ``import tapegrad`` stays fast.
"""
import numpy as np

from .base import ArrayBackend, window_view_layout
from . import _conv_cpu, _linalg
from .._dtype import BFLOAT16_NP as _BF16


def _via_float32(fn, arity=1):
    """``fn`` computed in float32 for bfloat16 arrays and rounded back once, as PyTorch's CPU kernels do
    (Note [bfloat16 kind] in _dtype.py): NumPy's bfloat16 sums and cumsums accumulate in bfloat16, its
    matmul returns float32, and its einsum refuses bfloat16. Only the first ``arity`` arguments are arrays;
    other dtypes go straight to ``fn`` after a kind test per array (kind "V" is bfloat16 alone here)."""
    def up(*args, **kw):
        out = fn(*(a.astype(np.float32) if a.dtype.kind == "V" else a for a in args[:arity]), *args[arity:], **kw)
        return out.astype(_BF16) if isinstance(out, (np.ndarray, np.generic)) and out.dtype.kind == "f" else out

    if arity == 1:
        def f(x, *args, **kw):
            return up(x, *args, **kw) if x.dtype.kind == "V" else fn(x, *args, **kw)
    else:
        def f(a, b, *args, **kw):
            return up(a, b, *args, **kw) if a.dtype.kind == "V" or b.dtype.kind == "V" else fn(a, b, *args, **kw)
    f.__name__ = getattr(fn, "__name__", "f")
    return f


_KERNELS = []


def _kernels():
    """The numba kernels module, imported on first use (numba costs ~0.5 s to import)."""
    if not _KERNELS:
        from . import _kernels as k
        _KERNELS.append(k)
    return _KERNELS[0]


def _norm_kernels():
    from . import _kernels_norm
    return _kernels_norm


def _norm_kernel_ok(x, *others):
    """Whether the numba norm kernels take ``x`` and ``others`` (None or arrays of ``x``'s float32/float64 dtype)."""
    return x.dtype in (np.float32, np.float64) and all(o is None or o.dtype == x.dtype for o in others)


def _sigmoid(x):
    # Stable for large |x|: exp of a non-positive number only.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _erf(x):
    out = _kernels().erf(x)         # compiled for float32/float64: float16 comes back in its own dtype
    return out if out.dtype == x.dtype else out.astype(x.dtype)


def _special(name):
    """A special function of ``_special.py``, compiled for float32/float64 on first use.

    float16 in, float16 out; integers give float64, as NumPy's float ufuncs do.
    """
    def f(x):
        out = _kernels().special(name)(x)
        return out.astype(x.dtype) if x.dtype.kind in "fV" and out.dtype != x.dtype else out
    f.__name__ = name
    return f


def _scatter_add(shape, key, values, dtype):
    out = np.zeros(shape, dtype)
    if type(key) is tuple and all(type(k) in (int, slice) or k is None or k is Ellipsis for k in key):
        out[key] += values          # basic indexing: no repeated elements
    else:
        _kernels().add_at(out, key, values)
    return out


# Note [quiet NumPy]
# PyTorch is silent about log(0), sqrt(-1), 0/0 and overflow; NumPy warns. The
# dispatcher (ops.registry.apply, around each forward) and the engine (once per
# backward) switch NumPy to "ignore" for the duration of tapegrad's own calls and
# restore the caller's state after, so user code keeps its NumPy settings.
# NumPy 2 keeps that state in a context variable (per thread and per asyncio
# task): setting it to a prebuilt state and resetting the token costs ~0.2 us
# per op, where ``np.errstate`` costs ~1.2 us (it rebuilds the state on every
# entry). A warnings filter would cost nothing, but a user's
# ``simplefilter("always")`` overrides it. Without that private variable, fall
# back on ``np.errstate``.
def _quiet_state():
    try:
        from numpy._core._ufunc_config import _extobj_contextvar as var, _make_extobj
        return var.set, var.reset, _make_extobj(all="ignore")
    except (ImportError, AttributeError, TypeError):   # other NumPy versions
        def enter(_):
            e = np.errstate(all="ignore")
            e.__enter__()
            return e

        def leave(e):
            e.__exit__(None, None, None)
        return enter, leave, None


QUIET_SET, QUIET_RESET, QUIET = _quiet_state()


class NumpyBackend(ArrayBackend):
    """Reference backend over ``numpy.ndarray``; most methods are NumPy's functions."""
    device_type = "cpu"
    array_types = (np.ndarray,)
    array_type = np.ndarray

    def __init__(self):
        self.rng = np.random.default_rng(0)

    # creation
    @staticmethod
    def asarray(x, dtype=None):
        return np.asarray(x, dtype=dtype)

    zeros = staticmethod(np.zeros)
    ones = staticmethod(np.ones)
    empty = staticmethod(np.empty)

    @staticmethod
    def full(shape, value, dtype):
        return np.full(shape, value, dtype)

    @staticmethod
    def arange(start, stop, step, dtype):
        return np.arange(start, stop, step, dtype=dtype)

    @staticmethod
    def eye(n, m, dtype):
        return np.eye(n, m, dtype=dtype)

    @staticmethod
    def to_numpy(x):
        return x

    @staticmethod
    def from_numpy(a):
        return a

    @staticmethod
    def copy(x):
        return np.array(x, copy=True)

    @staticmethod
    def astype(x, dtype):
        return x.astype(dtype, copy=False)

    @staticmethod
    def is_view(x):
        return x.base is not None

    @staticmethod
    def is_contiguous(x):
        return x.flags.c_contiguous

    # random
    def seed(self, s):
        self.rng = np.random.default_rng(s)

    def rand(self, shape, dtype):
        return self.rng.random(shape, dtype=dtype if dtype in (np.float32, np.float64) else np.float64).astype(dtype, copy=False)

    def randn(self, shape, dtype):
        return self.rng.standard_normal(shape, dtype=dtype if dtype in (np.float32, np.float64) else np.float64).astype(dtype, copy=False)

    def randint(self, low, high, shape, dtype):
        return self.rng.integers(low, high, shape, dtype=np.int64).astype(dtype, copy=False)

    def bernoulli(self, p, shape, dtype):
        return (self.rng.random(shape, dtype=np.float32) < p).astype(dtype)

    def permutation(self, n):
        return self.rng.permutation(n)

    # elementwise
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    log1p = staticmethod(np.log1p)
    expm1 = staticmethod(np.expm1)
    sqrt = staticmethod(np.sqrt)
    abs = staticmethod(np.abs)
    sign = staticmethod(np.sign)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    tan = staticmethod(np.tan)
    tanh = staticmethod(np.tanh)
    sigmoid = staticmethod(_via_float32(_sigmoid))
    erf = staticmethod(_via_float32(_erf))
    floor = staticmethod(np.floor)
    ceil = staticmethod(np.ceil)
    round = staticmethod(np.round)
    reciprocal = staticmethod(np.reciprocal)
    square = staticmethod(np.square)
    logical_not = staticmethod(np.logical_not)
    isnan = staticmethod(np.isnan)
    isinf = staticmethod(np.isinf)
    isfinite = staticmethod(np.isfinite)
    sinh = staticmethod(np.sinh)
    cosh = staticmethod(np.cosh)
    arcsin = staticmethod(np.arcsin)
    arccos = staticmethod(np.arccos)
    arctan = staticmethod(np.arctan)
    arcsinh = staticmethod(np.arcsinh)
    arccosh = staticmethod(np.arccosh)
    arctanh = staticmethod(np.arctanh)
    log2 = staticmethod(np.log2)
    log10 = staticmethod(np.log10)
    exp2 = staticmethod(np.exp2)
    trunc = staticmethod(np.trunc)
    erfc = staticmethod(_special("erfc"))
    lgamma = staticmethod(_special("lgamma"))
    digamma = staticmethod(_special("digamma"))
    trigamma = staticmethod(_special("trigamma"))
    erfinv = staticmethod(_special("erfinv"))
    arctan2 = staticmethod(np.arctan2)
    hypot = staticmethod(np.hypot)
    copysign = staticmethod(np.copysign)
    fmod = staticmethod(np.fmod)
    bitwise_and = staticmethod(np.bitwise_and)
    bitwise_or = staticmethod(np.bitwise_or)
    bitwise_xor = staticmethod(np.bitwise_xor)
    invert = staticmethod(np.invert)
    left_shift = staticmethod(np.left_shift)
    right_shift = staticmethod(np.right_shift)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    floor_divide = staticmethod(np.floor_divide)
    remainder = staticmethod(np.remainder)
    equal = staticmethod(np.equal)
    not_equal = staticmethod(np.not_equal)
    less = staticmethod(np.less)
    less_equal = staticmethod(np.less_equal)
    greater = staticmethod(np.greater)
    greater_equal = staticmethod(np.greater_equal)
    logical_and = staticmethod(np.logical_and)
    logical_or = staticmethod(np.logical_or)
    logical_xor = staticmethod(np.logical_xor)
    where = staticmethod(np.where)

    @staticmethod
    def clip(x, lo, hi):
        out = np.clip(x, lo, hi)
        return out.astype(_BF16) if x.dtype.kind == "V" and out.dtype.kind != "V" else out   # float bounds: float32

    # reductions
    @staticmethod
    def sum(x, axis=None, keepdims=False):
        if x.dtype.kind == "V":                 # bfloat16: accumulate in float32, as PyTorch
            return np.sum(x, axis=axis, keepdims=keepdims, dtype=np.float32).astype(_BF16)
        return np.sum(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def prod(x, axis=None, keepdims=False):
        return np.prod(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def max(x, axis=None, keepdims=False):
        return np.max(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def min(x, axis=None, keepdims=False):
        return np.min(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def argmax(x, axis=None, keepdims=False):
        return np.argmax(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def argmin(x, axis=None, keepdims=False):
        return np.argmin(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def any(x, axis=None, keepdims=False):
        return np.any(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def all(x, axis=None, keepdims=False):
        return np.all(x, axis=axis, keepdims=keepdims)

    # scans and sorting along one axis
    cumsum = staticmethod(_via_float32(np.cumsum))
    cumprod = staticmethod(_via_float32(np.cumprod))
    cummax = staticmethod(np.maximum.accumulate)
    cummin = staticmethod(np.minimum.accumulate)
    logcumsumexp = staticmethod(_via_float32(np.logaddexp.accumulate))

    @staticmethod
    def argsort(x, axis):
        return np.argsort(x, axis=axis, kind="stable")

    @staticmethod
    def searchsorted(a, v, side="left"):
        if a.ndim == 1:
            return np.searchsorted(a, v, side=side)
        rows_a = a.reshape(-1, a.shape[-1])
        rows_v = v.reshape(-1, v.shape[-1])
        out = np.empty(rows_v.shape, np.int64)
        for i in range(rows_a.shape[0]):
            out[i] = np.searchsorted(rows_a[i], rows_v[i], side=side)
        return out.reshape(v.shape)

    # movement
    reshape = staticmethod(np.reshape)
    transpose = staticmethod(np.transpose)
    broadcast_to = staticmethod(np.broadcast_to)
    expand_dims = staticmethod(np.expand_dims)
    squeeze = staticmethod(np.squeeze)
    flip = staticmethod(np.flip)
    tile = staticmethod(np.tile)
    ascontiguousarray = staticmethod(np.ascontiguousarray)
    take_along_axis = staticmethod(np.take_along_axis)
    take = staticmethod(np.take)
    nonzero = staticmethod(np.nonzero)

    @staticmethod
    def concatenate(arrays, axis=0):
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def stack(arrays, axis=0):
        return np.stack(arrays, axis=axis)

    @staticmethod
    def narrow(x, axis, start, length):
        """The view of ``x[start:start + length]`` along ``axis``."""
        return x[(slice(None),) * axis + (slice(start, start + length),)]

    @staticmethod
    def pad_axis(x, axis, before, after):
        """``x`` with ``before`` zeros prepended and ``after`` zeros appended along ``axis``."""
        shape = list(x.shape)
        shape[axis] += before + after
        out = np.zeros(shape, x.dtype)
        out[(slice(None),) * axis + (slice(before, before + x.shape[axis]),)] = x
        return out

    @staticmethod
    def sliding_windows(x, axes, window, stride, dilation):
        shape, strides = window_view_layout(x.shape, x.strides, axes, window, stride, dilation)
        return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)

    @staticmethod
    def as_strided(x, shape, strides, offset):
        it = x.itemsize
        base = np.lib.stride_tricks.as_strided(x, (offset + 1,), (it,))[offset:] if offset else x
        return np.lib.stride_tricks.as_strided(base, tuple(shape), tuple(s * it for s in strides))

    @staticmethod
    def getitem(x, key):
        r = x[key]
        if r.__class__ is not np.ndarray:
            # an all-integer key gives a NumPy scalar (a copy); PyTorch gives a 0-d view, which
            # ``x[0, 0].fill_(5)`` writes through. A trailing Ellipsis makes NumPy return that view.
            r = x[(key if key.__class__ is tuple else (key,)) + (Ellipsis,)]
        return r

    @staticmethod
    def setitem(x, key, value):
        x[key] = value

    scatter_add = staticmethod(_scatter_add)   # zeros(shape) with values added at key

    # fused rows (Note [fused cross-entropy]): numba kernels for float logits
    def ce_rows(self, x, t, ignore_index):
        if x.dtype.kind != "f":
            return ArrayBackend.ce_rows(self, x, t, ignore_index)
        return _kernels().ce_rows(x, t, ignore_index)

    def ce_rows_grad(self, x, t, ignore_index, scale):
        if x.dtype.kind != "f":
            return ArrayBackend.ce_rows_grad(self, x, t, ignore_index, scale)
        return _kernels().ce_rows_grad(x, t, ignore_index, scale)

    def ce_rows_grad_reduced(self, x, t, ignore_index, g, mean):
        if x.dtype.type not in (np.float32, np.float64) or getattr(g, "dtype", None) != x.dtype:
            return ArrayBackend.ce_rows_grad_reduced(self, x, t, ignore_index, g, mean)
        return _kernels().ce_rows_grad_reduced(x, t, ignore_index, g, mean)

    # stride-1 convolutions in cache-sized chunks of samples (Note [conv in cache-sized chunks]); else composed
    def conv(self, x, w, b=None, stride=(1,), padding=(0,), dilation=(1,), groups=1):
        out = _conv_cpu.conv(x, w, b, stride, padding, dilation, groups)
        return ArrayBackend.conv(self, x, w, b, stride, padding, dilation, groups) if out is None else out

    def conv_weight(self, x, g, kernel_size, stride=(1,), padding=(0,), dilation=(1,), groups=1):
        out = _conv_cpu.conv_weight(x, g, kernel_size, stride, padding, dilation, groups)
        if out is None:
            return ArrayBackend.conv_weight(self, x, g, kernel_size, stride, padding, dilation, groups)
        return out

    def conv_transpose(self, x, w, b=None, stride=(1,), padding=(0,), output_padding=(0,), dilation=(1,), groups=1):
        out = _conv_cpu.conv_transpose(x, w, b, stride, padding, output_padding, dilation, groups)
        if out is None:
            return ArrayBackend.conv_transpose(self, x, w, b, stride, padding, output_padding, dilation, groups)
        return out

    # fused layer norm rows (Note [fused layer_norm rows]): numba kernels for float32/float64
    def layer_norm_rows(self, x, w, b, eps):
        if not _norm_kernel_ok(x, w, b):
            return ArrayBackend.layer_norm_rows(self, x, w, b, eps)
        return _norm_kernels().layer_norm_rows(x, w, b, eps)

    def softmax_rows(self, x):
        if not _norm_kernel_ok(x) or x.size == 0:
            return ArrayBackend.softmax_rows(self, x)
        return _norm_kernels().softmax_rows(x)

    def layer_norm_rows_grad(self, g, x, w, eps, needs):
        if not _norm_kernel_ok(x, w, g):
            return ArrayBackend.layer_norm_rows_grad(self, g, x, w, eps, needs)
        return _norm_kernels().layer_norm_rows_grad(g, x, w, eps, needs)

    # fused optimizer updates (Note [fused updates] in optim/optimizer.py): in place, no temporaries
    @staticmethod
    def sgd_update_(param, grad, buf, lr, **kw):
        _kernels().sgd_update_(param, grad, buf, lr, **kw)

    @staticmethod
    def adam_update_(param, grad, exp_avg, exp_avg_sq, step, lr, **kw):
        _kernels().adam_update_(param, grad, exp_avg, exp_avg_sq, step, lr, **kw)

    @staticmethod
    def sgd_update_multi_(params, grads, bufs, lr, **kw):
        _kernels().sgd_update_multi_(params, grads, bufs, lr, **kw)

    @staticmethod
    def adam_update_multi_(params, grads, exp_avgs, exp_avg_sqs, step, lr, **kw):
        _kernels().adam_update_multi_(params, grads, exp_avgs, exp_avg_sqs, step, lr, **kw)

    # linear algebra
    matmul = staticmethod(_via_float32(np.matmul, 2))

    @staticmethod
    def einsum(eq, *operands):
        if any(a.dtype.kind == "V" for a in operands):
            out = np.einsum(eq, *(a.astype(np.float32) if a.dtype.kind == "V" else a for a in operands),
                            optimize=len(operands) > 2)
            return out.astype(_BF16) if out.dtype.kind == "f" else out
        return np.einsum(eq, *operands, optimize=len(operands) > 2)

    # dense linear algebra (backend/_linalg.py)
    inv = staticmethod(np.linalg.inv)
    det = staticmethod(np.linalg.det)
    cholesky = staticmethod(np.linalg.cholesky)
    solve = staticmethod(_linalg.np_solve)
    qr = staticmethod(_linalg.np_qr)
    svd = staticmethod(_linalg.np_svd)
    eigh = staticmethod(_linalg.np_eigh)
    slogdet = staticmethod(_linalg.np_slogdet)


CPU_BACKEND = NumpyBackend()
