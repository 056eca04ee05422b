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
