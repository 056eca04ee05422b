"""Transformer layers, stacks and ``nn.Transformer`` against PyTorch 2.13 on identical weights.

Each case builds the module in both libraries with the same arguments, copies torch's ``state_dict``
in (so its keys must match), runs float64 inputs with every mask kind, and compares the output, the
gradients of a random-weighted sum of it w.r.t. the inputs and every parameter. Dropout is 0 while
training; a case with dropout runs in eval mode (torch's inference fast paths included).
"""
import math
import warnings

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

D, H, FF = 8, 2, 16
RTOL, ATOL = 1e-9, 1e-11


def _lib_kwargs(lib, kw):
    kw = dict(kw)
    act = kw.get("activation")
    if act == "gelu_fn":
        kw["activation"] = lib.nn.functional.gelu
    elif act == "tanh_module":
        kw["activation"] = lib.nn.Tanh()
    return kw


def _build(name, kw, layers=None):
    """The module ``name`` in both libraries, tapegrad's holding torch's weights."""
    def make(lib):
        cls = getattr(lib.nn, name)
        if layers is None:
            return cls(**_lib_kwargs(lib, kw))
        inner, n, norm = layers
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # enable_nested_tensor's warning: tested on its own
            return cls(getattr(lib.nn, inner)(**_lib_kwargs(lib, kw)), n,
                       norm=lib.nn.LayerNorm(D) if norm else None)
    tm = make(torch).double()
    m = make(tapegrad).double()
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    m.load_state_dict({k: tapegrad.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
    return tm, m


def _mask(kind, rng, shape):
    if kind == "bool":
        m = rng.random(shape) > 0.7
        m[..., 0] = False                         # every query keeps a key (no NaN rows)
        return m
    if kind == "float":
        return rng.standard_normal(shape)
    if kind == "causal":
        return torch.nn.Transformer.generate_square_subsequent_mask(shape[0], dtype=torch.float64).numpy()
    raise ValueError(kind)


def _compare(tm, m, inputs, masks, call=None, train=True, grad=True):
    rng = np.random.default_rng(0)
    call = dict(call or {})
    arrays = [rng.standard_normal(s) for s in inputs]
    t_in = [torch.tensor(a, requires_grad=grad) for a in arrays]
    g_in = [tapegrad.tensor(a, requires_grad=grad) for a in arrays]
    mask_arrays = {k: _mask(kind, rng, shape) for k, (kind, shape) in masks.items()}
    tm.train(train)
    m.train(train)
    want = tm(*t_in, **{k: torch.tensor(v) for k, v in mask_arrays.items()}, **call)
    got = m(*g_in, **{k: tapegrad.tensor(v) for k, v in mask_arrays.items()}, **call)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg="output")
    if not grad:
        return
    w = rng.standard_normal(tuple(want.shape))
    (want * torch.tensor(w)).sum().backward()
    (got * tapegrad.tensor(w)).sum().backward()
    for i, (a, b) in enumerate(zip(g_in, t_in)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=f"input {i}")
    tparams = dict(tm.named_parameters())
    assert [n for n, _ in m.named_parameters()] == list(tparams)
    for n, p in m.named_parameters():
        if tparams[n].grad is None:
            assert p.grad is None or not p.grad.numpy().any(), n
            continue
        np.testing.assert_allclose(p.grad.numpy(), tparams[n].grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=n)


BASE = dict(d_model=D, nhead=H, dim_feedforward=FF, dropout=0.0)

ENCODER_LAYER_CASES = {
    "post_norm": (dict(), [(5, 3, D)], {}),
    "pre_norm_gelu": (dict(norm_first=True, activation="gelu"), [(5, 3, D)], {}),
    "batch_first_masks": (dict(batch_first=True), [(3, 5, D)],
                          {"src_mask": ("bool", (5, 5)), "src_key_padding_mask": ("bool", (3, 5))}),
    "float_masks": (dict(), [(5, 3, D)], {"src_mask": ("float", (5, 5)), "src_key_padding_mask": ("float", (3, 5))}),
    "causal": (dict(batch_first=True, activation="gelu_fn"), [(3, 5, D)], {"src_mask": ("causal", (5, 5))}),
    "no_bias_module_activation": (dict(bias=False, activation="tanh_module", layer_norm_eps=1e-3), [(5, 3, D)], {}),
    "unbatched": (dict(), [(5, D)], {"src_key_padding_mask": ("bool", (5,))}),
}


@pytest.mark.parametrize("case", list(ENCODER_LAYER_CASES))
def test_encoder_layer_matches_torch(case):
    kw, inputs, masks = ENCODER_LAYER_CASES[case]
    tm, m = _build("TransformerEncoderLayer", dict(BASE, **kw))
    call = {"is_causal": True} if case == "causal" else {}
    _compare(tm, m, inputs, masks, call)


DECODER_LAYER_CASES = {
    "post_norm": (dict(), [(4, 3, D), (6, 3, D)], {}),
    "pre_norm_batch_first": (dict(norm_first=True, batch_first=True), [(3, 4, D), (3, 6, D)],
                             {"tgt_mask": ("causal", (4, 4)), "memory_key_padding_mask": ("bool", (3, 6))}),
    "all_masks": (dict(activation="gelu"), [(4, 3, D), (6, 3, D)],
                  {"tgt_mask": ("bool", (4, 4)), "memory_mask": ("float", (4, 6)),
                   "tgt_key_padding_mask": ("bool", (3, 4)), "memory_key_padding_mask": ("bool", (3, 6))}),
}


@pytest.mark.parametrize("case", list(DECODER_LAYER_CASES))
def test_decoder_layer_matches_torch(case):
    kw, inputs, masks = DECODER_LAYER_CASES[case]
    tm, m = _build("TransformerDecoderLayer", dict(BASE, **kw))
    _compare(tm, m, inputs, masks)


@pytest.mark.parametrize("norm", [True, False])
@pytest.mark.parametrize("masks", [{}, {"mask": ("causal", (5, 5))},
                                   {"mask": ("bool", (5, 5)), "src_key_padding_mask": ("bool", (3, 5))}])
def test_encoder_stack_matches_torch(norm, masks):
    tm, m = _build("TransformerEncoder", dict(BASE, batch_first=True), layers=("TransformerEncoderLayer", 2, norm))
    assert "layers.1.self_attn.in_proj_weight" in m.state_dict() and "layers.0.norm1.weight" in m.state_dict()
    _compare(tm, m, [(3, 5, D)], masks)


def test_decoder_stack_matches_torch():
    tm, m = _build("TransformerDecoder", dict(BASE), layers=("TransformerDecoderLayer", 2, True))
    _compare(tm, m, [(4, 3, D), (6, 3, D)],
             {"tgt_mask": ("causal", (4, 4)), "memory_key_padding_mask": ("bool", (3, 6))})


@pytest.mark.parametrize("kw", [dict(), dict(batch_first=True, norm_first=True, activation="gelu")])
def test_transformer_matches_torch(kw):
    tm, m = _build("Transformer", dict(BASE, num_encoder_layers=2, num_decoder_layers=1, **kw))
    src, tgt = ((3, 6, D), (3, 4, D)) if kw.get("batch_first") else ((6, 3, D), (4, 3, D))
    _compare(tm, m, [src, tgt], {"tgt_mask": ("causal", (4, 4)), "src_key_padding_mask": ("bool", (3, 6)),
                                 "memory_key_padding_mask": ("bool", (3, 6))})


def test_eval_with_dropout_matches_torch_fast_paths():
    # eval + no_grad: torch takes its fused inference paths, and the encoder's nested-tensor path zeroes
    # padded positions (Note [nested-tensor fast path]); the padding below is left-aligned, as it requires
    kw = dict(BASE, dropout=0.3, batch_first=True)
    tm, m = _build("TransformerEncoder", kw, layers=("TransformerEncoderLayer", 2, False))
    pad = np.zeros((3, 5), bool)
    pad[0, 3:] = True
    pad[2, 1:] = True
    x = np.random.default_rng(5).standard_normal((3, 5, D))
    tm.eval()
    m.eval()
    with torch.no_grad():
        want = tm(torch.tensor(x), src_key_padding_mask=torch.tensor(pad))
    with tapegrad.no_grad():
        got = m(tapegrad.tensor(x), src_key_padding_mask=tapegrad.tensor(pad))
    assert (want.numpy()[pad] == 0).all()
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-7, atol=1e-9)
    # with gradients wanted torch keeps the padded positions, and so does tapegrad
    want = tm(torch.tensor(x), src_key_padding_mask=torch.tensor(pad))
    got = m(tapegrad.tensor(x), src_key_padding_mask=tapegrad.tensor(pad))
    assert (want.detach().numpy()[pad] != 0).all()
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-7, atol=1e-9)


def test_dropout_is_active_while_training():
    m = tapegrad.nn.TransformerEncoderLayer(D, H, FF, dropout=0.5)
    x = tapegrad.randn(5, 3, D)
    assert (m(x) != m(x)).any().item()
    m.eval()
    assert (m(x) == m(x)).all().item()


def test_generate_square_subsequent_mask_matches_torch():
    for sz in (0, 1, 4):
        got = tapegrad.nn.Transformer.generate_square_subsequent_mask(sz)
        want = torch.nn.Transformer.generate_square_subsequent_mask(sz)
        assert got.dtype == tapegrad.float32 and tuple(got.shape) == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    got = tapegrad.nn.Transformer.generate_square_subsequent_mask(3, dtype=tapegrad.float64)
    assert got.dtype == tapegrad.float64


def test_encoder_nested_tensor_warning_like_torch():
    for batch_first in (False, True):
        layer_args = dict(d_model=D, nhead=H, dim_feedforward=FF, batch_first=batch_first)
        with warnings.catch_warnings(record=True) as tw:
            warnings.simplefilter("always")
            t = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(**layer_args), 1)
        with warnings.catch_warnings(record=True) as gw:
            warnings.simplefilter("always")
            g = tapegrad.nn.TransformerEncoder(tapegrad.nn.TransformerEncoderLayer(**layer_args), 1)
        assert [str(w.message) for w in gw if "enable_nested_tensor" in str(w.message)] == \
            [str(w.message) for w in tw if "enable_nested_tensor" in str(w.message)]
        assert g.use_nested_tensor == t.use_nested_tensor
    g = tapegrad.nn.TransformerEncoder(tapegrad.nn.TransformerEncoderLayer(D, H, FF), 1, enable_nested_tensor=False)
    assert g.enable_nested_tensor is False and g.use_nested_tensor is False


def test_reprs_and_default_init_like_torch():
    torch.manual_seed(0)
    tm = torch.nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32)
    m = tapegrad.nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32)
    assert repr(m) == repr(tm)
    # Transformer re-draws every matrix xavier-uniform; vectors keep their module's init (zeros, ones, Linear's)
    for (n, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        if p.ndim > 1:
            bound = math.sqrt(6 / (p.shape[0] + p.shape[1]))
            assert p.abs().max().item() <= bound, n
        elif "norm" in n:
            np.testing.assert_array_equal(p.detach().numpy(), tp.detach().numpy(), err_msg=n)
        elif "in_proj_bias" in n or "out_proj.bias" in n:
            assert p.abs().sum().item() == 0.0, n
    layer = tapegrad.nn.TransformerEncoderLayer(D, H)
    assert layer.linear1.out_features == 2048 and layer.dropout.p == 0.1 and layer.activation is \
        tapegrad.nn.functional.relu and layer.activation_relu_or_gelu == 1


def test_errors_like_torch():
    for lib in (torch, tapegrad):
        with pytest.raises(RuntimeError, match="activation should be relu/gelu, not swish"):
            lib.nn.TransformerEncoderLayer(D, H, activation="swish")
        model = lib.nn.Transformer(d_model=D, nhead=H, num_encoder_layers=1, num_decoder_layers=1,
                                   dim_feedforward=FF)
        with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
            model(lib.zeros(5, 3, D), lib.zeros(4, 2, D))
        with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
            model(lib.zeros(5, 3, D), lib.zeros(4, 3, D + 1))


def test_modules_live_where_torch_keeps_them():
    import tapegrad.nn.modules.transformer as T
    for name in ("Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
                 "TransformerDecoderLayer"):
        assert getattr(T, name) is getattr(tapegrad.nn, name)
