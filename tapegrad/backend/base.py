"""The array-level interface every backend implements, with NumPy's names and semantics.

Ops call only the methods declared here, never NumPy directly, so the same op
runs on any device. The API above speaks PyTorch (``dim``, ``keepdim``);
backends speak NumPy (``axis``, ``keepdims``); ops translate once.

Three kinds of method (``declared_methods()`` lists them; the conformance
tests in tests/test_backend_conformance.py run each on every backend, and
scan tapegrad/ for backend calls so this list cannot fall behind the ops):

- **required**: every backend implements it. Until it does, reading the
  attribute raises ``BackendMissing``, an ``AttributeError`` (so
  ``getattr(be, name, None)`` sees it absent) that is also a
  ``NotImplementedError`` (so an op that needs it fails as an unsupported op,
  named by ``ops.apply``).
- **optional with a default**: composed here from required methods; a
  backend overrides it with a faster kernel (``ce_rows``, ``narrow`` ...).
- **optional, probed**: no default; callers ask ``getattr(be, name, None)``
  and take their own composed path when it is None (the fused optimizer
  updates, Note [fused updates] in optim/optimizer.py).

Arrays of a backend carry ``shape``, ``dtype`` (a NumPy dtype), ``ndim`` and
``size``, and support Python's operators with NumPy semantics (``+ - * / **
// %``, unary ``-``, ``abs``, comparisons, ``& | ^ ~`` on bools, ``@``): VJPs
use them on raw arrays when no graph is being built. Python numbers are weak
scalars in every method, as in NumPy 2. Unless a contract says "view",
results are new arrays; "view" results share memory with the input.
"""

__all__ = ["ArrayBackend", "BackendMissing", "declared_methods"]

_DEVICE_WORDS = {"cuda": "GPU (CUDA)", "cpu": "CPU"}


class BackendMissing(AttributeError, NotImplementedError):
    """A backend does not implement a method: an AttributeError for probes, a NotImplementedError for ops."""


def missing(backend, name):
    """The BackendMissing for ``backend.name``, naming the method and the backend.

    Example:
        >>> from tapegrad.backend import CPU_BACKEND
        >>> from tapegrad.backend.base import missing
        >>> missing(CPU_BACKEND, "fft")
        BackendMissing("the CPU backend (NumpyBackend) does not implement 'fft'")
    """
    where = _DEVICE_WORDS.get(backend.device_type, str(backend.device_type))
    return BackendMissing(f"the {where} backend ({type(backend).__name__}) does not implement {name!r}")


class _Declared:
    """A declared method a backend has not implemented: reading it on an instance raises BackendMissing."""

    def __init__(self, kind, signature, doc, fn=None):
        self.kind = kind            # "required" or "probed"
        self.signature = signature
        self.__doc__ = doc
        self.fn = fn
        self.name = None

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        raise missing(obj, self.name)

    def __repr__(self):
        return f"<{self.kind} backend method {self.name}{self.signature}>"


def _declare(kind):
    def deco(fn):
        import inspect
        sig = str(inspect.signature(fn)).replace("(self, ", "(").replace("(self)", "()")
        return _Declared(kind, sig, (fn.__doc__ or "").strip(), fn)
    return deco


required = _declare("required")
probed = _declare("probed")


def optional(fn):
    """Mark a method of ``ArrayBackend`` as an optional capability with a composed default."""
    fn.backend_kind = "default"
    return fn


def _ufunc(nargs, contract):
    def unary(self, x):
        pass

    def binary(self, x1, x2):
        pass
    return _Declared("required", "(x)" if nargs == 1 else "(x1, x2)", contract, unary if nargs == 1 else binary)


class ArrayBackend:
    """Abstract array backend. See ``NumpyBackend`` for the reference implementation.

    Every method below has NumPy's semantics for the arrays of that backend.
    """
    device_type = None        # "cpu" or "cuda"
    array_types = ()          # the concrete array classes this backend owns
    array_type = None         # the class its methods return
    dtypes = None             # the NumPy dtypes it can store, or None for every tapegrad dtype
    rng = None                # its random stream (set per instance), which its random methods draw from

    # ------------------------------------------------------------------ creation and host copies
    @required
    def asarray(self, x, dtype=None):
        """``x`` (a number, sequence, NumPy or own array) as an array of this backend; no copy if it is one."""
    @required
    def zeros(self, shape, dtype):
        """A new array of zeros."""
    @required
    def ones(self, shape, dtype):
        """A new array of ones."""
    @required
    def full(self, shape, value, dtype):
        """A new array filled with ``value``."""
    @required
    def empty(self, shape, dtype):
        """A new array with unspecified contents."""
    @required
    def arange(self, start, stop, step, dtype):
        """``np.arange(start, stop, step, dtype=dtype)``."""
    @required
    def eye(self, n, m, dtype):
        """``np.eye(n, m, dtype=dtype)``."""
    @required
    def to_numpy(self, x):
        """``x`` as a NumPy array on the host (the array itself on the CPU)."""
    @required
    def from_numpy(self, a):
        """NumPy array ``a`` as an array of this backend (the array itself on the CPU)."""
    @required
    def copy(self, x):
        """A new C-contiguous array equal to ``x``."""
    @required
    def astype(self, x, dtype):
        """``x`` cast to ``dtype`` with NumPy's unsafe casting; ``x`` itself when it already has that dtype."""
    @required
    def is_view(self, x):
        """True when ``x`` shares the memory of another array (``x.base is not None``)."""
    @required
    def is_contiguous(self, x):
        """True when ``x`` is C-contiguous."""

    # ------------------------------------------------------------------ random numbers
    @required
    def seed(self, s):
        """Reset this backend's generator, so the draws after ``seed(s)`` repeat."""
    @required
    def rand(self, shape, dtype):
        """Uniform samples in [0, 1)."""
    @required
    def randn(self, shape, dtype):
        """Standard normal samples."""
    @required
    def randint(self, low, high, shape, dtype):
        """Uniform integers in [low, high)."""
    @required
    def bernoulli(self, p, shape, dtype):
        """1 with probability ``p`` (a number, or an array of probabilities whose shape is used), else 0."""
    @required
    def permutation(self, n):
        """A random permutation of ``range(n)`` as an int64 array."""

    # ------------------------------------------------------------------ elementwise (NumPy broadcasting)
    exp = _ufunc(1, "``np.exp``; integer input gives float64.")
    log = _ufunc(1, "``np.log``: -inf at 0, nan below.")
    log1p = _ufunc(1, "``np.log1p``.")
    expm1 = _ufunc(1, "``np.expm1``.")
    sqrt = _ufunc(1, "``np.sqrt``: nan below 0.")
    abs = _ufunc(1, "``np.abs``, keeping the dtype.")
    sign = _ufunc(1, "``np.sign`` (-1, 0 or 1; nan stays nan), keeping the dtype.")
    sin = _ufunc(1, "``np.sin``.")
    cos = _ufunc(1, "``np.cos``.")
    tan = _ufunc(1, "``np.tan``.")
    tanh = _ufunc(1, "``np.tanh``.")
    sigmoid = _ufunc(1, "``1 / (1 + exp(-x))``, computed without overflow for large ``|x|``.")
    erf = _ufunc(1, "The error function.")
    reciprocal = _ufunc(1, "``1 / x`` (``np.reciprocal`` on floats).")
    square = _ufunc(1, "``x * x``, keeping the dtype.")
    floor = _ufunc(1, "``np.floor``, keeping the dtype.")
    ceil = _ufunc(1, "``np.ceil``, keeping the dtype.")
    round = _ufunc(1, "``np.round``: half to even, keeping the dtype.")
    logical_not = _ufunc(1, "``np.logical_not``: a bool array.")
    isnan = _ufunc(1, "``np.isnan``: a bool array.")
    isinf = _ufunc(1, "``np.isinf``: a bool array.")
    isfinite = _ufunc(1, "``np.isfinite``: a bool array.")
    maximum = _ufunc(2, "``np.maximum``: nan wins.")
    minimum = _ufunc(2, "``np.minimum``: nan wins.")
    floor_divide = _ufunc(2, "``np.floor_divide`` (``//``).")
    remainder = _ufunc(2, "``np.remainder`` (``%``): the sign of the divisor.")
    equal = _ufunc(2, "``np.equal``: a bool array.")
    not_equal = _ufunc(2, "``np.not_equal``: a bool array.")
    less = _ufunc(2, "``np.less``: a bool array.")
    less_equal = _ufunc(2, "``np.less_equal``: a bool array.")
    greater = _ufunc(2, "``np.greater``: a bool array.")
    greater_equal = _ufunc(2, "``np.greater_equal``: a bool array.")
    logical_and = _ufunc(2, "``np.logical_and``: a bool array.")
    logical_or = _ufunc(2, "``np.logical_or``: a bool array.")
    logical_xor = _ufunc(2, "``np.logical_xor``: a bool array.")
    # trigonometric, hyperbolic, logarithms of other bases, special functions (ops/special.py)
    sinh = _ufunc(1, "``np.sinh``.")
    cosh = _ufunc(1, "``np.cosh``.")
    arcsin = _ufunc(1, "``np.arcsin``: nan outside [-1, 1].")
    arccos = _ufunc(1, "``np.arccos``: nan outside [-1, 1].")
    arctan = _ufunc(1, "``np.arctan``.")
    arcsinh = _ufunc(1, "``np.arcsinh``.")
    arccosh = _ufunc(1, "``np.arccosh``: nan below 1.")
    arctanh = _ufunc(1, "``np.arctanh``: +-inf at +-1, nan outside.")
    log2 = _ufunc(1, "``np.log2``: exact at powers of two.")
    log10 = _ufunc(1, "``np.log10``.")
    exp2 = _ufunc(1, "``np.exp2``.")
    trunc = _ufunc(1, "``np.trunc`` (toward zero), keeping the dtype.")
    erfc = _ufunc(1, "``1 - erf(x)`` without cancellation for large x (``_special.ERFC``).")
    lgamma = _ufunc(1, "``log|gamma(x)|``; inf at the poles (``_special.LGAMMA``).")
    digamma = _ufunc(1, "``psi(x) = d lgamma / dx``; -inf at 0, nan at negative integers (``_special.DIGAMMA``).")
    trigamma = _ufunc(1, "``polygamma(1, x)``; inf at the poles (``_special.TRIGAMMA``).")
    erfinv = _ufunc(1, "The inverse of erf on (-1, 1); +-inf at +-1, nan outside (``_special.ERFINV``).")
    arctan2 = _ufunc(2, "``np.arctan2(x1, x2)``: the angle of the point (x2, x1).")
    hypot = _ufunc(2, "``np.hypot``: ``sqrt(x1**2 + x2**2)`` without overflow.")
    copysign = _ufunc(2, "``np.copysign``: the magnitude of x1 with the sign of x2.")
    fmod = _ufunc(2, "``np.fmod``: the C remainder, with the sign of x1 (integers: 0 for a zero divisor).")
    # bitwise, on integer (and bool) arrays
    bitwise_and = _ufunc(2, "``np.bitwise_and``.")
    bitwise_or = _ufunc(2, "``np.bitwise_or``.")
    bitwise_xor = _ufunc(2, "``np.bitwise_xor``.")
    invert = _ufunc(1, "``np.invert``: bitwise not of integers.")
    left_shift = _ufunc(2, "``np.left_shift``.")
    right_shift = _ufunc(2, "``np.right_shift`` (arithmetic for signed integers).")

    @required
    def where(self, cond, x, y):
        """``np.where(cond, x, y)`` with broadcasting; ``cond`` is a bool array."""
    @required
    def clip(self, x, lo, hi):
        """``np.clip(x, lo, hi)``; one bound may be None; nan stays nan."""

    # ------------------------------------------------------------------ reductions (axis: None, int or tuple)
    @required
    def sum(self, x, axis=None, keepdims=False):
        """``np.sum``: bools and small integers sum as int64."""
    @required
    def prod(self, x, axis=None, keepdims=False):
        """``np.prod``."""
    @required
    def max(self, x, axis=None, keepdims=False):
        """``np.max``: nan if the slice has one; a size-0 slice raises ValueError."""
    @required
    def min(self, x, axis=None, keepdims=False):
        """``np.min``: nan if the slice has one; a size-0 slice raises ValueError."""
    @required
    def argmax(self, x, axis=None, keepdims=False):
        """``np.argmax`` (first of ties, first nan), int64; ``axis`` None or an int."""
    @required
    def argmin(self, x, axis=None, keepdims=False):
        """``np.argmin`` (first of ties, first nan), int64; ``axis`` None or an int."""
    @required
    def any(self, x, axis=None, keepdims=False):
        """``np.any``: a bool array."""
    @required
    def all(self, x, axis=None, keepdims=False):
        """``np.all``: a bool array."""

    # ------------------------------------------------------------------ movement and indexing
    @required
    def reshape(self, x, shape):
        """``np.reshape``: a view when the strides allow it, else a copy."""
    @required
    def transpose(self, x, axes=None):
        """``np.transpose``: a view."""
    @required
    def broadcast_to(self, x, shape):
        """``np.broadcast_to``: a read-only view with stride 0 on broadcast dims."""
    @required
    def expand_dims(self, x, axis):
        """``np.expand_dims``: a view."""
    @required
    def squeeze(self, x, axis=None):
        """``np.squeeze``: a view; squeezing a dim that is not 1 raises ValueError."""
    @required
    def flip(self, x, axis=None):
        """``np.flip`` along ``axis`` (an int, tuple or None for all)."""
    @required
    def tile(self, x, reps):
        """``np.tile``."""
    @required
    def ascontiguousarray(self, x):
        """``x`` itself when C-contiguous, else a C-contiguous copy."""
    @required
    def concatenate(self, arrays, axis=0):
        """``np.concatenate`` of a sequence of arrays of one dtype."""
    @required
    def stack(self, arrays, axis=0):
        """``np.stack`` of a sequence of arrays of one shape and dtype."""
    @required
    def take(self, x, indices, axis=None):
        """``np.take``: integer ``indices`` (an array of this backend) along ``axis``."""
    @required
    def take_along_axis(self, x, indices, axis):
        """``np.take_along_axis``."""
    @required
    def nonzero(self, x):
        """``np.nonzero``: a tuple of int64 index arrays, one per dim."""
    @required
    def getitem(self, x, key):
        """``x[key]``: basic keys give views, advanced keys (int/bool arrays of this backend) copies."""
    @required
    def setitem(self, x, key, value):
        """``x[key] = value`` in place (``value`` broadcast and cast); returns None."""
    @required
    def scatter_add(self, shape, key, values, dtype):
        """``zeros(shape, dtype)`` with ``values`` added at ``key``; repeated indices accumulate (``np.add.at``)."""

    @required
    def sliding_windows(self, x, axes, window, stride, dilation):
        """A read-only view of the windows of ``x`` along ``axes`` (Note [sliding windows]).

        ``axes``, ``window``, ``stride``, ``dilation``: tuples of one length. Each
        axis ``a`` of length ``n`` becomes ``(n - dilation * (window - 1) - 1) // stride + 1``
        window positions, and the window dims are appended in the order of ``axes``;
        element ``[..., p, ..., k]`` is ``x[..., p * stride + k * dilation, ...]``.
        A dilated window longer than its axis raises ValueError. Writing to the view is undefined.
        """

    @required
    def as_strided(self, x, shape, strides, offset):
        """A writable view of ``x``'s memory: element strides and a start offset, both in elements of ``x``.

        Element ``[i, j, ...]`` of the view is the element ``offset + i * strides[0] + j * strides[1] ...``
        elements past ``x``'s first element (``diagonal``, ``Tensor.unfold``, ``as_strided``). The caller
        keeps every position inside ``x``'s memory; strides are non-negative.
        """

    # ------------------------------------------------------------------ linear algebra
    @required
    def matmul(self, a, b):
        """``np.matmul`` with batch broadcasting; 1-D operands are promoted and the added dim removed."""
    @required
    def einsum(self, eq, *operands):
        """``np.einsum(eq, *operands)`` with an explicit ``->`` output; a backend may support two operands only."""

    # ------------------------------------------------------------------ scans and sorting along one axis (ops/scans.py,
    # ops/sorting.py); ``axis`` is an int
    @required
    def cumsum(self, x, axis):
        """``np.cumsum(x, axis)``: bools and small integers accumulate as int64."""
    @required
    def cumprod(self, x, axis):
        """``np.cumprod(x, axis)``: bools and small integers accumulate as int64."""
    @required
    def cummax(self, x, axis):
        """``np.maximum.accumulate(x, axis)``: the running maximum, keeping the dtype; a nan stays from there on."""
    @required
    def cummin(self, x, axis):
        """``np.minimum.accumulate(x, axis)``: the running minimum, keeping the dtype; a nan stays from there on."""
    @required
    def logcumsumexp(self, x, axis):
        """``np.logaddexp.accumulate(x, axis)`` of a float array: a running log-sum-exp that never overflows."""
    @required
    def argsort(self, x, axis):
        """``np.argsort(x, axis, kind="stable")`` (int64): ties keep their order, nan sorts last."""
    @required
    def searchsorted(self, a, v, side="left"):
        """``np.searchsorted`` per row (int64): ``a`` (..., n) sorted along its last axis, ``v`` (..., m) with the
        same leading dims; a 1-D ``a`` serves any ``v``. ``side`` "left" or "right"; nan counts as largest."""

    # ------------------------------------------------------------------ optional capabilities with defaults
    @optional
    def narrow(self, x, axis, start, length):
        """The view ``x[start:start + length]`` along ``axis``."""
        return self.getitem(x, (slice(None),) * axis + (slice(start, start + length),))

    @optional
    def pad_axis(self, x, axis, before, after):
        """``x`` with ``before`` zeros prepended and ``after`` zeros appended along ``axis``."""
        shape = list(x.shape)
        shape[axis] += before + after
        out = self.zeros(tuple(shape), x.dtype)
        self.setitem(out, (slice(None),) * axis + (slice(before, before + x.shape[axis]),), x)
        return out

    # convolution (Note [conv as im2col] in backend/_conv.py); stride, padding, dilation: one int per spatial dim
    @optional
    def conv(self, x, w, b=None, stride=(1,), padding=(0,), dilation=(1,), groups=1):
        """PyTorch's convolution of ``x`` (N, C, *S) with ``w`` (O, C/groups, *K), plus ``b`` (O,) when given."""
        from ._conv import conv
        return conv(self, x, w, b, stride, padding, dilation, groups)

    @optional
    def conv_weight(self, x, g, kernel_size, stride=(1,), padding=(0,), dilation=(1,), groups=1):
        """The gradient of ``conv(x, w, ...)`` for ``w`` (O, C/groups, *kernel_size), given output gradient ``g``."""
        from ._conv import conv_weight
        return conv_weight(self, x, g, kernel_size, stride, padding, dilation, groups)

    @optional
    def conv_transpose(self, x, w, b=None, stride=(1,), padding=(0,), output_padding=(0,), dilation=(1,), groups=1):
        """PyTorch's transposed convolution of ``x`` (N, C, *L) with ``w`` (C, O/groups, *K), plus ``b`` (O,)."""
        from ._conv import conv_transpose
        return conv_transpose(self, x, w, b, stride, padding, output_padding, dilation, groups)

    # fused rows (Note [fused cross-entropy] in backend/_kernels.py)
    @optional
    def to_device(self, x, device, src=None):
        """``x`` (an array of this backend) as an array of ``device``'s backend: ``x`` itself when it is there.

        ``src`` is ignored: the graph-mode twin (the ``to_device`` op) records it for its VJP.
        """
        from . import get, move
        return move(x, get(device))

    @optional
    def ce_rows(self, x, t, ignore_index):
        """Cross-entropy of each row of (N, C) logits ``x`` against class indices ``t``.

        Returns ``(loss, count)``: per-row losses (0 where ``t == ignore_index``)
        and the number of rows not ignored. Raises IndexError for a class out of range.
        """
        n, c = x.shape
        valid = t != ignore_index
        ts = self.where(valid, t, 0)
        if ts.size and (self.min(ts) < 0 or self.max(ts) >= c):
            bad = self.to_numpy(ts)
            raise IndexError(f"Target {int(bad[(bad < 0) | (bad >= c)][0])} is out of bounds for {c} classes "
                             f"(input shape {tuple(x.shape)})")
        m = self.max(x, axis=1, keepdims=True)
        lse = self.log(self.sum(self.exp(x - m), axis=1)) + self.reshape(m, (n,))
        picked = self.reshape(self.take_along_axis(x, self.reshape(ts, (n, 1)), 1), (n,))
        loss = (lse - picked) * valid
        return self.astype(loss, x.dtype), int(self.to_numpy(self.sum(valid)))

    @optional
    def ce_rows_grad(self, x, t, ignore_index, scale):
        """Gradient of ``sum(scale * ce_rows(x, t))`` with respect to ``x``: ``(softmax - onehot) * scale``."""
        n, c = x.shape
        valid = t != ignore_index
        ts = self.where(valid, t, 0)
        e = self.exp(x - self.max(x, axis=1, keepdims=True))
        p = e / self.sum(e, axis=1, keepdims=True)
        onehot = self.reshape(ts, (n, 1)) == self.reshape(self.arange(0, c, 1, ts.dtype), (1, c))
        s = self.reshape(scale * valid, (n, 1))
        return self.astype((p - onehot) * s, x.dtype)

    @optional
    def ce_rows_grad_reduced(self, x, t, ignore_index, g, mean):
        """``ce_rows_grad`` of the 'mean' (``mean=True``: over the rows not ignored, at least 1) or 'sum'
        reduced loss, for the 0-d output gradient ``g`` of ``x``'s dtype."""
        if mean:
            g = g / self.astype(self.maximum(self.sum(t != ignore_index), 1), x.dtype)
        return self.ce_rows_grad(x, t, ignore_index, self.broadcast_to(g, (x.shape[0],)))

    # fused layer norm over the rows of a 2-D array (Note [fused layer_norm rows] in backend/_kernels_norm.py)
    @optional
    def layer_norm_rows(self, x, w, b, eps):
        """``(x - mean) / sqrt(var + eps) * w + b`` per row of 2-D ``x``; ``w``, ``b``: (columns,) or None."""
        n = x.shape[1]
        out = x - self.sum(x, axis=1, keepdims=True) / n
        out = out / self.sqrt(self.sum(out * out, axis=1, keepdims=True) / n + eps)
        if w is not None:
            out = out * w
        if b is not None:
            out = out + b
        return self.astype(out, x.dtype)

    @optional
    def softmax_rows(self, x):
        """Softmax of each row of 2-D ``x`` (Note [softmax rows] in backend/_kernels_norm.py), max subtracted first."""
        e = self.exp(x - self.max(x, axis=1, keepdims=True))
        return e / self.sum(e, axis=1, keepdims=True)

    @optional
    def layer_norm_rows_grad(self, g, x, w, eps, needs):
        """``(gx, gw, gb)`` of ``layer_norm_rows(x, w, b, eps)`` for output gradient ``g``; None where not ``needs``."""
        n = x.shape[1]
        xc = x - self.sum(x, axis=1, keepdims=True) / n
        rstd = 1 / self.sqrt(self.sum(xc * xc, axis=1, keepdims=True) / n + eps)
        xhat = xc * rstd
        gx = gw = gb = None
        if needs[0]:
            gy = g if w is None else g * w
            gx = self.astype(rstd * (gy - self.sum(gy, axis=1, keepdims=True) / n
                                     - xhat * (self.sum(gy * xhat, axis=1, keepdims=True) / n)), x.dtype)
        if needs[1]:
            gw = self.astype(self.sum(g * xhat, axis=0), x.dtype)
        if needs[2]:
            gb = self.astype(self.sum(g, axis=0), x.dtype)
        return gx, gw, gb

    # dense linear algebra (ops/linalg_decomp.py): batched over leading dims, NumPy's ``np.linalg``
    # semantics; a singular or not positive-definite input raises ``np.linalg.LinAlgError``
    # (a ValueError). A backend without them raises NotImplementedError naming the op.
    @probed
    def inv(self, a):
        """``np.linalg.inv``: the inverse of each square matrix of ``a`` (..., n, n)."""
    @probed
    def solve(self, a, b):
        """``np.linalg.solve`` for matrix right-hand sides: ``X`` with ``a @ X == b``, ``b`` (..., n, k)."""
    @probed
    def cholesky(self, a):
        """``np.linalg.cholesky``: the lower factor ``L`` with ``a == L @ L.T``."""
    @probed
    def qr(self, a, mode="reduced"):
        """``np.linalg.qr(a, mode)``: ``(Q, R)`` for ``'reduced'``/``'complete'``, ``R`` alone for ``'r'``."""
    @probed
    def svd(self, a, full_matrices=True):
        """``np.linalg.svd(a, full_matrices)``: ``(U, S, Vh)``, singular values in descending order."""
    @probed
    def eigh(self, a, UPLO="L"):
        """``np.linalg.eigh(a, UPLO)``: ``(w, v)``, eigenvalues ascending, eigenvectors in columns."""
    @probed
    def det(self, a):
        """``np.linalg.det``: the determinant of each square matrix."""
    @probed
    def slogdet(self, a):
        """``np.linalg.slogdet``: ``(sign, logabsdet)`` of each square matrix."""

    @optional
    def matrix_exp(self, a):
        """The matrix exponential of each square matrix of ``a`` (..., n, n) (Note [matrix_exp])."""
        from ._linalg import matrix_exp
        return matrix_exp(self, a)

    # ------------------------------------------------------------------ optional capabilities, probed
    # Note [fused updates] (optim/optimizer.py): callers use getattr(be, name, None) and fall back to
    # in-place operator code. Arrays are C-contiguous, of one float dtype and one shape.
    @probed
    def sgd_update_(self, param, grad, buf, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                    maximize=False, first_step=False):
        """One SGD step on ``param`` (and momentum ``buf``) in place, PyTorch's single-tensor formula."""
    @probed
    def adam_update_(self, param, grad, exp_avg, exp_avg_sq, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                     weight_decay=0.0, decoupled=False, maximize=False):
        """One Adam (``decoupled``: AdamW) step on ``param`` and its moments in place, PyTorch's formula."""

    # Note [multi-tensor updates] (backend/_kernels.py): a parameter group at once; composed from the
    # single-tensor update, so a backend with ``sgd_update_``/``adam_update_`` has these too.
    @optional
    def sgd_update_multi_(self, params, grads, bufs, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
                          nesterov=False, maximize=False, first_step=False):
        """``sgd_update_`` on each of ``params`` with its gradient and buffer (``bufs`` unused without momentum)."""
        for i, p in enumerate(params):
            self.sgd_update_(p, grads[i], bufs[i] if momentum else None, lr, momentum=momentum, dampening=dampening,
                             weight_decay=weight_decay, nesterov=nesterov, maximize=maximize, first_step=first_step)

    @optional
    def adam_update_multi_(self, params, grads, exp_avgs, exp_avg_sqs, step, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                           weight_decay=0.0, decoupled=False, maximize=False):
        """``adam_update_`` on each of ``params`` with its gradient and moments, all at ``step``."""
        for i, p in enumerate(params):
            self.adam_update_(p, grads[i], exp_avgs[i], exp_avg_sqs[i], step, lr, beta1=beta1, beta2=beta2, eps=eps,
                              weight_decay=weight_decay, decoupled=decoupled, maximize=maximize)


# Note [sliding windows]
# ``sliding_windows`` is im2col without the copy: convolution and pooling read
# every window through one strided view (new strides over the same memory, so
# no kernel on the GPU either), and the copy happens once, in the reshape that
# feeds a matmul or a reduction. ``window_view_layout`` computes the view's
# shape and element strides for both backends.
def window_view_layout(shape, strides, axes, window, stride, dilation):
    """``(shape, strides)`` of the sliding-window view of an array (strides in any unit).

    Example:
        >>> from tapegrad.backend.base import window_view_layout
        >>> window_view_layout((2, 5), (5, 1), (1,), (3,), (2,), (1,))
        ((2, 2, 3), (5, 2, 1))
    """
    axes, window, stride, dilation = (tuple(int(v) for v in t) for t in (axes, window, stride, dilation))
    if not len(axes) == len(window) == len(stride) == len(dilation):
        raise ValueError(f"sliding_windows: axes {axes}, window {window}, stride {stride} and dilation {dilation} "
                         "must have one length")
    nd = len(shape)
    axes = tuple(a % nd if -nd <= a < nd else a for a in axes)
    if any(not 0 <= a < nd for a in axes) or len(set(axes)) != len(axes):
        raise ValueError(f"sliding_windows: axes {axes} are not distinct axes of an array of shape {tuple(shape)}")
    if any(v < 1 for v in window + stride + dilation):
        raise ValueError(f"sliding_windows: window {window}, stride {stride} and dilation {dilation} must be "
                         "positive")
    out_shape, out_st = list(shape), list(strides)
    win_shape, win_st = [], []
    for a, k, s, d in zip(axes, window, stride, dilation):
        span = d * (k - 1) + 1
        if span > shape[a]:
            raise ValueError(f"sliding_windows: a window of {k} with dilation {d} spans {span} elements, more than "
                             f"the {shape[a]} of axis {a} (shape {tuple(shape)})")
        out_shape[a] = (shape[a] - span) // s + 1
        out_st[a] = strides[a] * s
        win_shape.append(k)
        win_st.append(strides[a] * d)
    return tuple(out_shape + win_shape), tuple(out_st + win_st)


def declared_methods():
    """Every method of the backend interface, mapped to its kind: "required", "default" or "probed".

    Example:
        >>> from tapegrad.backend.base import declared_methods
        >>> kinds = declared_methods()
        >>> kinds["matmul"], kinds["ce_rows"], kinds["sgd_update_"]
        ('required', 'default', 'probed')
    """
    out = {}
    for name, v in vars(ArrayBackend).items():
        if isinstance(v, _Declared):
            out[name] = v.kind
        elif getattr(v, "backend_kind", None):
            out[name] = v.backend_kind
    return out
