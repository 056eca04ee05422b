"""OpSpecs for ``nn.functional.scaled_dot_product_attention`` (composed: matmul, add, softmax, multiply).

Three specs: query/key/value with a bool mask, ``is_causal`` or ``scale`` drawn as keyword arguments
(the mask is a NumPy bool array made a tensor on the inputs' device by ``fn``); a float mask as a fourth,
differentiable input; grouped-query attention (``enable_gqa``). Batch dims broadcast between query and
key/value, sequence lengths may be 0, and some drawn bool masks leave a query row with no key
(Note [fully masked rows]: zeros, and zero gradients, as in PyTorch).
"""
import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad
import tapegrad.nn.functional as F

from . import Example, OpSpec, add

COVERS = ("multiply", "transpose", "matmul", "add", "softmax")


def ref_sdpa(q, k, v, mask=None, is_causal=False, scale=None, enable_gqa=False):
    """NumPy attention in float64: a bool mask keeps True, a float mask is added; dead rows give zeros."""
    dtype = q.dtype
    if q.size == 0 or k.size == 0 or v.size == 0:     # PyTorch's shortcut: query's batch dims, not broadcast
        return np.zeros(q.shape[:-1] + v.shape[-1:], dtype)
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    if enable_gqa:
        k = np.repeat(k, q.shape[-3] // k.shape[-3], axis=-3)
        v = np.repeat(v, q.shape[-3] // v.shape[-3], axis=-3)
    L, S, E = q.shape[-2], k.shape[-2], q.shape[-1]
    scale = (1.0 / math.sqrt(E) if E else math.inf) if scale is None else scale
    scores = (q * scale) @ np.swapaxes(k, -1, -2)
    if is_causal:
        mask = np.tril(np.ones((L, S), bool))
    bias = np.zeros(())
    if mask is not None:
        mask = np.asarray(mask)
        bias = np.where(mask, 0.0, -np.inf) if mask.dtype == bool else mask.astype(np.float64)
    s = scores + bias
    dead = np.all(np.isneginf(np.broadcast_to(bias, s.shape)), axis=-1, keepdims=True)
    s = np.where(dead, 0.0, s)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    p = np.where(dead, 0.0, e / e.sum(axis=-1, keepdims=True))
    return (p @ v).astype(dtype)


@st.composite
def qkv_shapes(draw, extra_mask=False):
    """``(q, k, v)`` shapes (plus a float mask's when ``extra_mask``) with broadcast batch dims."""
    qb, kb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, min_side=1,
                                                    max_side=2)).input_shapes
    L, S, E, Ev = draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shapes = (qb + (L, E), kb + (S, E), kb + (S, Ev))
    if extra_mask:
        full = np.broadcast_shapes(qb, kb) + (L, S)
        shapes += (_mask_shape(draw, full),)
    return shapes


def _mask_shape(draw, full):
    """A shape broadcastable to ``full``: a suffix of it with some sides set to 1."""
    n = draw(st.integers(2, len(full)))
    return tuple(1 if draw(st.booleans()) else d for d in full[len(full) - n:])


def sdpa_kwargs(shapes):
    q, k = shapes[0], shapes[1]
    full = np.broadcast_shapes(q[:-2], k[:-2]) + (q[-2], k[-2])

    @st.composite
    def kw(draw):
        d = {}
        kind = draw(st.sampled_from(["none", "mask", "causal"]))
        if kind == "mask":
            shape = _mask_shape(draw, full)
            d["mask"] = draw(hnp.arrays(np.bool_, shape, elements=st.booleans()))
        elif kind == "causal":
            d["is_causal"] = True
        if draw(st.booleans()):
            d["scale"] = draw(st.sampled_from([0.25, 1.0, 2.0]))
        return d
    return kw()


def sdpa(q, k, v, mask=None, **kw):
    m = None if mask is None else tapegrad.tensor(mask, device=q.device)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw)


def torch_sdpa(torch, q, k, v, mask=None, **kw):
    m = None if mask is None else torch.from_numpy(np.array(mask))
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw)


def sdpa_float_mask(q, k, v, m, **kw):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw)


def torch_sdpa_float_mask(torch, q, k, v, m, **kw):
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw)


@st.composite
def gqa_shapes(draw):
    b, hk, r = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    L, S, E = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    hv = draw(st.sampled_from([hk, 1]))
    return (b, hk * r, L, E), (b, hk, S, E), (b, hv, S, 2)


_DEAD = np.array([[True, False, True], [False, False, False]])        # the second query row has no key
_EXAMPLES = (
    Example([np.ones((2, 3)), np.ones((3, 3)) / 2, np.arange(6.0).reshape(3, 2)], {"mask": _DEAD}),
    Example([np.zeros((1, 2, 0, 2)), np.zeros((1, 2, 3, 2)), np.zeros((1, 2, 3, 1))]),
    Example([np.ones((2, 2)), np.zeros((0, 2)), np.zeros((0, 3))]),
    Example([np.linspace(-1, 1, 12).reshape(4, 3), np.linspace(1, -1, 6).reshape(2, 3), np.eye(2)],
            {"is_causal": True}),
)

add(OpSpec("scaled_dot_product_attention", sdpa, ref_sdpa, qkv_shapes(), sdpa_kwargs, covers=COVERS,
           fwd_atol=1e-5, fwd_rtol=1e-4, examples=_EXAMPLES, torch_fn=torch_sdpa))
add(OpSpec("scaled_dot_product_attention_float_mask", sdpa_float_mask, ref_sdpa, qkv_shapes(extra_mask=True),
           lambda shapes: st.fixed_dictionaries({}, optional={"scale": st.sampled_from([0.5, 2.0])}),
           covers=COVERS, fwd_atol=1e-5, fwd_rtol=1e-4, torch_fn=torch_sdpa_float_mask))
add(OpSpec("scaled_dot_product_attention_gqa",
           lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
           lambda q, k, v: ref_sdpa(q, k, v, enable_gqa=True), gqa_shapes(), covers=COVERS + ("broadcast_to", "reshape"),
           fwd_atol=1e-5, fwd_rtol=1e-4,
           torch_fn=lambda torch, q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True)))
