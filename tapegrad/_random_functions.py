"""Random sampling functions: ``multinomial``, ``bernoulli``, ``normal``, ``poisson``, ``randint_like``.

Note [random draws]: every draw comes from the stream of the device the result lives on (Note [generator
streams] in _generator.py), through ``generator=`` when given: the CPU draws from its NumPy stream, CUDA from
its Philox stream, and a generator of the other device raises as torch does. The distributions are made from
the backends' ``rand``/``randn``/``randint``/``bernoulli`` with Tensor math, so they run unchanged on every
backend. ``multinomial`` and ``poisson`` are the exception: their uniforms come from the device's stream, but
the selection (a sort, a cumulative sum, a rejection loop) runs on the host in NumPy, because the backends have
no sort or cumsum; the indices go back to the tensor's device. Samples are not differentiable: as in torch,
``normal``/``bernoulli``/``poisson`` of inputs that require grad return a result whose gradient is zero.
"""
import math

import numpy as np

from . import _dtype as D
from . import _generator as G
from ._creation import _bd, _shape, _finish
from ._tensor import Tensor
from .ops import elementwise as E
from .tape import grad_mode as _gm

__all__ = ["multinomial", "bernoulli", "normal", "poisson", "randint_like"]


_SCALAR_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                 "float16": "Half", "float32": "Float", "float64": "Double"}


def scalar_name(dtype):
    """torch's C++ name of ``dtype`` (``Long``, ``Float``...), as its kernel errors print it.

    Example:
        >>> import tapegrad
        >>> scalar_name(tapegrad.int64)
        'Long'
    """
    return _SCALAR_NAMES.get(dtype.name, dtype.name)


def _draw(generator, be, fn, method, *args):
    return Tensor._make(G.draw(generator, be, fn, method, *args), None)


def _zero_grad(sample, *inputs):
    """``sample``, linked to the ``inputs`` that require grad by a zero gradient (torch's sampler backward)."""
    live = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not live or not _gm.STATE.enabled:
        return sample
    link = live[0] * 0
    for x in live[1:]:
        link = link + x * 0
    return E.where(Tensor._make(sample._backend.full(sample._data.shape, True, np.bool_), None), sample,
                   link.to(sample.dtype))


def _host(t):
    return t._backend.to_numpy(t._data)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn from the categorical distributions given by the rows of ``input`` (non-negative weights).

    Args:
        input: a 1-d or 2-d floating tensor of weights (rows need not sum to 1).
        num_samples: how many indices per row.
        replacement: draw with replacement; without it an index is drawn at most once per row.
        generator: the ``tapegrad.Generator`` to draw from (of the input's device).

    Returns:
        an int64 tensor of shape ``(num_samples,)`` or ``(rows, num_samples)`` on the input's device.

    Example:
        >>> import tapegrad
        >>> tapegrad.multinomial(tapegrad.tensor([0.0, 1.0, 0.0]), 3, replacement=True).tolist()
        [1, 1, 1]
        >>> sorted(tapegrad.multinomial(tapegrad.tensor([1.0, 1.0, 0.0]), 2).tolist())
        [0, 1]
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial(): argument 'input' must be Tensor, not {type(input).__name__}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{scalar_name(input.dtype)}")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim (multinomial got shape {tuple(input.shape)})")
    n = int(num_samples)
    if n <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples (multinomial: num_samples={n})")
    m = input.shape[-1]
    if not replacement and n > m:
        raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without replacement "
                           f"(multinomial: num_samples={n}, {m} categories)")
    if m > (1 << 24):
        raise RuntimeError(f"number of categories cannot exceed 2^24 (multinomial got {m})")
    be = input._backend
    w = _host(input).astype(np.float64).reshape(-1, m)
    if not np.isfinite(w).all() or (w < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if w.shape[0] and (w.sum(axis=1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rows = w.shape[0]
    u = _host(_draw(generator, be, "multinomial", "rand", (rows, n if replacement else m), np.float64))
    if replacement:                                  # inverse CDF of each row's normalised weights
        cdf = np.cumsum(w, axis=1)
        cdf /= cdf[:, -1:]
        idx = np.stack([np.searchsorted(cdf[r], u[r], side="right") for r in range(rows)]) if rows else \
            np.zeros((0, n), np.int64)
        idx = np.minimum(idx, m - 1)
        for r in range(rows):                        # rounding at a flat step of the CDF: step to a live index
            while (w[r, idx[r]] == 0).any():
                idx[r] = np.where(w[r, idx[r]] == 0, idx[r] - 1, idx[r])
    else:                                            # exponential races: the n smallest E_i / w_i
        with np.errstate(divide="ignore", invalid="ignore"):
            keys = -np.log1p(-u) / w
        keys[w == 0] = np.inf                        # zero-weight categories come last
        idx = np.argsort(keys, axis=1, kind="stable")[:, :n]
    idx = idx.astype(np.int64).reshape(input.shape[:-1] + (n,))
    return Tensor._make(be.asarray(idx, np.int64), None)


def bernoulli(input, p=None, *, generator=None):
    """0/1 samples: each element is 1 with probability ``input`` (or ``p`` when given), in the input's dtype.

    Args:
        input: probabilities in [0, 1] (or, with ``p``, a tensor giving the shape and dtype).
        p: one probability for every element.
        generator: the ``tapegrad.Generator`` to draw from.

    Returns:
        a tensor of ``input``'s shape, dtype and device.

    Example:
        >>> import tapegrad
        >>> tapegrad.bernoulli(tapegrad.tensor([0.0, 1.0, 1.0]))
        tensor([0., 1., 1.])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli(): argument 'input' must be Tensor, not {type(input).__name__}")
    be = input._backend
    if p is not None:
        if isinstance(p, Tensor) or not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli expects p to be a number in [0, 1], but got p={p}")
        out = _draw(generator, be, "bernoulli", "bernoulli", float(p), tuple(input.shape), input.dtype.np)
        return _zero_grad(out, input)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for '{scalar_name(input.dtype)}' "
                                  "(bernoulli takes floating probabilities)")
    probs = _host(input)
    if probs.size and not ((probs >= 0) & (probs <= 1)).all():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false. (bernoulli: every "
                           "probability must lie in [0, 1])")
    src = input._data if be.is_contiguous(input._data) else be.ascontiguousarray(input._data)
    out = _draw(generator, be, "bernoulli", "bernoulli", src, tuple(input.shape), input.dtype.np)
    return _zero_grad(out, input)


def _std_check(std):
    if isinstance(std, Tensor):
        if std.numel() and bool((std.detach() < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Normal samples with the given ``mean`` and ``std`` (tensors broadcast; two numbers need ``size``).

    The four overloads of torch: ``normal(Tensor, Tensor)``, ``normal(Tensor, float=1)``,
    ``normal(float, Tensor)`` and ``normal(float, float, size)``.

    Args:
        mean: a floating tensor or a number.
        std: a floating tensor or a non-negative number.
        size: the output shape when both are numbers.
        generator: the ``tapegrad.Generator`` to draw from.

    Returns:
        the samples (the tensors' broadcast shape and promoted dtype, or ``size``).

    Example:
        >>> import tapegrad
        >>> tapegrad.normal(2.0, 0.0, (2,))
        tensor([2., 2.])
        >>> tapegrad.normal(tapegrad.tensor([1.0, 5.0]), 0.0)
        tensor([1., 5.])
    """
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        if size is None:
            raise TypeError(f"normal() received an invalid combination of arguments - got "
                            f"({type(mean).__name__}, {type(std).__name__}): two numbers need a size "
                            "(normal(mean, std, size))")
        _std_check(float(std))
        be, d = _bd(device, dtype, "normal")
        if not d.is_floating_point:
            raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{scalar_name(d)}'")
        z = _draw(generator, be, "normal", "randn", _shape((size,), "normal"), d.np)
        with _gm.no_grad():
            out = z * float(std) + float(mean)
        return _finish(out._data, requires_grad, "normal")
    if size is not None:
        raise TypeError("normal(): size is only accepted with a number mean and std")
    ref = mean if mt else std
    for name, t in (("mean", mean), ("std", std)):
        if isinstance(t, Tensor) and not t.dtype.is_floating_point:
            raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{scalar_name(t.dtype)}' "
                                      f"(normal: {name} must be a floating tensor)")
    if mt and st and mean.device != std.device:
        raise RuntimeError(f"normal: expected mean and std on the same device, got {mean.device} and {std.device}")
    _std_check(std)
    with _gm.no_grad():
        shape = (mean.detach() + std.detach()).shape if mt and st else ref.shape
        d = D.promote_types(mean.dtype, std.dtype) if mt and st else ref.dtype
        z = _draw(generator, ref._backend, "normal", "randn", tuple(shape), d.np)
        out = z * (std.detach() if st else float(std)) + (mean.detach() if mt else float(mean))
    return _zero_grad(out, mean, std)


def poisson(input, generator=None):
    """Poisson samples with the rates in ``input`` (a floating tensor of non-negative rates).

    Args:
        input: the rates.
        generator: the ``tapegrad.Generator`` to draw from.

    Returns:
        whole numbers in ``input``'s dtype, shape and device.

    Example:
        >>> import tapegrad
        >>> tapegrad.poisson(tapegrad.zeros(3))
        tensor([0., 0., 0.])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"poisson(): argument 'input' must be Tensor, not {type(input).__name__}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{scalar_name(input.dtype)}' "
                                  "(poisson takes floating rates)")
    lam = _host(input).astype(np.float64).reshape(-1)
    if lam.size and not (lam >= 0).all():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    be = input._backend

    def uniforms(k):
        return _host(_draw(generator, be, "poisson", "rand", (k,), np.float64))

    out = np.zeros(lam.shape, np.float64)
    _knuth(lam, out, lam < 10, uniforms)
    _ptrs(lam, out, lam >= 10, uniforms)
    res = out.reshape(tuple(input.shape)).astype(input.dtype.np)
    t = Tensor._make(be.asarray(res, res.dtype), None)
    return _zero_grad(t, input)


def _knuth(lam, out, sel, uniforms):
    """Small rates: multiply uniforms until the product drops below ``exp(-lam)``."""
    idx = np.nonzero(sel)[0]
    limit = np.exp(-lam[idx])
    prod = np.ones(idx.size)
    while idx.size:
        prod *= uniforms(idx.size)
        going = prod > limit
        out[idx[going]] += 1
        idx, prod, limit = idx[going], prod[going], limit[going]


def _ptrs(lam, out, sel, uniforms):
    """Large rates: Hormann's transformed rejection (PTRS), as NumPy's ``poisson`` for rates >= 10."""
    idx = np.nonzero(sel)[0]
    while idx.size:
        lm = lam[idx]
        slam, loglam = np.sqrt(lm), np.log(lm)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        U, V = uniforms(idx.size) - 0.5, uniforms(idx.size)
        us = 0.5 - np.abs(U)
        k = np.floor((2 * a / us + b) * U + lm + 0.43)
        quick = (us >= 0.07) & (V <= vr)
        with np.errstate(divide="ignore", invalid="ignore"):
            lg = np.array([math.lgamma(v + 1) if v >= 0 else 0.0 for v in k])
            slow = (k >= 0) & ~((us < 0.013) & (V > us)) & (
                np.log(V) + np.log(invalpha) - np.log(a / (us * us) + b) <= -lm + k * loglam - lg)
        ok = quick | slow
        out[idx[ok]] = k[ok]
        idx = idx[~ok]


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False, generator=None):
    """Random integers in ``[low, high)`` with ``input``'s shape (and by default its dtype and device).

    ``randint_like(input, high)`` draws from ``[0, high)``.

    Example:
        >>> import tapegrad
        >>> t = tapegrad.randint_like(tapegrad.zeros(4), 3, 5)
        >>> t.dtype, bool(((t >= 3) & (t < 5)).all())
        (tapegrad.float32, True)
    """
    from ._creation import randint
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=input.dtype if dtype is None else dtype,
                   device=input.device if device is None else device, requires_grad=requires_grad,
                   generator=generator)


METHODS = {"multinomial": multinomial, "bernoulli": bernoulli}
