"""OpSpecs for the regression and probabilistic losses of nn/_functional/loss.py (margins: losses_margin.py).

Targets that PyTorch wants as +-1 floats are drawn as int tensors of 0/1 and mapped by the spec's ``fn``
and ``torch_fn`` alike (``_pm``). Kinks (``|d| == beta``, a hinge at 0) are kept out of random draws with
``avoid`` and hit by ``Example(kink=True)`` cases, compared with PyTorch's gradient.
"""
import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad
from tapegrad.nn import functional as F

from . import Example, OpSpec, add

RED = st.sampled_from(["none", "mean", "sum"])
_GAP = 1e-3        # draws this close to a kink are skipped (finite differences step over it)


def _same_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4, n=2):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side).map(
        lambda s: (s,) * n)


def _mean_of_empty(*arrays, reduction="mean", **kw):
    """The mean over no element is nan: no point for finite differences."""
    return reduction == "mean" and arrays[0].size == 0


def _fd(fn_name, **fixed):
    """``(fn, torch_fn)`` calling ``F.<fn_name>`` in tapegrad and in PyTorch with the same arguments."""
    def fn(*xs, **kw):
        return getattr(F, fn_name)(*xs, **fixed, **kw)

    def torch_fn(torch, *xs, **kw):
        return getattr(torch.nn.functional, fn_name)(*xs, **fixed, **kw)
    return fn, torch_fn


def _with(add_kw):
    return lambda shapes: st.fixed_dictionaries(add_kw(shapes) if callable(add_kw) else add_kw)


# ----------------------------------------------------------------- smooth L1 and Huber
def _ref_smooth_l1(x, t, reduction="mean", beta=1.0):
    z = np.abs(x.astype(np.float64) - t)
    loss = z if beta == 0 else np.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)
    return _reduce(loss, reduction).astype(x.dtype)


def _ref_huber(x, t, reduction="mean", delta=1.0):
    z = np.abs(x.astype(np.float64) - t)
    return _reduce(np.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta)), reduction).astype(x.dtype)


def _reduce(loss, reduction):
    if reduction == "mean":
        return np.asarray(loss.mean())
    if reduction == "sum":
        return np.asarray(loss.sum())
    return loss


def _near(z, *points):
    return any(bool(np.any(np.abs(z - p) < _GAP)) for p in points)


def _kinks_at(name):
    def avoid(x, t, reduction="mean", **kw):
        b = kw.get(name, 1.0)
        d = x.astype(np.float64) - t
        return _mean_of_empty(x, reduction=reduction) or _near(d, 0.0, b, -b)
    return avoid


_KINK_X, _KINK_T = [0.5, 1.0, -0.25, 0.0, 2.0], [0.0, 0.0, 0.25, 0.0, 1.0]     # |d| = 0.5, 1, 0.5, 0, 1
fn, tfn = _fd("smooth_l1_loss")
add(OpSpec("smooth_l1_loss", fn, _ref_smooth_l1, _same_shapes(),
           _with({"reduction": RED, "beta": st.sampled_from([0.0, 0.5, 1.0])}), avoid=_kinks_at("beta"),
           covers=("abs", "where"), torch_fn=tfn,
           examples=tuple(Example([_KINK_X, _KINK_T], {"beta": b, "reduction": "none"}, kink=True)
                          for b in (0.0, 0.5, 1.0))))
fn, tfn = _fd("huber_loss")
add(OpSpec("huber_loss", fn, _ref_huber, _same_shapes(),
           _with({"reduction": RED, "delta": st.sampled_from([0.5, 1.0, 2.0])}), avoid=_kinks_at("delta"),
           covers=("abs", "where"), torch_fn=tfn,
           examples=tuple(Example([_KINK_X, _KINK_T], {"delta": d, "reduction": "sum"}, kink=True)
                          for d in (0.5, 1.0))))


# ----------------------------------------------------------------- KL divergence, Poisson and Gaussian NLL
def _ref_kl(x, t, reduction="mean", log_target=False):
    x64, t64 = x.astype(np.float64), t.astype(np.float64)
    loss = np.exp(t64) * (t64 - x64) if log_target else t64 * np.log(t64) - t64 * x64
    if reduction == "batchmean":
        return np.asarray(loss.sum() / (x.shape[0] if x.ndim else 1)).astype(x.dtype)
    return _reduce(loss, reduction).astype(x.dtype)


def _kl_kwargs(shapes):
    # "mean" warns (PyTorch's deprecation), so the random draws use the others; a test checks the warning
    return st.fixed_dictionaries({"reduction": st.sampled_from(["none", "sum", "batchmean"]),
                                  "log_target": st.booleans()})


fn, tfn = _fd("kl_div")
add(OpSpec("kl_div", fn, _ref_kl, _same_shapes(min_dims=1), _kl_kwargs, domain=[(-3.0, 0.0), (0.05, 1.0)],
           avoid=lambda x, t, reduction="none", **kw: reduction == "batchmean" and x.shape[0] == 0,
           covers=("log", "exp", "where"), torch_fn=tfn))


def _ref_poisson(x, t, log_input=True, full=False, eps=1e-8, reduction="mean"):
    x64, t64 = x.astype(np.float64), t.astype(np.float64)
    loss = np.exp(x64) - t64 * x64 if log_input else x64 - t64 * np.log(x64 + eps)
    if full:
        with np.errstate(divide="ignore", invalid="ignore"):
            st_ = t64 * np.log(t64) - t64 + 0.5 * np.log(2 * np.pi * t64)
        loss = loss + np.where(t64 > 1, st_, 0.0)
    return _reduce(loss, reduction).astype(x.dtype)


def _poisson_kwargs(shapes):
    return st.fixed_dictionaries({"reduction": RED, "log_input": st.booleans(), "full": st.booleans()})


fn, tfn = _fd("poisson_nll_loss")
add(OpSpec("poisson_nll_loss", fn, _ref_poisson, _same_shapes(), _poisson_kwargs,
           domain=[(0.1, 2.0), (1.05, 4.0)], avoid=_mean_of_empty, covers=("exp", "log", "where"), torch_fn=tfn,
           # target 0 with full=True: the target's gradient is nan (0 * log 0 in Stirling's term), in PyTorch too
           examples=(Example([[0.5, 1.0, 2.0], [0.0, 1.0, 3.0]], {"full": True, "reduction": "none"}, kink=True),)))


@st.composite
def _gaussian_shapes(draw):
    """input/target shape and var's: the same, the last dim dropped, or one dim made 1."""
    s = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    kind = draw(st.integers(0, 2))
    if kind == 1:
        v = s[:-1]
    elif kind == 2:
        i = draw(st.integers(0, len(s) - 1))
        v = s[:i] + (1,) + s[i + 1:]
        if v == s:
            v = s[:-1]
    else:
        v = s
    return (s, s, v)


def _ref_gaussian(x, t, v, full=False, eps=1e-6, reduction="mean"):
    v = np.asarray(v, np.float64)
    if v.shape != x.shape and v.shape == x.shape[:-1]:
        v = v[..., None]
    v = np.maximum(v, eps)
    loss = 0.5 * (np.log(v) + (x.astype(np.float64) - t) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction).astype(x.dtype)


fn, tfn = _fd("gaussian_nll_loss")
add(OpSpec("gaussian_nll_loss", fn, _ref_gaussian, _gaussian_shapes(),
           _with({"reduction": RED, "full": st.booleans(), "eps": st.sampled_from([1e-6, 0.2])}),
           domain=[(-2.0, 2.0), (-2.0, 2.0), (0.25, 2.0)],
           avoid=lambda x, t, v, eps=1e-6, **kw: bool(np.any(np.abs(np.asarray(v) - eps) < _GAP)),
           covers=("log", "divide", "clip"), torch_fn=tfn,
           # var under eps: the clamp changes the value only, the gradient passes (PyTorch's no_grad clamp)
           examples=(Example([[0.5, -1.0], [0.0, 0.0], [1e-9, 0.5]], {"reduction": "none"}, kink=True),)))


# ----------------------------------------------------------------- +-1 targets
def _pm(t, x):
    """An int 0/1 target as the float -1/+1 target PyTorch's margin losses take."""
    return t.to(x.dtype) * 2 - 1


def _pm_targets(shapes, kwargs, pos=-1):
    return st.tuples(hnp.arrays(np.int64, shapes[pos], elements=st.integers(0, 1)))


def _ref_soft_margin(x, t, reduction="mean"):
    return _reduce(np.logaddexp(0, -(2.0 * t - 1) * x.astype(np.float64)), reduction).astype(x.dtype)


add(OpSpec("soft_margin_loss", lambda x, t, **kw: F.soft_margin_loss(x, _pm(t, x), **kw), _ref_soft_margin,
           _same_shapes(n=1), _with({"reduction": RED}), int_args=(1,), index_args=_pm_targets,
           avoid=_mean_of_empty, domain=(-20.0, 20.0), covers=("exp", "log", "relu"),
           torch_fn=lambda torch, x, t, **kw: torch.nn.functional.soft_margin_loss(x, _pm(t, x), **kw)))


def _ref_mlsm(x, t, weight=None, reduction="mean"):
    x64 = x.astype(np.float64)
    loss = t * np.logaddexp(0, -x64) + (1 - t) * np.logaddexp(0, x64)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.sum(-1) / x.shape[-1], reduction).astype(x.dtype)


def _class_shapes(min_n=0):
    return st.tuples(st.integers(min_n, 3), st.integers(1, 4)).map(lambda nc: (nc,))


def _tensor_kw(name, weight, x):
    return {} if weight is None else {name: tapegrad.tensor(weight, dtype=x.dtype, device=x.device)}


def _torch_kw(torch, name, weight, x):
    return {} if weight is None else {name: torch.tensor(weight, dtype=x.dtype)}


def _weight_kwargs(shapes, extra=None):
    c = shapes[0][-1]
    d = {"reduction": RED, "weight": st.none() | hnp.arrays(np.float64, c, elements=st.floats(0.25, 2.0))}
    d.update(extra or {})
    return st.fixed_dictionaries(d)


add(OpSpec("multilabel_soft_margin_loss",
           lambda x, t, weight=None, **kw: F.multilabel_soft_margin_loss(x, t, **_tensor_kw("weight", weight, x),
                                                                         **kw),
           _ref_mlsm, st.tuples(st.integers(0, 3), st.integers(1, 4)).map(lambda nc: (nc, nc)), _weight_kwargs,
           domain=[(-4.0, 4.0), (0.0, 1.0)], avoid=_mean_of_empty, covers=("exp", "log", "relu"),
           torch_fn=lambda torch, x, t, weight=None, **kw: torch.nn.functional.multilabel_soft_margin_loss(
               x, t, **_torch_kw(torch, "weight", weight, x), **kw)))
