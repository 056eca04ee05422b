"""Normalization modules against PyTorch (the oracle): constructor signatures and defaults,
initial state, repr, outputs, input and parameter gradients, running statistics, state_dict."""
import numpy as np
import pytest

import tapegrad
from tapegrad import nn

from ._parity import check_state, pair, same_signature, step

torch = pytest.importorskip("torch")


def _x(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape) * 2 + 0.5


# ----------------------------------------------------------------- LayerNorm

def test_layer_norm_signature_matches_torch():
    same_signature(torch, "LayerNorm")


@pytest.mark.parametrize("args,kwargs", [((4,), {}), ([3, 4], {}), ((4,), {"bias": False}),
                                         ((4,), {"elementwise_affine": False}),
                                         ((torch.Size([2, 4]),), {"eps": 1e-3})])
def test_layer_norm_initial_state_and_repr_match_torch(args, kwargs):
    ours = nn.LayerNorm(*args, **kwargs)
    theirs = torch.nn.LayerNorm(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert ours.normalized_shape == theirs.normalized_shape and ours.eps == theirs.eps
    check_state(ours, theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


@pytest.mark.parametrize("args,kwargs,shape", [((5,), {}, (3, 5)), ((5,), {}, (2, 3, 5)), (([3, 5],), {}, (2, 3, 5)),
                                               ((5,), {"bias": False}, (4, 5)),
                                               ((5,), {"elementwise_affine": False}, (4, 5)),
                                               ((5,), {"eps": 0.1}, (5,))])
def test_layer_norm_matches_torch(args, kwargs, shape):
    ours, theirs = pair(torch, "LayerNorm", *args, **kwargs)
    with torch.no_grad():                       # weights away from the ones/zeros init
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, dtype=torch.float64))
    ours.load_state_dict({k: tapegrad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    step(torch, ours, theirs, _x(*shape))


def test_layer_norm_float32_and_errors():
    ln = nn.LayerNorm(3)
    y = ln(tapegrad.tensor(_x(2, 3), dtype=tapegrad.float32))
    assert y.dtype == tapegrad.float32
    np.testing.assert_allclose(y.detach().numpy(), torch.nn.LayerNorm(3)(torch.tensor(_x(2, 3),
                               dtype=torch.float32)).detach().numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(RuntimeError, match=r"layer_norm: given normalized_shape=\[3\], expected input with shape "
                                           r"\[\*, 3\], but got input of size \[2, 4\]"):
        ln(tapegrad.ones(2, 4))
    with pytest.raises(RuntimeError, match=r"layer_norm: expected weight of shape \[3\]"):
        tapegrad.nn.functional.layer_norm(tapegrad.ones(2, 3), [3], weight=tapegrad.ones(4))


def test_layer_norm_records_one_node():
    x = tapegrad.randn(2, 3, requires_grad=True)
    y = nn.LayerNorm(3)(x)
    assert y.grad_fn.name() == "LayerNormBackward0"
    assert {type(e[0]).__name__ for e in y.grad_fn.next if e is not None} <= {"Tensor", "Parameter"}
