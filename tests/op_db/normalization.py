"""OpSpecs for normalization: layer_norm (tapegrad/ops/normalization.py) and the nn.functional norms."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad
from tapegrad.nn import functional as TF

from . import Example, OpSpec, add


def _flat_rows(x, k):
    """x with its last ``k`` dims folded into one: ``(rows, n)``."""
    n = int(np.prod(x.shape[x.ndim - k:])) if k else 1
    return x.reshape(-1, n) if x.size else x.reshape(0, max(n, 1))


def near_constant(x, k, tol=0.05):
    """True when a normalized slice of more than one element has a tiny variance: layer norm is
    ill-conditioned there (a flat gradient of 1/sqrt(var + eps)), no point for finite differences."""
    r = _flat_rows(np.asarray(x, np.float64), k)
    return r.shape[1] > 1 and r.size > 0 and bool(np.any(r.var(axis=1) < tol))


# ----------------------------------------------------------------- layer_norm

@st.composite
def layer_norm_shapes(draw, affine=2):
    """(x, [weight, [bias]]) shapes: x = batch + normalized, the parameters of the normalized shape."""
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    ns = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4))
    return (batch + ns,) + (ns,) * affine


def ref_layer_norm(x, w=None, b=None, normalized_shape=None, eps=1e-5):
    k = len(normalized_shape)
    a = np.asarray(x, np.float64)
    axis = tuple(range(a.ndim - k, a.ndim))
    if a.size == 0:
        return a.astype(x.dtype)
    mu = a.mean(axis=axis, keepdims=True)
    out = (a - mu) / np.sqrt(((a - mu) ** 2).mean(axis=axis, keepdims=True) + eps)
    if w is not None:
        out = out * w
    if b is not None:
        out = out + b
    return out.astype(x.dtype)


def _ns(shapes, eps=True):
    k = len(shapes[1]) if len(shapes) > 1 else 1
    d = {"normalized_shape": st.just(tuple(shapes[0][len(shapes[0]) - k:]))}
    if eps:
        d["eps"] = st.sampled_from([1e-5, 1e-3])
    return st.fixed_dictionaries(d)


def _ln_avoid(x, *params, normalized_shape, eps=1e-5):
    return near_constant(x, len(normalized_shape))


# a one-element normalized slice (output 0, gradient 0), a constant row (var 0: checked against torch),
# size-0 batch, a 0-d-batch input, and a 2-d normalized shape
_LN_EXAMPLES = (
    Example([[[1.0], [2.0]], [0.5], [0.25]], {"normalized_shape": (1,)}),
    Example([[[1.0, 1.0, 1.0], [0.0, 2.0, -1.0]], [0.5, 1.0, 2.0], [0.0, 1.0, 0.0]],
            {"normalized_shape": (3,)}, kink=True),
    Example([np.zeros((0, 3)), np.ones(3), np.zeros(3)], {"normalized_shape": (3,)}),
    Example([[0.5, -1.0, 2.0], [1.0, 2.0, 3.0], [0.0, 0.0, 1.0]], {"normalized_shape": (3,)}),
    Example([np.arange(12.0).reshape(2, 2, 3) ** 1.5 / 7, np.ones((2, 3)) * 1.5, np.ones((2, 3))],
            {"normalized_shape": (2, 3)}),
)

add(OpSpec("layer_norm", lambda x, w, b, **kw: TF.layer_norm(x, weight=w, bias=b, **kw), ref_layer_norm,
           layer_norm_shapes(), _ns, avoid=_ln_avoid, covers=("layer_norm",), examples=_LN_EXAMPLES,
           fwd_atol=1e-5, fwd_rtol=1e-4,
           torch_fn=lambda torch, x, w, b, **kw: torch.nn.functional.layer_norm(x, weight=w, bias=b, **kw)))
add(OpSpec("layer_norm_weight_only", lambda x, w, **kw: TF.layer_norm(x, weight=w, **kw),
           lambda x, w, **kw: ref_layer_norm(x, w, **kw), layer_norm_shapes(1), _ns, avoid=_ln_avoid,
           covers=("layer_norm",), fwd_atol=1e-5, fwd_rtol=1e-4,
           torch_fn=lambda torch, x, w, **kw: torch.nn.functional.layer_norm(x, weight=w, **kw)))
add(OpSpec("layer_norm_bias_only", lambda x, b, **kw: TF.layer_norm(x, bias=b, **kw),
           lambda x, b, **kw: ref_layer_norm(x, None, b, **kw), layer_norm_shapes(1), _ns, avoid=_ln_avoid,
           covers=("layer_norm",), fwd_atol=1e-5, fwd_rtol=1e-4,
           torch_fn=lambda torch, x, b, **kw: torch.nn.functional.layer_norm(x, bias=b, **kw)))
add(OpSpec("layer_norm_plain", lambda x, **kw: tapegrad.layer_norm(x, **kw),
           lambda x, **kw: ref_layer_norm(x, **kw),
           st.tuples(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)),
           lambda s: st.integers(1, len(s[0])).flatmap(
               lambda k: st.fixed_dictionaries({"normalized_shape": st.just(tuple(s[0][len(s[0]) - k:]))})),
           avoid=_ln_avoid, covers=("layer_norm",), fwd_atol=1e-5, fwd_rtol=1e-4,
           torch_fn=lambda torch, x, **kw: torch.layer_norm(x, **kw)))


# ----------------------------------------------------------------- batch_norm, instance_norm

@st.composite
def channel_shapes(draw, min_dims=2, affine=True):
    """(x, [weight, bias]) with x = (N, C, *spatial) and (C,) parameters."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    spatial = tuple(draw(st.lists(st.integers(1, 3), min_size=min_dims - 2, max_size=2)))
    x = (n, c) + spatial
    return (x, (c,), (c,)) if affine else (x,)


def _stat_axes(ndim, instance):
    return tuple(range(2, ndim)) if instance else (0,) + tuple(range(2, ndim))


def ref_norm_over(x, w, b, axes, eps, mean=None, var=None):
    a = np.asarray(x, np.float64)
    shape = (1, a.shape[1]) + (1,) * (a.ndim - 2)
    if mean is None:
        mean = a.mean(axis=axes, keepdims=True)
        var = ((a - mean) ** 2).mean(axis=axes, keepdims=True)
    else:
        mean, var = np.reshape(mean, shape), np.reshape(var, shape)
    out = (a - mean) / np.sqrt(var + eps)
    if w is not None:
        out = out * np.reshape(w, shape)
    if b is not None:
        out = out + np.reshape(b, shape)
    return out.astype(x.dtype)


def _flat_channels(x, instance):
    """x as (groups, elements per group) for the statistics of batch (per channel) or instance norm."""
    a = np.asarray(x, np.float64)
    if instance:
        return a.reshape(a.shape[0] * a.shape[1], -1)
    return np.moveaxis(a, 1, 0).reshape(a.shape[1], -1)


def _few_or_flat(instance):
    """Reject one element per statistic (an error in training) and near-constant groups."""
    def avoid(x, *params, **kw):
        r = _flat_channels(x, instance)
        return r.shape[1] < 2 or bool(np.any(r.var(axis=1) < 0.05))
    return avoid


def _eps_kw(shapes):
    return st.fixed_dictionaries({"eps": st.sampled_from([1e-5, 1e-2])})


def _running(c, dtype):
    return (tapegrad.tensor(np.linspace(-0.5, 0.5, c), dtype=dtype), tapegrad.tensor(np.linspace(0.5, 2.0, c),
                                                                                       dtype=dtype))


def _bn_train(x, w, b, eps):
    rm, rv = _running(x.shape[1], x.dtype)
    rm, rv = rm.to(x.device), rv.to(x.device)
    return TF.batch_norm(x, rm, rv, w, b, training=True, eps=eps)


def _bn_eval(x, w, b, eps):
    rm, rv = _running(x.shape[1], x.dtype)
    return TF.batch_norm(x, rm.to(x.device), rv.to(x.device), w, b, training=False, eps=eps)


def _torch_running(torch, x):
    c = x.shape[1]
    return (torch.tensor(np.linspace(-0.5, 0.5, c), dtype=x.dtype), torch.tensor(np.linspace(0.5, 2.0, c),
                                                                                   dtype=x.dtype))


_BN_EXAMPLES = (Example([[[1.0, 1.0], [0.0, 2.0]], [1.0, 2.0], [0.5, 0.0]], {"eps": 1e-5}, kink=True),
                Example([np.arange(12.0).reshape(2, 3, 2) ** 1.3 / 5, [1.0, -1.0, 0.5], [0.0, 0.1, 0.2]],
                        {"eps": 1e-5}))

add(OpSpec("batch_norm_train", _bn_train, lambda x, w, b, eps: ref_norm_over(x, w, b, _stat_axes(x.ndim, False), eps),
           channel_shapes(), _eps_kw, avoid=_few_or_flat(False), covers=("batch_norm",), examples=_BN_EXAMPLES,
           fwd_atol=1e-5, fwd_rtol=1e-4,
           torch_fn=lambda torch, x, w, b, eps: torch.nn.functional.batch_norm(
               x, *_torch_running(torch, x), w, b, training=True, eps=eps)))
add(OpSpec("batch_norm_nostats", lambda x, eps: TF.batch_norm(x, None, None, training=True, eps=eps),
           lambda x, eps: ref_norm_over(x, None, None, _stat_axes(x.ndim, False), eps),
           channel_shapes(affine=False), _eps_kw, avoid=_few_or_flat(False), covers=("batch_norm",),
           fwd_atol=1e-5, fwd_rtol=1e-4,
           torch_fn=lambda torch, x, eps: torch.nn.functional.batch_norm(x, None, None, training=True, eps=eps)))
add(OpSpec("batch_norm_eval", _bn_eval,
           lambda x, w, b, eps: ref_norm_over(x, w, b, None, eps, np.linspace(-0.5, 0.5, x.shape[1]),
                                              np.linspace(0.5, 2.0, x.shape[1])),
           channel_shapes(), _eps_kw, covers=("batch_norm",), fwd_atol=1e-5, fwd_rtol=1e-4,
           examples=(Example([np.ones((1, 2)), [1.0, 2.0], [0.5, 0.0]], {"eps": 1e-5}),),
           torch_fn=lambda torch, x, w, b, eps: torch.nn.functional.batch_norm(
               x, *_torch_running(torch, x), w, b, training=False, eps=eps)))
add(OpSpec("instance_norm", lambda x, w, b, eps: TF.instance_norm(x, weight=w, bias=b, eps=eps),
           lambda x, w, b, eps: ref_norm_over(x, w, b, _stat_axes(x.ndim, True), eps),
           channel_shapes(3), _eps_kw, avoid=_few_or_flat(True), covers=("batch_norm",), fwd_atol=1e-5, fwd_rtol=1e-4,
           torch_fn=lambda torch, x, w, b, eps: torch.nn.functional.instance_norm(x, weight=w, bias=b, eps=eps)))
add(OpSpec("instance_norm_running_eval",
           lambda x, eps: TF.instance_norm(x, *(t.to(x.device) for t in _running(x.shape[1], x.dtype)),
                                           use_input_stats=False, eps=eps),
           lambda x, eps: ref_norm_over(x, None, None, None, eps, np.linspace(-0.5, 0.5, x.shape[1]),
                                        np.linspace(0.5, 2.0, x.shape[1])),
           channel_shapes(3, affine=False), _eps_kw, covers=("batch_norm",), fwd_atol=1e-5, fwd_rtol=1e-4,
           torch_fn=lambda torch, x, eps: torch.nn.functional.instance_norm(x, *_torch_running(torch, x),
                                                                            use_input_stats=False, eps=eps)))


# ----------------------------------------------------------------- group_norm, rms_norm, normalize, LRN

@st.composite
def group_shapes(draw):
    g, per = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    x = (draw(st.integers(1, 3)), g * per) + tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    return x, (g * per,), (g * per,)


def ref_group_norm(x, w, b, num_groups, eps=1e-5):
    a = np.asarray(x, np.float64)
    r = a.reshape(a.shape[0], num_groups, -1)
    r = (r - r.mean(axis=2, keepdims=True)) / np.sqrt(r.var(axis=2, keepdims=True) + eps)
    shape = (1, a.shape[1]) + (1,) * (a.ndim - 2)
    return (r.reshape(a.shape) * np.reshape(w, shape) + np.reshape(b, shape)).astype(x.dtype)


def _group_kw(shapes):
    c = shapes[0][1]
    return st.fixed_dictionaries({"num_groups": st.sampled_from([g for g in (1, 2, 3) if c % g == 0]),
                                  "eps": st.sampled_from([1e-5, 1e-2])})


def _group_avoid(x, w, b, num_groups, eps):
    r = np.asarray(x, np.float64).reshape(x.shape[0], num_groups, -1)
    if x.shape[0] * r.shape[2] == 1:
        return True                 # an error in PyTorch (and here): one value per channel
    return r.shape[2] > 1 and bool(np.any(r.var(axis=2) < 0.05))


add(OpSpec("group_norm", lambda x, w, b, **kw: TF.group_norm(x, weight=w, bias=b, **kw), ref_group_norm,
           group_shapes(), _group_kw, avoid=_group_avoid, covers=("layer_norm", "reshape", "multiply", "add"),
           fwd_atol=1e-5, fwd_rtol=1e-4,
           torch_fn=lambda torch, x, w, b, **kw: torch.nn.functional.group_norm(x, weight=w, bias=b, **kw)))


def ref_rms_norm(x, w=None, normalized_shape=None, eps=None):
    a = np.asarray(x, np.float64)
    k = len(normalized_shape)
    eps = np.finfo(x.dtype).eps if eps is None else eps
    out = a / np.sqrt((a * a).mean(axis=tuple(range(a.ndim - k, a.ndim)), keepdims=True) + eps)
    return (out if w is None else out * w).astype(x.dtype)


def _rms_kw(shapes):
    k = len(shapes[1])
    return st.fixed_dictionaries({"normalized_shape": st.just(tuple(shapes[0][len(shapes[0]) - k:])),
                                  "eps": st.sampled_from([None, 1e-3])})


def _rms_avoid(x, w, normalized_shape, eps):
    r = _flat_rows(np.asarray(x, np.float64), len(normalized_shape))
    return r.size > 0 and bool(np.any((r * r).mean(axis=1) < 0.05))


add(OpSpec("rms_norm", lambda x, w, **kw: TF.rms_norm(x, weight=w, **kw), ref_rms_norm, layer_norm_shapes(1),
           _rms_kw, avoid=_rms_avoid, covers=("rsqrt", "multiply", "sum"), fwd_atol=1e-5, fwd_rtol=1e-4,
           examples=(Example([np.zeros((2, 3)), np.ones(3)], {"normalized_shape": (3,), "eps": None}, kink=True),),
           torch_fn=lambda torch, x, w, **kw: torch.nn.functional.rms_norm(x, weight=w, **kw)))


def ref_normalize(x, p=2.0, dim=1, eps=1e-12):
    a = np.asarray(x, np.float64)
    n = (np.abs(a) ** p).sum(axis=dim, keepdims=True) ** (1 / p)
    return (a / np.maximum(n, eps)).astype(x.dtype)


def _normalize_kw(shapes):
    n = len(shapes[0])
    return st.fixed_dictionaries({"p": st.sampled_from([2.0, 3.0]), "dim": st.integers(-n, n - 1)})


add(OpSpec("normalize", lambda x, **kw: TF.normalize(x, **kw), ref_normalize,
           st.tuples(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)), _normalize_kw,
           avoid=lambda x, p, dim: bool(np.any(np.abs(x) < 0.05)), covers=("vector_norm", "clip", "divide"),
           examples=(Example([[[0.0, 0.0], [3.0, 4.0]]], {"dim": 1}, kink=True),),
           torch_fn=lambda torch, x, **kw: torch.nn.functional.normalize(x, **kw)))


def ref_lrn(x, size, alpha=1e-4, beta=0.75, k=1.0):
    a = np.asarray(x, np.float64)
    c = a.shape[1]
    sq = np.moveaxis(a * a, 1, 0)
    pad = np.concatenate([np.zeros((size // 2,) + sq.shape[1:]), sq, np.zeros(((size - 1) // 2,) + sq.shape[1:])])
    div = np.moveaxis(sum(pad[j:j + c] for j in range(size)) / size, 0, 1)
    return (a / (k + alpha * div) ** beta).astype(x.dtype)


add(OpSpec("local_response_norm", lambda x, **kw: TF.local_response_norm(x, **kw), ref_lrn,
           channel_shapes(3, affine=False),
           lambda s: st.fixed_dictionaries({"size": st.integers(1, 4), "alpha": st.sampled_from([1e-4, 0.5]),
                                            "beta": st.sampled_from([0.75, 0.5]), "k": st.sampled_from([1.0, 2.0])}),
           covers=("cat", "narrow", "power", "divide"),
           torch_fn=lambda torch, x, **kw: torch.nn.functional.local_response_norm(x, **kw)))
