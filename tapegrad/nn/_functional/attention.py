"""``scaled_dot_product_attention``, composed of recorded ops (matmul, add, softmax, multiply).

# Note [attention is composed]
Attention is ``softmax(q k^T * scale + bias) v``: two matmuls around the
stable softmax primitive (ops/nn.py subtracts the row maximum before
``exp``), so no new op and no hand-written VJP are needed, and second
derivatives come for free. The masks become an additive bias that carries no
gradient (a bool mask, ``is_causal``) or the user's float mask itself (which
then gets a gradient, as in PyTorch). A fused primitive was not measured to
be needed: on the GPT benchmark the two matmuls dominate.

# Note [fully masked rows]
PyTorch 2.13's attention gives a query row whose every key is masked an
output of zeros and zero gradients (its "safe softmax"), not the NaN a plain
softmax of ``-inf`` would give. Here such rows (found on the mask alone,
which is small) get a bias of 0 so the softmax stays finite, and their
probabilities are multiplied by 0 afterwards: zeros forward, zeros backward.
Rows that still have a key are untouched, and masks without dead rows cost
nothing extra.
"""
import math

from ... import _dtype as D
from ..._tensor import Tensor
from ...ops import nn as _N

__all__ = ["scaled_dot_product_attention"]

_NAME = "scaled_dot_product_attention"


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """Attention ``softmax(query @ key^T * scale + mask) @ value``, with PyTorch's mask conventions.

    Args:
        query: ``(..., L, E)``.
        key: ``(..., S, E)``; its batch dims broadcast with query's.
        value: ``(..., S, Ev)``.
        attn_mask: a bool mask (True = may attend) or a float mask added to the scores, broadcastable to
            ``(..., L, S)``. A query row with no key it may attend gets zeros.
        dropout_p: dropout probability on the attention weights (applied whenever it is > 0).
        is_causal: attend only to keys ``j <= i`` (top-left aligned); not allowed with ``attn_mask``.
        scale: the factor on the scores; default ``1 / sqrt(E)``.
        enable_gqa: grouped-query attention: key and value heads (dim -3) are repeated to query's.

    Returns:
        ``(..., L, Ev)``.

    Example:
        >>> import tapegrad
        >>> import tapegrad.nn.functional as F
        >>> q = tapegrad.zeros(1, 2, 4); k = tapegrad.zeros(1, 3, 4)
        >>> v = tapegrad.tensor([[[1.0], [2.0], [3.0]]])
        >>> F.scaled_dot_product_attention(q, k, v)
        tensor([[[2.],
                 [2.]]])
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True)
        tensor([[[1.0000],
                 [1.5000]]])
    """
    _check_inputs(query, key, value)
    if attn_mask is not None and is_causal:
        raise RuntimeError(f"{_NAME}: Explicit attn_mask should not be set when is_causal=True")
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"{_NAME}: dropout probability has to be between 0 and 1, but got {dropout_p}")
    if enable_gqa:
        key, value = _repeat_kv_heads(query, key, value)
    if query.numel() == 0 or key.numel() == 0 or value.numel() == 0:
        return _empty_attention(query, key, value)
    L, S, E = query.shape[-2], key.shape[-2], query.shape[-1]
    if scale is None:
        scale = 1.0 / math.sqrt(E) if E else math.inf
    be = query._backend
    dtype = query._data.dtype
    bias = alive = None
    if is_causal:
        bias = _const(be.where(_causal_keep(be, L, S), be.zeros((), dtype), be.full((), -math.inf, dtype)))
    elif attn_mask is not None:
        bias, alive = _mask_bias(attn_mask, query, be, dtype)
    scores = (query * scale) @ key.transpose(-2, -1)
    if bias is not None:
        scores = scores + bias
    p = _N.softmax(scores, -1)
    if alive is not None:
        p = p * alive
    if dropout_p > 0.0:
        p = _dropout_weights(p, dropout_p)
    return p @ value


def _dropout_weights(p, dropout_p):
    """``p`` with each element zeroed with probability ``dropout_p`` and the rest scaled by ``1 / (1 - dropout_p)``.

    ``nn.functional.dropout``'s draw, here so that this floor never imports ``nn.functional`` (which imports it).
    """
    if dropout_p == 1.0:
        return p * 0.0
    be = p._backend
    a = p._data
    keep = be.bernoulli(1.0 - dropout_p, a.shape, a.dtype) * a.dtype.type(1.0 / (1.0 - dropout_p))
    return p * _const(keep)


def _const(array):
    return Tensor._make(array, None)


def _empty_attention(query, key, value):
    """PyTorch 2.13's result when an input is empty: zeros of ``query.shape[:-1] + (Ev,)``, batch dims not broadcast.

    The zeros stay connected to the inputs (through a ``where`` that never selects them), so backward gives
    the zero gradients PyTorch gives.
    """
    from ...ops.elementwise import where
    be = query._backend
    dtype = query._data.dtype
    zeros = _const(be.zeros(tuple(query.shape[:-1]) + (value.shape[-1],), dtype))
    never = _const(be.zeros((), D.bool.np))
    return where(never, query.sum() + key.sum() + value.sum(), zeros)


def _causal_keep(be, L, S):
    """``(L, S)`` bool: key ``j`` is visible from query ``i`` when ``j <= i``."""
    rows = be.reshape(be.arange(0, L, 1, D.int64.np), (L, 1))
    return be.less_equal(be.arange(0, S, 1, D.int64.np), rows)


def _mask_bias(mask, query, be, dtype):
    """The additive bias of ``attn_mask`` and, if some query row is fully masked, the 0/1 row factor."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"{_NAME}: attn_mask must be a Tensor or None, got {type(mask).__name__}")
    if mask.device != query.device:
        raise RuntimeError(f"{_NAME}: attn_mask is on {mask.device} but query is on {query.device}")
    m = mask._data
    if mask.dtype is D.bool:
        dead = be.logical_not(be.any(m, axis=-1, keepdims=True) if m.ndim else m)
    elif mask.dtype is query.dtype or mask.dtype is D.float32:
        neg = be.equal(m, be.full((), -math.inf, m.dtype))
        dead = be.all(neg, axis=-1, keepdims=True) if m.ndim else neg
    else:
        raise RuntimeError(f"{_NAME}: Expected attn_mask dtype to be bool or float or to match query dtype, but "
                           f"got attn_mask.dtype: {mask.dtype} and query.dtype: {query.dtype} instead.")
    has_dead = bool(be.to_numpy(be.any(dead)))
    if mask.dtype is D.bool:
        keep = be.logical_or(m, dead) if has_dead else m     # Note [fully masked rows]: finite, zeroed below
        bias = _const(be.where(keep, be.zeros((), dtype), be.full((), -math.inf, dtype)))
    else:
        bias = mask.masked_fill(_const(dead), 0.0) if has_dead else mask
    return bias, (_const(be.astype(be.logical_not(dead), dtype)) if has_dead else None)


def _check_inputs(query, key, value):
    for n, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{_NAME}: {n} must be a Tensor, got {type(t).__name__}")
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(f"{_NAME}: Expected query, key, and value to all be at least 2 dimensional, but got "
                           f"query.dim: {query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead.")
    if not (query.dtype is key.dtype is value.dtype):
        raise RuntimeError(f"{_NAME}: Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead.")
    if not query.is_floating_point():
        raise RuntimeError(f"{_NAME}: expected floating point query, key and value, got {query.dtype}")
    if not (query.device == key.device == value.device):
        raise RuntimeError(f"{_NAME}: Expected query, key, and value to have the same device type, but got "
                           f"query.device: {query.device} key.device: {key.device} and value.device: "
                           f"{value.device} instead.")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"{_NAME}: query's last dim ({query.shape[-1]}) must equal key's ({key.shape[-1]}); "
                           f"got shapes {tuple(query.shape)} and {tuple(key.shape)}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{_NAME}: key and value must have the same sequence length (dim -2), got shapes "
                           f"{tuple(key.shape)} and {tuple(value.shape)}")


def _repeat_kv_heads(query, key, value):
    """Key and value with each head (dim -3) repeated to query's number of heads, as ``repeat_interleave``."""
    if min(query.ndim, key.ndim, value.ndim) < 3:
        raise RuntimeError(f"{_NAME}: enable_gqa needs a heads dim (-3) in query, key and value, got shapes "
                           f"{tuple(query.shape)}, {tuple(key.shape)} and {tuple(value.shape)}")
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hk == 0 or hv == 0 or hq % hk or hq % hv:
        raise RuntimeError(f"{_NAME}: Number of heads in key ({hk}) and value ({hv}) must divide the number of "
                           f"heads in query ({hq})")
    return _repeat_heads(key, hq // hk), _repeat_heads(value, hq // hv)


def _repeat_heads(x, r):
    if r == 1:
        return x
    s = tuple(x.shape)
    wide = x.unsqueeze(-3).expand(*s[:-2], r, *s[-2:])
    return wide.reshape(*s[:-3], s[-3] * r, *s[-2:])
