"""The array-level interface every backend implements, with NumPy's names and semantics.

Ops call only these methods, never NumPy directly, so the same op runs on any
device. Arrays of a backend must also support Python's arithmetic and
comparison operators (``a * b``, ``1 - a``, ``a > 0``) with NumPy semantics:
VJPs use them on raw arrays when no graph is being built. The API above
speaks PyTorch (``dim``, ``keepdim``); backends speak NumPy (``axis``,
``keepdims``); ops translate once.
"""


class ArrayBackend:
    """Abstract array backend. See ``NumpyBackend`` for the reference implementation.

    Every method below has NumPy's semantics for the arrays of that backend.
    """
    device_type = None        # "cpu" or "cuda"
    array_types = ()          # the concrete array classes this backend owns

    # creation ---------------------------------------------------------------
    def asarray(self, x, dtype=None): raise NotImplementedError
    def zeros(self, shape, dtype): raise NotImplementedError
    def ones(self, shape, dtype): raise NotImplementedError
    def full(self, shape, value, dtype): raise NotImplementedError
    def empty(self, shape, dtype): raise NotImplementedError
    def arange(self, start, stop, step, dtype): raise NotImplementedError
    def linspace(self, start, stop, num, dtype): raise NotImplementedError
    def eye(self, n, m, dtype): raise NotImplementedError
    def to_numpy(self, x): raise NotImplementedError
    def from_numpy(self, a): raise NotImplementedError
    def copy(self, x): raise NotImplementedError
    def astype(self, x, dtype): raise NotImplementedError
    def is_view(self, x): raise NotImplementedError
    def is_contiguous(self, x): raise NotImplementedError

    # random -----------------------------------------------------------------
    def seed(self, s): raise NotImplementedError
    def rand(self, shape, dtype): raise NotImplementedError
    def randn(self, shape, dtype): raise NotImplementedError
    def randint(self, low, high, shape, dtype): raise NotImplementedError
    def bernoulli(self, p, shape, dtype): raise NotImplementedError
    def permutation(self, n): raise NotImplementedError

    # elementwise: unary (neg exp log log1p expm1 sqrt abs sign sin cos tan tanh
    # sigmoid erf floor ceil round logical_not isnan isinf isfinite), binary
    # (add subtract multiply divide power maximum minimum floor_divide remainder
    # equal not_equal less less_equal greater greater_equal logical_and
    # logical_or logical_xor arctan2), where(cond, a, b), clip(x, lo, hi).

    # reductions: sum prod max min argmax argmin (x, axis, keepdims)
    # movement: reshape transpose broadcast_to concatenate stack flip getitem
    #           setitem scatter_add take_along_axis repeat tile ascontiguousarray
    # linalg: matmul einsum

    # fused rows (Note [fused cross-entropy]); these defaults compose the methods
    # above, and a backend overrides them with one-pass kernels.
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
