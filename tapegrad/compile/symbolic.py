"""Symbolic arrays: run an op's forward or VJP once on placeholders to write it as scalar code.

# Note [what may be fused]
A step may join a fused kernel when its forward (or VJP) calls nothing but
elementwise arithmetic on its array arguments. We do not keep a table of such
ops: ``Builder.run`` calls the op's own forward/VJP with ``SymNamespace`` as
its backend ``be``/``F`` and ``Sym`` placeholders as its arrays. Each operator
or supported backend method appends one line of scalar code (``t3 = t1 * t2``)
and returns a new ``Sym``; anything else (a reduction, ``matmul``, indexing,
``bool(x)`` for data-dependent Python, an unknown method) raises
``NotFusable`` and the step stays an ordinary call. Every array a fused step
touches has the group's dtype and either the group's shape or a single element
(read at index 0): elementwise arithmetic on a C-ordered flat index then gives
exactly NumPy's broadcasting, and ``reshape``/``broadcast_to`` are the identity
on that index (a single element broadcasts; a same-size reshape keeps the C
order). Python numbers become constants of the group's dtype, so float32
arithmetic stays float32 as in NumPy (NumPy's ``maximum``/``minimum`` NaN rule
is kept; the only differences from eager are rounding within float tolerance).

# Note [uniform lines]
A value computed only from constants and one-element arrays has one element
(``Builder._shape``), so it is the same at every index of the loop: such a
line is marked in ``Builder.uniform``. The CPU kernel computes these lines
once, before its loop (in a one-element group that is every line): the same
operations in the same order, so the same bits, and LLVM is spared hoisting
them itself, which took it 11.7 s of CPU for a 450-step one-element chain
(0.05 s once they stood before the loop).
"""
import math

__all__ = ["NotFusable", "Sym", "Builder"]


class NotFusable(Exception):
    """Raised while running a step symbolically when it is not elementwise."""


_NUM = (int, float, bool)


def _size(shape):
    return math.prod(shape)


class Sym:
    """One scalar value of the generated loop body, standing for an array of ``shape``."""
    __slots__ = ("b", "name", "shape", "dtype")
    __array_ufunc__ = None          # NumPy scalars defer to our reflected operators

    def __init__(self, b, name, shape):
        self.b, self.name, self.shape, self.dtype = b, name, tuple(shape), b.dtype

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: _size(self.shape))

    def __bool__(self):
        raise NotFusable("data-dependent Python (bool of an array)")

    __len__ = __iter__ = __float__ = __int__ = __index__ = __bool__

    def __getattr__(self, name):
        raise NotFusable(f"array attribute or method {name!r}")

    # arithmetic: one line each (Note [what may be fused])
    def _bin(self, other, fmt, swap=False):
        return self.b.binary(other, self, fmt) if swap else self.b.binary(self, other, fmt)

    __add__ = lambda s, o: s._bin(o, "({} + {})")
    __radd__ = lambda s, o: s._bin(o, "({} + {})", True)
    __sub__ = lambda s, o: s._bin(o, "({} - {})")
    __rsub__ = lambda s, o: s._bin(o, "({} - {})", True)
    __mul__ = lambda s, o: s._bin(o, "({} * {})")
    __rmul__ = lambda s, o: s._bin(o, "({} * {})", True)
    __truediv__ = lambda s, o: s._bin(o, "({} / {})")
    __rtruediv__ = lambda s, o: s._bin(o, "({} / {})", True)
    __pow__ = lambda s, o: s._bin(o, "({} ** {})")
    __rpow__ = lambda s, o: s._bin(o, "({} ** {})", True)
    __gt__ = lambda s, o: s._bin(o, "({} > {})")
    __lt__ = lambda s, o: s._bin(o, "({} < {})")
    __ge__ = lambda s, o: s._bin(o, "({} >= {})")
    __le__ = lambda s, o: s._bin(o, "({} <= {})")
    __eq__ = lambda s, o: s._bin(o, "({} == {})")
    __ne__ = lambda s, o: s._bin(o, "({} != {})")
    __and__ = lambda s, o: s._bin(o, "({} and {})")
    __or__ = lambda s, o: s._bin(o, "({} or {})")
    __hash__ = object.__hash__

    def __neg__(self):
        return self.b.unary(self, "(-{})")

    def __pos__(self):
        return self

    def __abs__(self):
        return self.b.unary(self, "abs({})")

    def __invert__(self):
        return self.b.unary(self, "(not {})")


_UNARY = {
    "exp": "np.exp({})", "log": "np.log({})", "log1p": "np.log1p({})", "expm1": "np.expm1({})",
    "sqrt": "np.sqrt({})", "sin": "np.sin({})", "cos": "np.cos({})", "tan": "np.tan({})",
    "tanh": "np.tanh({})", "abs": "abs({})", "negative": "(-{})", "sign": "np.sign({})",
    "reciprocal": "(1 / {})", "square": "({0} * {0})", "erf": "math.erf({})", "floor": "np.floor({})",
    "sigmoid": "(1 / (1 + np.exp(-{})))",
}
_BINARY = {
    "add": "({} + {})", "subtract": "({} - {})", "multiply": "({} * {})", "divide": "({} / {})",
    "power": "({} ** {})", "greater": "({} > {})", "less": "({} < {})",
    # NumPy's rule: a NaN in either argument wins
    "maximum": "({0} if ({0} >= {1} or {0} != {0}) else {1})",
    "minimum": "({0} if ({0} <= {1} or {0} != {0}) else {1})",
}


class SymNamespace:
    """The backend (``be``) or VJP math (``F``) seen by a step run symbolically."""

    def __init__(self, builder):
        self._b = builder

    def __getattr__(self, name):
        b = self._b
        if name in _UNARY:
            return lambda x: b.unary(x, _UNARY[name])
        if name in _BINARY:
            return lambda x, y: b.binary(x, y, _BINARY[name])
        raise NotFusable(f"backend method {name!r}")

    def where(self, c, x, y):
        return self._b.nary((c, x, y), "({1} if {0} else {2})")

    def broadcast_to(self, x, shape):
        return self._b.reshaped(x, shape, broadcast=True)

    def reshape(self, x, shape):
        return self._b.reshaped(x, shape)

    def astype(self, x, dtype):
        if str(dtype) != self._b.dtype:
            raise NotFusable(f"a cast to {dtype}")
        return x


class Builder:
    """The code of one fused group: inputs, constants and the loop body's lines, for one (shape, dtype)."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype = tuple(shape), str(dtype)
        self.n = _size(self.shape)
        self.lines = []
        self.uniform = []       # per line: its value is the same at every index (Note [uniform lines])
        self.consts = {}
        self.count = 0
        self.ns = SymNamespace(self)

    def new(self, shape, code=None):
        name = f"t{self.count}"
        self.count += 1
        if code is not None:
            self.lines.append(f"{name} = {code}")
            self.uniform.append(_size(shape) == 1)
        return Sym(self, name, shape)

    def _arg(self, x):
        if isinstance(x, Sym):
            if x.b is not self:
                raise NotFusable("a value of another group")
            return x.name, x.shape
        if x.__class__ in _NUM or (hasattr(x, "dtype") and getattr(x, "shape", None) == () and
                                   x.dtype.kind in "biuf"):
            v = float(x) if x.__class__ is not bool else x
            if v.__class__ is bool:
                return ("True" if v else "False"), ()
            if v != v or v in (math.inf, -math.inf):
                raise NotFusable("a non-finite constant")
            c = self.consts.get(v)
            if c is None:
                c = self.consts[v] = f"c{len(self.consts)}"
            return c, ()
        raise NotFusable(f"an argument of type {type(x).__name__}")

    def _shape(self, shapes):
        big = [s for s in shapes if _size(s) != 1]
        if any(s != self.shape for s in big):
            raise NotFusable("arrays of different shapes")
        return self.shape if big else max(shapes, key=len, default=())

    def unary(self, x, fmt):
        a, s = self._arg(x)
        return self.new(s, fmt.format(a))

    def binary(self, x, y, fmt):
        (a, sa), (b, sb) = self._arg(x), self._arg(y)
        return self.new(self._shape((sa, sb)), fmt.format(a, b))

    def nary(self, xs, fmt):
        args = [self._arg(x) for x in xs]
        return self.new(self._shape([s for _, s in args]), fmt.format(*[a for a, _ in args]))

    def reshaped(self, x, shape, broadcast=False):
        if not isinstance(x, Sym):
            raise NotFusable("reshape of a constant")
        shape = tuple(shape)
        if _size(x.shape) != 1 and (_size(shape) != _size(x.shape) or (broadcast and shape != x.shape)):
            raise NotFusable("a reshape that moves elements")
        if _size(shape) != 1 and shape != self.shape:
            raise NotFusable("a result of another shape")
        return Sym(self, x.name, shape)

    def run(self, fn, *args, **kwargs):
        """Run ``fn`` symbolically; on ``NotFusable`` (or any error) the lines it added are taken back."""
        n0, c0 = len(self.lines), self.count
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            del self.lines[n0:]
            del self.uniform[n0:]
            self.count = c0
            raise e if isinstance(e, NotFusable) else NotFusable(f"{type(e).__name__}: {e}")
