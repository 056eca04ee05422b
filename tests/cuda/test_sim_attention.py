"""Attention and transformer modules on device='cuda' give the CPU's outputs and gradients.

The op-database specs (tests/op_db/attention.py) run ``scaled_dot_product_attention`` itself on the
device; these run the modules around it (masks, padding, bias_kv, zero attention, the causal hint,
LayerNorm and the feed-forward block) with the same weights on both devices.
"""
import numpy as np
import pytest

import tapegrad
from tapegrad import nn

E = 4


def _same_on_both(make, inputs, call, n_grad=1):
    """Run ``call(module, *inputs)`` on the CPU and on cuda with the same weights; compare the outputs and the
    gradients of the first ``n_grad`` inputs and of every parameter."""
    cpu = make()
    gpu = make()
    gpu.load_state_dict(cpu.state_dict())
    gpu.to("cuda")
    results = []
    for model, dev in ((cpu, "cpu"), (gpu, "cuda")):
        xs = [tapegrad.tensor(a, requires_grad=i < n_grad, device=dev) for i, a in enumerate(inputs)]
        out = call(model, *xs)
        out = out[0] if isinstance(out, tuple) else out
        assert out.device.type == dev
        (out * tapegrad.arange(out.numel(), dtype=out.dtype, device=dev).reshape(out.shape).sin()).sum().backward()
        grads = [x.grad.cpu().numpy() for x in xs if x.requires_grad]
        grads += [p.grad.cpu().numpy() for p in model.parameters()]
        results.append((out.detach().cpu().numpy(), grads))
    (want, want_g), (got, got_g) = results
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    for g, w in zip(got_g, want_g):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_with_masks_matches_cpu(need_weights):
    kpm = np.array([[False, False, True], [False, False, False]])
    mask = np.array([[False, True, True], [False, False, True], [False, False, False]])
    _same_on_both(lambda: nn.MultiheadAttention(E, 2, add_bias_kv=True, add_zero_attn=True, batch_first=True),
                  [_x(2, 3, E), kpm, mask],
                  lambda m, x, k, a: m(x, x, x, key_padding_mask=k, attn_mask=a, need_weights=need_weights))


def test_encoder_and_decoder_layers_match_cpu():
    mask = nn.Transformer.generate_square_subsequent_mask(3).numpy()
    _same_on_both(lambda: nn.TransformerEncoderLayer(E, 2, dim_feedforward=6, dropout=0.0, norm_first=True),
                  [_x(3, 2, E), mask], lambda m, x, a: m(x, src_mask=a, is_causal=True))
    _same_on_both(lambda: nn.TransformerDecoderLayer(E, 2, dim_feedforward=6, dropout=0.0, activation="gelu"),
                  [_x(3, 2, E), _x(2, 2, E, seed=1)], lambda m, t, mem: m(t, mem), n_grad=2)


def test_attention_dropout_runs_on_the_device():
    q = tapegrad.zeros(2, 4, 2, device="cuda")
    v = tapegrad.eye(4, device="cuda").expand(2, 4, 4)
    out = nn.functional.scaled_dot_product_attention(q, q, v, dropout_p=0.5).cpu().numpy()
    assert set(np.unique(out)) <= {0.0, 0.5}
