"""``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention`` against PyTorch 2.13.

Every comparison is in float64 on identical inputs and weights (torch's ``state_dict`` copied in):
outputs, attention weights, the gradients of a random-weighted sum of the output w.r.t. every input
(float masks included) and every parameter. Then the errors, dropout, initialisation, ``state_dict``
keys and ``repr``.
"""
import math
import warnings

import numpy as np
import pytest

import tapegrad
import tapegrad.nn.functional as TF

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL, ATOL = 1e-10, 1e-12


def _pair(a, grad=True):
    a = np.asarray(a)
    g = a.dtype.kind == "f" and grad
    return tapegrad.tensor(a.copy(), requires_grad=g), torch.tensor(a.copy(), requires_grad=g)


def _close(got, want, what):
    assert tuple(got.shape) == tuple(want.shape), f"{what}: shape {tuple(got.shape)} vs {tuple(want.shape)}"
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=what)


def _backward_both(got, want, seed=0):
    w = np.random.default_rng(seed).standard_normal(tuple(want.shape))
    (got * tapegrad.tensor(w)).sum().backward()
    (want * torch.tensor(w)).sum().backward()


# ----------------------------------------------------------------- scaled_dot_product_attention

def _mask(kind, rng, shape):
    if kind == "bool":
        return rng.random(shape) > 0.4
    if kind == "bool_dead":                      # the second query row may attend nothing
        m = rng.random(shape) > 0.4
        m[..., 1, :] = False
        return m
    if kind == "float":
        return rng.standard_normal(shape)
    if kind == "float_dead":
        m = rng.standard_normal(shape)
        m[..., 1, :] = -np.inf
        m[..., 2, 0] = -np.inf
        return m
    return None


SDPA_CASES = {
    "plain": dict(q=(2, 3, 4, 5), k=(2, 3, 6, 5), v=(2, 3, 6, 7)),
    "unbatched": dict(q=(4, 5), k=(6, 5), v=(6, 2)),
    "broadcast_batch": dict(q=(2, 1, 4, 5), k=(1, 3, 6, 5), v=(1, 3, 6, 2)),
    "causal": dict(q=(2, 4, 5), k=(2, 4, 5), v=(2, 4, 3), kw={"is_causal": True}),
    "causal_more_queries": dict(q=(6, 3), k=(4, 3), v=(4, 2), kw={"is_causal": True}),
    "causal_more_keys": dict(q=(3, 3), k=(5, 3), v=(5, 2), kw={"is_causal": True}),
    "scale": dict(q=(2, 4, 5), k=(2, 6, 5), v=(2, 6, 3), kw={"scale": 0.3}),
    "bool_mask": dict(q=(2, 3, 4, 5), k=(2, 3, 6, 5), v=(2, 3, 6, 7), mask=("bool", (4, 6))),
    "bool_mask_batched": dict(q=(2, 3, 4, 5), k=(2, 3, 6, 5), v=(2, 3, 6, 7), mask=("bool", (2, 1, 4, 6))),
    "bool_mask_dead_rows": dict(q=(2, 4, 5), k=(2, 6, 5), v=(2, 6, 3), mask=("bool_dead", (2, 4, 6))),
    "float_mask": dict(q=(2, 3, 4, 5), k=(2, 3, 6, 5), v=(2, 3, 6, 7), mask=("float", (3, 4, 6))),
    "float_mask_dead_rows": dict(q=(2, 4, 5), k=(2, 6, 5), v=(2, 6, 3), mask=("float_dead", (4, 6))),
    "gqa": dict(q=(2, 6, 4, 5), k=(2, 2, 6, 5), v=(2, 3, 6, 7), kw={"enable_gqa": True}),
    "gqa_same_heads": dict(q=(2, 2, 4, 5), k=(2, 2, 6, 5), v=(2, 2, 6, 7), kw={"enable_gqa": True}),
}


@pytest.mark.parametrize("case", list(SDPA_CASES))
def test_sdpa_matches_torch(case):
    c = SDPA_CASES[case]
    rng = np.random.default_rng(1)
    (q, tq), (k, tk), (v, tv) = (_pair(rng.standard_normal(c[n])) for n in "qkv")
    kw, tkw, masks = dict(c.get("kw", {})), dict(c.get("kw", {})), None
    if "mask" in c:
        masks = _pair(_mask(c["mask"][0], rng, c["mask"][1]))
        kw["attn_mask"], tkw["attn_mask"] = masks
    got = TF.scaled_dot_product_attention(q, k, v, **kw)
    want = F.scaled_dot_product_attention(tq, tk, tv, **tkw)
    _close(got, want, f"{case}: output")
    _backward_both(got, want)
    for name, a, b in (("query", q, tq), ("key", k, tk), ("value", v, tv)) + \
            ((("attn_mask",) + masks,) if masks and masks[1].requires_grad else ()):
        assert np.isfinite(a.grad.numpy()).all(), f"{case}: non-finite gradient of {name}"
        _close(a.grad, b.grad, f"{case}: gradient of {name}")


def test_sdpa_dead_rows_give_zeros_and_leave_other_rows_alone():
    # Note [fully masked rows]: a plain softmax would give NaN, and its NaN gradient would reach every key.
    q, k, v = (tapegrad.randn(3, 4, dtype=tapegrad.float64, requires_grad=True) for _ in range(3))
    mask = tapegrad.tensor([[True, True, False], [False, False, False], [True, False, True]])
    out = TF.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert out[1].tolist() == [0.0] * 4
    alone = TF.scaled_dot_product_attention(q[0::2], k, v, attn_mask=mask[0::2])
    np.testing.assert_allclose(out[0::2].detach().numpy(), alone.detach().numpy(), rtol=1e-15)
    out.sum().backward()
    assert q.grad[1].tolist() == [0.0] * 4
    assert np.isfinite(k.grad.numpy()).all() and np.isfinite(v.grad.numpy()).all()


def test_sdpa_empty_inputs_follow_torch_shortcut():
    # PyTorch 2.13 returns zeros of query.shape[:-1] + (Ev,) when an input is empty, without broadcasting
    for qs, ks, vs in (((2, 1), (2, 0, 1), (2, 0, 2)), ((0, 1), (2, 3, 1), (2, 3, 2))):
        (q, tq), (k, tk), (v, tv) = (_pair(np.ones(s)) for s in (qs, ks, vs))
        got, want = TF.scaled_dot_product_attention(q, k, v), F.scaled_dot_product_attention(tq, tk, tv)
        _close(got, want, f"{qs} {ks} {vs}")
        got.sum().backward()
        assert q.grad.tolist() == np.zeros(qs).tolist()


def _raises_like_torch(fn, tfn, match):
    with pytest.raises(RuntimeError):
        tfn()
    with pytest.raises(RuntimeError, match=match):
        fn()


@pytest.mark.parametrize("case", ["causal_and_mask", "dtypes", "mask_dtype", "dropout_p", "gqa_heads", "one_dim",
                                  "seq_mismatch"])
def test_sdpa_errors_like_torch(case):
    shapes = {"q": (2, 4, 3), "k": (2, 5, 3), "v": (2, 5, 2)}
    if case == "gqa_heads":
        shapes = {"q": (1, 3, 4, 3), "k": (1, 2, 5, 3), "v": (1, 2, 5, 2)}
    if case == "one_dim":
        shapes["q"] = (3,)
    if case == "seq_mismatch":
        shapes["v"] = (2, 4, 2)
    (q, tq), (k, tk), (v, tv) = (_pair(np.ones(shapes[n], np.float32)) for n in "qkv")
    kw, tkw, match = {}, {}, "scaled_dot_product_attention"
    if case == "causal_and_mask":
        kw = {"attn_mask": tapegrad.ones(4, 5, dtype=tapegrad.bool), "is_causal": True}
        tkw = {"attn_mask": torch.ones(4, 5, dtype=torch.bool), "is_causal": True}
        match = "Explicit attn_mask should not be set when is_causal=True"
    elif case == "dtypes":
        k, tk = k.double(), tk.double()
        match = "same dtype"
    elif case == "mask_dtype":
        kw, tkw = {"attn_mask": tapegrad.ones(4, 5, dtype=tapegrad.int64)}, {"attn_mask": torch.ones(4, 5).long()}
        match = "attn_mask dtype"
    elif case == "dropout_p":
        kw = tkw = {"dropout_p": 1.5}
        match = "dropout probability"
    elif case == "gqa_heads":
        kw = tkw = {"enable_gqa": True}
        match = "must divide the number of heads"
    elif case == "one_dim":
        match = "at least 2 dimensional"
    _raises_like_torch(lambda: TF.scaled_dot_product_attention(q, k, v, **kw),
                       lambda: F.scaled_dot_product_attention(tq, tk, tv, **tkw), match)


def test_sdpa_dropout_drops_weights_and_rescales():
    # q = k = 0: every weight is 1/S; v = I: the output rows are the weights after dropout
    S, p = 8, 0.25
    q, k, v = tapegrad.zeros(64, S, 4), tapegrad.zeros(64, S, 4), tapegrad.eye(S).expand(64, S, S)
    out = TF.scaled_dot_product_attention(q, k, v, dropout_p=p).numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / S / (1 - p), rtol=1e-6)
    assert 0.65 < kept.mean() < 0.85
    assert TF.scaled_dot_product_attention(q, k, v, dropout_p=1.0).abs().sum().item() == 0.0


# ----------------------------------------------------------------- MultiheadAttention

def _copy_weights(tm, m):
    m.load_state_dict({k: tapegrad.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})


def _mha_pair(**ctor):
    tm = torch.nn.MultiheadAttention(**ctor).double()
    m = tapegrad.nn.MultiheadAttention(**ctor).double()
    _copy_weights(tm, m)
    return tm, m


E = 8
MHA_CASES = {
    "self": dict(ctor={}, x=[(5, 3, E)]),
    "batch_first": dict(ctor={"batch_first": True}, x=[(3, 5, E)]),
    "unbatched": dict(ctor={}, x=[(5, E)], masks={"key_padding_mask": ("bool", (5,))}),
    "no_weights": dict(ctor={}, x=[(5, 3, E)], call={"need_weights": False}),
    "per_head_weights": dict(ctor={}, x=[(5, 3, E), (4, 3, E), (4, 3, E)], call={"average_attn_weights": False}),
    "encoder_decoder": dict(ctor={"batch_first": True}, x=[(3, 5, E), (3, 4, E)]),
    "kdim_vdim": dict(ctor={"num_heads": 4, "kdim": 3, "vdim": 5}, x=[(5, 3, E), (4, 3, 3), (4, 3, 5)]),
    "no_bias": dict(ctor={"bias": False}, x=[(5, 3, E)], call={"need_weights": False},
                    masks={"key_padding_mask": ("bool", (3, 5)), "attn_mask": ("bool", (5, 5))}),
    "bias_kv_zero_attn": dict(ctor={"add_bias_kv": True, "add_zero_attn": True}, x=[(5, 3, E)],
                              masks={"key_padding_mask": ("bool", (3, 5)), "attn_mask": ("bool", (5, 5))}),
    "float_masks": dict(ctor={}, x=[(5, 3, E)],
                        masks={"key_padding_mask": ("float", (3, 5)), "attn_mask": ("float", (6, 5, 5))}),
    "causal_hint": dict(ctor={}, x=[(5, 3, E)], call={"need_weights": False, "is_causal": True},
                        masks={"attn_mask": ("causal", (5, 5))}),
    "causal_hint_with_weights": dict(ctor={}, x=[(5, 3, E)], call={"is_causal": True},
                                     masks={"attn_mask": ("causal_bool", (5, 5))}),
}


def _mha_mask(kind, rng, shape):
    if kind == "bool":
        return rng.random(shape) > 0.75
    if kind == "float":
        return rng.standard_normal(shape)
    if kind == "causal":
        return np.triu(np.full(shape, -np.inf), 1)
    return np.triu(np.ones(shape, bool), 1)


@pytest.mark.parametrize("case", list(MHA_CASES))
def test_multihead_attention_matches_torch(case):
    c = MHA_CASES[case]
    ctor = dict(embed_dim=E, num_heads=2)
    ctor.update(c["ctor"])
    tm, m = _mha_pair(**ctor)
    rng = np.random.default_rng(2)
    pairs = [_pair(rng.standard_normal(s)) for s in c["x"]]
    pairs = pairs * 3 if len(pairs) == 1 else pairs + pairs[1:] if len(pairs) == 2 else pairs
    masks = {n: _pair(_mha_mask(kind, rng, shape)) for n, (kind, shape) in c.get("masks", {}).items()}
    kw = dict(c.get("call", {}), **{n: a for n, (a, _) in masks.items()})
    tkw = dict(c.get("call", {}), **{n: b for n, (_, b) in masks.items()})
    out, weights = m(*[a for a, _ in pairs], **kw)
    tout, tweights = tm(*[b for _, b in pairs], **tkw)
    _close(out, tout, f"{case}: output")
    if tweights is None:
        assert weights is None
    else:
        _close(weights, tweights, f"{case}: attention weights")
    _backward_both(out, tout)
    for i, (a, b) in enumerate(pairs):
        _close(a.grad, b.grad, f"{case}: gradient of input {i}")
    for n, (a, b) in masks.items():
        if b.grad is None:                  # the is_causal hint replaces the mask: no gradient reaches it
            assert a.grad is None, f"{case}: {n} got a gradient, torch's none"
        else:
            _close(a.grad, b.grad, f"{case}: gradient of {n}")
    tparams = dict(tm.named_parameters())
    assert [n for n, _ in m.named_parameters()] == list(tparams)
    for n, p in m.named_parameters():
        _close(p.grad, tparams[n].grad, f"{case}: gradient of {n}")


@pytest.mark.parametrize("ctor", [{}, {"kdim": 3, "vdim": 5}, {"bias": False}, {"add_bias_kv": True},
                                  {"add_zero_attn": True, "batch_first": True, "dropout": 0.1}])
def test_multihead_attention_state_dict_repr_and_init_like_torch(ctor):
    tm = torch.nn.MultiheadAttention(16, 4, **ctor)
    m = tapegrad.nn.MultiheadAttention(16, 4, **ctor)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    assert repr(m) == repr(tm)
    for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight", "bias_k", "bias_v"):
        assert (getattr(m, name) is None) == (getattr(tm, name) is None), name
    if m.in_proj_weight is not None:                    # xavier-uniform over the packed (3E, E) weight
        bound = math.sqrt(6 / (16 + 48))
        assert m.in_proj_weight.abs().max().item() <= bound
        assert m.in_proj_weight.abs().max().item() > 0.9 * bound
    if m.in_proj_bias is not None:
        assert m.in_proj_bias.abs().sum().item() == 0.0 and m.out_proj.bias.abs().sum().item() == 0.0
    assert m.out_proj.weight.abs().max().item() <= 1 / 4     # Linear's default, U(-1/sqrt(E), 1/sqrt(E))
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(m.out_proj, tapegrad.nn.Linear)


def test_multihead_attention_lives_where_torch_keeps_it():
    from tapegrad.nn.modules.activation import MultiheadAttention
    assert MultiheadAttention is tapegrad.nn.MultiheadAttention


def test_multihead_attention_dropout_only_while_training():
    tm, m = _mha_pair(embed_dim=E, num_heads=2, dropout=0.5)
    x = np.random.default_rng(3).standard_normal((6, 2, E))
    a, b = tapegrad.tensor(x), torch.tensor(x)
    _, w1 = m(a, a, a)
    _, w2 = m(a, a, a)
    assert (w1.detach().numpy() != w2.detach().numpy()).any()
    m.eval()
    tm.eval()
    with torch.no_grad():
        tout, tw = tm(b, b, b)
    out, w = m(a, a, a)
    _close(out, tout, "eval output")
    _close(w, tw, "eval weights")


@pytest.mark.parametrize("case", ["embed_not_divisible", "embed_zero", "causal_without_mask", "mask_shape",
                                  "int_mask", "query_dim", "padding_mask_shape"])
def test_multihead_attention_errors_like_torch(case):
    if case in ("embed_not_divisible", "embed_zero"):
        args, err = ((7, 2), AssertionError) if case == "embed_not_divisible" else ((0, 2), ValueError)
        with pytest.raises(err):
            torch.nn.MultiheadAttention(*args)
        with pytest.raises(err):
            tapegrad.nn.MultiheadAttention(*args)
        return
    tm, m = _mha_pair(embed_dim=E, num_heads=2)
    shape, kw = (5, 3, E), {}
    if case == "causal_without_mask":
        kw, err = {"is_causal": True}, RuntimeError
    elif case == "mask_shape":
        kw, err = {"attn_mask": np.zeros((4, 5), bool)}, RuntimeError
    elif case == "int_mask":
        kw, err = {"attn_mask": np.zeros((5, 5), np.int64)}, AssertionError
    elif case == "query_dim":
        shape, err = (2, 5, 3, E), AssertionError
    else:
        kw, err = {"key_padding_mask": np.zeros((2, 5), bool)}, AssertionError
    x = np.ones(shape)
    lib_kw = {k: (tapegrad.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    torch_kw = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    with pytest.raises(err):
        tm(*[torch.tensor(x)] * 3, **torch_kw)
    with pytest.raises(err):
        m(*[tapegrad.tensor(x)] * 3, **lib_kw)


def test_multihead_attention_warns_on_mismatched_mask_types_like_torch():
    tm, m = _mha_pair(embed_dim=E, num_heads=2)
    x = np.random.default_rng(4).standard_normal((5, 3, E))
    kpm, am = np.zeros((3, 5), bool), np.zeros((5, 5))
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        tm(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(kpm), attn_mask=torch.tensor(am))
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask is deprecated"):
        m(*[tapegrad.tensor(x)] * 3, key_padding_mask=tapegrad.tensor(kpm), attn_mask=tapegrad.tensor(am))
    assert any("mismatched key_padding_mask" in str(w.message) for w in tw)
