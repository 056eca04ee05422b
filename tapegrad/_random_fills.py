"""In-place random fills: ``normal_ uniform_ bernoulli_ random_ exponential_ geometric_ log_normal_ cauchy_``.

Each checks its arguments, draws a sample of the tensor's shape from its device's stream (Note [random draws]
in _random_functions.py; ``generator=`` as everywhere) and writes it through ``ops.inplace._inplace``, so the
in-place rules hold (Note [in-place] in ops/inplace.py): a leaf that requires grad raises, the version counter
moves, views see the values, and a tensor with history gets a zero gradient through the fill (torch's
``NormalBackward``...). ``zero_`` and ``fill_`` live in ops/inplace.py.
"""
import math

import numpy as np

from . import _dtype as D
from . import _generator as G
from ._random_functions import scalar_name
from ._tensor import Tensor
from .ops import elementwise as E
from .ops.inplace import _inplace, _all_true, check_writable, _check_target
from .tape import grad_mode as _gm

__all__ = []


def _compute_dtype(t):
    return D.float32 if t.dtype is D.float16 else t.dtype


def _float_only(name, t, what):
    if not t.dtype.is_floating_point:
        raise RuntimeError(f"{name}: {what} dtype must be a floating point but you specified "
                           f"{scalar_name(t.dtype)}")


def _draw(t, generator, name, method, *args):
    return Tensor._make(G.draw(generator, t._backend, name, method, tuple(t.shape), *args), None)


def _write(name, t, make):
    """Check ``t`` can be written, then draw (``make()``) and write the sample into it."""
    check_writable(name, t)
    _check_target(name, t)
    with _gm.no_grad():
        sample = make()
    return _inplace(name, t, lambda s: E.where(_all_true(s), sample, s), False, cast_check=False)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """In-place: fill with samples of a normal distribution ``N(mean, std**2)``; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(3).normal_(4.0, 0.0)
        tensor([4., 4., 4.])
    """
    if not self.dtype.is_floating_point:
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{scalar_name(self.dtype)}' "
                                  "(normal_)")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _write("normal_", self, lambda: _draw(self, generator, "normal_", "randn", _compute_dtype(self).np)
                  * float(std) + float(mean))


def uniform_(self, from_=0.0, to=1.0, *, generator=None, **kw):
    """In-place: fill with uniform samples from ``[from, to)``; returns self.

    Example:
        >>> import tapegrad
        >>> t = tapegrad.zeros(100).uniform_(2, 3)
        >>> bool(((t >= 2) & (t < 3)).all())
        True
    """
    from_ = kw.pop("from", from_)
    if kw:
        raise TypeError(f"uniform_() got an unexpected keyword argument {next(iter(kw))!r}")
    if not self.dtype.is_floating_point:
        raise NotImplementedError(f"\"check_uniform_bounds\" not implemented for '{scalar_name(self.dtype)}' "
                                  "(uniform_)")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={from_} > to={to}")
    return _write("uniform_", self, lambda: _draw(self, generator, "uniform_", "rand", _compute_dtype(self).np)
                  * (float(to) - float(from_)) + float(from_))


def bernoulli_(self, p=0.5, *, generator=None):
    """In-place: fill with 1 (probability ``p``, a number or a tensor broadcast to self) or 0; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(3, dtype=tapegrad.int64).bernoulli_(1.0)
        tensor([1, 1, 1])
    """
    be = self._backend
    if isinstance(p, Tensor):
        if p.device != self.device:
            raise RuntimeError(f"bernoulli_: expected p on {self.device}, got {p.device}")
        probs = p.detach().to(D.float64 if p.dtype is D.float64 else D.float32).expand(*self.shape).contiguous()
        host = be.to_numpy(probs._data)
        if host.size and not ((host >= 0) & (host <= 1)).all():
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false. (bernoulli_: every "
                               "probability must lie in [0, 1])")
        arg = probs._data
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        arg = float(p)
    return _write("bernoulli_", self, lambda: Tensor._make(
        G.draw(generator, be, "bernoulli_", "bernoulli", arg, tuple(self.shape), self.dtype.np), None))


def _default_to(dtype):
    if dtype.is_floating_point:
        return (1 << {"float16": 11, "float32": 24, "float64": 53}[dtype.name]) + 1
    if dtype is D.bool:
        return 2
    return int(np.iinfo(dtype.np).max) + (0 if dtype is D.int64 else 1)


def random_(self, *args, generator=None, **kw):
    """In-place: fill with integers from ``[from, to)``; ``random_(to)``, ``random_(from, to)`` or ``random_()``
    (``[0, 2**mantissa]`` for floats, ``[0, max]`` for integers); returns self.

    Example:
        >>> import tapegrad
        >>> t = tapegrad.zeros(50, dtype=tapegrad.int64).random_(3)
        >>> sorted(set(t.tolist())) == [0, 1, 2]
        True
    """
    if len(args) > 2:
        raise TypeError(f"random_() takes at most 2 positional arguments ({len(args)} given)")
    lo, hi = (0, None) if not args else (0, args[0]) if len(args) == 1 else args
    lo, hi = kw.pop("from", lo), kw.pop("to", hi)
    if kw:
        raise TypeError(f"random_() got an unexpected keyword argument {next(iter(kw))!r}")
    hi = _default_to(self.dtype) if hi is None else int(hi)
    lo = int(lo)
    if lo >= hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= to={hi}")
    return _write("random_", self, lambda: Tensor._make(
        G.draw(generator, self._backend, "random_", "randint", lo, hi, tuple(self.shape), np.int64), None))


def exponential_(self, lambd=1.0, *, generator=None):
    """In-place: fill with exponential samples of rate ``lambd``; returns self.

    Example:
        >>> import tapegrad
        >>> bool((tapegrad.zeros(20).exponential_(2.0) >= 0).all())
        True
    """
    _float_only("exponential_", self, "Exponential distribution is a continuous probability distribution.")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _write("exponential_", self, lambda: (-_draw(self, generator, "exponential_", "rand",
                                                        _compute_dtype(self).np)).log1p() * (-1.0 / lambd))


def geometric_(self, p, *, generator=None):
    """In-place: fill with geometric samples (trials up to the first success, probability ``p``); returns self.

    Example:
        >>> import tapegrad
        >>> bool((tapegrad.zeros(20).geometric_(0.5) >= 1).all())
        True
    """
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    # ceil(log(1-u) / log(1-p)), u in [0, 1): at least 1 (u = 0 gives 0, moved up to 1)
    return _write("geometric_", self, lambda: ((-_draw(self, generator, "geometric_", "rand", np.float64)).log1p()
                                               / math.log1p(-p)).ceil().clamp(min=1))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """In-place: fill with ``exp(N(mean, std**2))`` samples; returns self.

    Example:
        >>> import tapegrad
        >>> bool((tapegrad.zeros(20).log_normal_() > 0).all())
        True
    """
    _float_only("log_normal_", self, "log_normal_ is a continuous probability distribution.")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return _write("log_normal_", self, lambda: (_draw(self, generator, "log_normal_", "randn",
                                                      _compute_dtype(self).np) * float(std) + float(mean)).exp())


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """In-place: fill with Cauchy samples ``median + sigma * tan(pi * (u - 1/2))``; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.zeros(4).cauchy_().shape
        tapegrad.Size([4])
    """
    _float_only("cauchy_", self, "Cauchy distribution is a continuous probability distribution.")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _write("cauchy_", self, lambda: ((_draw(self, generator, "cauchy_", "rand", _compute_dtype(self).np)
                                             - 0.5) * math.pi).tan() * float(sigma) + float(median))


METHODS = {"normal_": normal_, "uniform_": uniform_, "bernoulli_": bernoulli_, "random_": random_,
           "exponential_": exponential_, "geometric_": geometric_, "log_normal_": log_normal_, "cauchy_": cauchy_}
