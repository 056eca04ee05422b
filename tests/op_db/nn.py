"""OpSpecs for tapegrad/ops/nn.py: softmax, log_softmax, fused cross_entropy, nll_loss."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad
from tapegrad.ops import nn as N

from . import Example, OpSpec, add
from .elementwise import same

_INF = float("inf")
# size-0 and size-1 dims, and -inf logits (a kink for finite differences: checked against torch)
_SOFTMAX_EXAMPLES = (Example([np.zeros((0, 3))], {"dim": 1}), Example([np.zeros((2, 0))], {"dim": 1}),
                     Example([[[0.5]]], {"dim": 0}), Example([[[1.0, 2.0, 3.0]]], {"dim": 0}),
                     Example([[-_INF, 0.0, 1.0]], {"dim": 0}, kink=True),
                     Example([[[-_INF, -_INF], [0.0, 1.0]]], {"dim": 1}, kink=True))


def any_shape():
    return st.tuples(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))


def dim_kwargs(shapes):
    n = max(len(shapes[0]), 1)
    return st.fixed_dictionaries({"dim": st.integers(-n, n - 1)})


def ref_log_softmax(x, dim):
    a = np.asarray(x, np.float64)
    ax = None if a.ndim == 0 else dim
    if a.size == 0:
        return a.astype(x.dtype)
    s = a - a.max(axis=ax, keepdims=True)
    return (s - np.log(np.exp(s).sum(axis=ax, keepdims=True))).astype(x.dtype)


def ref_softmax(x, dim):
    return np.exp(ref_log_softmax(np.asarray(x, np.float64), dim)).astype(x.dtype)


add(OpSpec("softmax", lambda x, dim: tapegrad.softmax(x, dim), ref_softmax, any_shape(), dim_kwargs,
           domain=(-30.0, 30.0), covers=("softmax",), examples=_SOFTMAX_EXAMPLES,
           torch_fn=lambda torch, x, dim: torch.softmax(x, dim)))
add(OpSpec("softmax_method", lambda x, dim: x.softmax(dim), ref_softmax, any_shape(), dim_kwargs,
           covers=("softmax",), torch_fn=same(lambda x, dim: x.softmax(dim))))
add(OpSpec("log_softmax", lambda x, dim: tapegrad.log_softmax(x, dim), ref_log_softmax, any_shape(), dim_kwargs,
           domain=(-30.0, 30.0), covers=("log_softmax",), examples=_SOFTMAX_EXAMPLES,
           torch_fn=lambda torch, x, dim: torch.log_softmax(x, dim)))
add(OpSpec("log_softmax_method", lambda x, dim: x.log_softmax(dim), ref_log_softmax, any_shape(), dim_kwargs,
           covers=("log_softmax",), torch_fn=same(lambda x, dim: x.log_softmax(dim))))


# ----------------------------------------------------------------- losses over class indices
IGNORE = 1       # a class index that some specs ignore


@st.composite
def logits_shapes(draw):
    """(C,), (N, C) or (N, C, d1[, d2]) with C >= 1."""
    c = draw(st.integers(1, 4))
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return ((c,),)
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=2))) if kind == 3 else ()
    return ((draw(st.integers(0, 4)), c) + extra,)


def _split(shape):
    axis = 0 if len(shape) == 1 else 1
    return axis, shape[axis], tuple(shape[:axis]) + tuple(shape[axis + 1:])


def loss_kwargs(smoothing):
    def kw(shapes):
        c = _split(shapes[0])[1]
        d = {"reduction": st.sampled_from(["none", "mean", "sum"]),
             "ignore_index": st.sampled_from([-100, IGNORE]),
             "weight": st.none() | hnp.arrays(np.float64, c, elements=st.floats(0.25, 2.0))}
        if smoothing:
            d["label_smoothing"] = st.sampled_from([0.0, 0.1, 0.5])
        return st.fixed_dictionaries(d)
    return kw


def class_targets(shapes, kwargs):
    _, c, tshape = _split(shapes[0])
    return st.tuples(hnp.arrays(np.int64, tshape, elements=st.integers(0, c - 1)))


def ref_cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0,
                      log_probs=False):
    """PyTorch's cross-entropy with class-index targets, written out in float64."""
    axis, c, _ = _split(x.shape)
    a = np.asarray(x, np.float64)
    logp = a if log_probs else ref_log_softmax(a, axis)
    w = np.ones(c) if weight is None else np.asarray(weight, np.float64)
    valid = target != ignore_index
    t = np.where(valid, target, 0)
    picked = np.squeeze(np.take_along_axis(logp, np.expand_dims(t, axis), axis), axis)
    wt = w[t] * valid
    loss = -wt * picked
    if label_smoothing:
        wb = w.reshape((c,) + (1,) * (a.ndim - axis - 1))
        smooth = -(logp * wb).sum(axis=axis) * valid
        loss = (1 - label_smoothing) * loss + label_smoothing / c * smooth
    if reduction == "sum":
        loss = loss.sum()
    elif reduction == "mean":
        loss = loss.sum() / wt.sum()
    return np.asarray(loss).astype(x.dtype)


def all_ignored(x, target, reduction="mean", ignore_index=-100, **kw):
    """'mean' over no counted element is 0/0 (NaN, as in PyTorch): not a point to differentiate."""
    return reduction == "mean" and not np.any(target != ignore_index)


def _ignored_examples(smoothing):
    """Every target ignored, and some: the mean is nan (PyTorch's) with a zero gradient (not a point for
    finite differences, so checked against torch), with and without class weights and label smoothing."""
    x = [[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]]
    kws = [{}, {"weight": [0.5, 1.0, 2.0]}] + ([{"label_smoothing": 0.2}] if smoothing else [])
    return tuple(Example([x, np.array(t)], dict(kw, reduction=r), kink=True)
                 for t in ([-100, -100], [2, -100]) for kw in kws for r in ("mean", "sum", "none"))


def _weight(w, x):
    return None if w is None else tapegrad.tensor(w, dtype=x.dtype, device=x.device)


add(OpSpec("cross_entropy",
           lambda x, t, weight=None, **kw: N.cross_entropy(x, t, weight=_weight(weight, x), **kw),
           ref_cross_entropy, logits_shapes(), loss_kwargs(True), int_args=(1,), index_args=class_targets,
           avoid=all_ignored, domain=(-4.0, 4.0), covers=("cross_entropy", "log_softmax"),
           fwd_atol=1e-5, fwd_rtol=1e-5, examples=_ignored_examples(True),
           torch_fn=lambda torch, x, t, weight=None, **kw: torch.nn.functional.cross_entropy(
               x, t, weight=None if weight is None else torch.tensor(weight, dtype=x.dtype), **kw)))
add(OpSpec("nll_loss",
           lambda x, t, weight=None, **kw: N.nll_loss(x, t, weight=_weight(weight, x), **kw),
           lambda *a, **kw: ref_cross_entropy(*a, log_probs=True, **kw),
           logits_shapes(), loss_kwargs(False), int_args=(1,), index_args=class_targets,
           avoid=all_ignored, domain=(-4.0, 0.0), covers=("getitem",), fwd_atol=1e-5, fwd_rtol=1e-5,
           examples=_ignored_examples(False),
           torch_fn=lambda torch, x, t, weight=None, **kw: torch.nn.functional.nll_loss(
               x, t, weight=None if weight is None else torch.tensor(weight, dtype=x.dtype), **kw)))


def ref_cross_entropy_probs(x, p, weight=None, reduction="mean", label_smoothing=0.0):
    axis, c, _ = _split(x.shape)
    logp = ref_log_softmax(np.asarray(x, np.float64), axis)
    q = np.asarray(p, np.float64) * (1 - label_smoothing) + label_smoothing / c
    w = np.ones(c) if weight is None else np.asarray(weight, np.float64)
    loss = -(logp * q * w.reshape((c,) + (1,) * (x.ndim - axis - 1))).sum(axis=axis)
    if reduction == "sum":
        loss = loss.sum()
    elif reduction == "mean":
        loss = loss.sum() / (x.size // c)
    return np.asarray(loss).astype(x.dtype)


def probs_kwargs(shapes):
    c = _split(shapes[0])[1]
    return st.fixed_dictionaries({"reduction": st.sampled_from(["none", "mean", "sum"]),
                                  "label_smoothing": st.sampled_from([0.0, 0.2]),
                                  "weight": st.none() | hnp.arrays(np.float64, c, elements=st.floats(0.25, 2.0))})


add(OpSpec("cross_entropy_probs",
           lambda x, p, weight=None, **kw: N.cross_entropy(x, p, weight=_weight(weight, x), **kw),
           ref_cross_entropy_probs, logits_shapes().map(lambda s: (s[0], s[0])), probs_kwargs,
           avoid=lambda x, p, reduction="mean", **kw: reduction == "mean" and x.size == 0,
           domain=[(-4.0, 4.0), (0.0, 1.0)], covers=("log_softmax",), fwd_atol=1e-5, fwd_rtol=1e-5,
           torch_fn=lambda torch, x, p, weight=None, **kw: torch.nn.functional.cross_entropy(
               x, p, weight=None if weight is None else torch.tensor(weight, dtype=x.dtype), **kw)))


def _bce_ref(x, t):
    return ((t - 1) * np.maximum(np.log1p(-x), -100) - t * np.maximum(np.log(x), -100)).astype(x.dtype)


add(OpSpec("binary_cross_entropy", lambda x, t: tapegrad.nn.functional.binary_cross_entropy(x, t, reduction="none"),
           _bce_ref, st.tuples(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)).map(lambda s: s * 2),
           domain=[(0.05, 0.95), (0.0, 1.0)], covers=("binary_cross_entropy",),
           torch_fn=lambda torch, x, t: torch.nn.functional.binary_cross_entropy(x, t, reduction="none")))
