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


# ----------------------------------------------------------------- batch and instance norm

_BN = {"BatchNorm1d": [(6, 3), (5, 3, 4)], "BatchNorm2d": [(4, 3, 2, 3)], "BatchNorm3d": [(2, 3, 2, 2, 3)]}
_IN = {"InstanceNorm1d": [(4, 3, 5), (3, 5)], "InstanceNorm2d": [(2, 3, 2, 3), (3, 2, 3)],
       "InstanceNorm3d": [(2, 3, 2, 2, 2)]}
_NORM_KWARGS = [{}, {"momentum": None}, {"momentum": 0.3, "eps": 1e-3}, {"affine": False},
                {"track_running_stats": False}, {"bias": False}, {"affine": True, "track_running_stats": True}]


@pytest.mark.parametrize("name", list(_BN) + list(_IN) + ["GroupNorm", "RMSNorm", "LocalResponseNorm"])
def test_norm_signatures_match_torch(name):
    same_signature(torch, name)


@pytest.mark.parametrize("name", list(_BN) + list(_IN))
@pytest.mark.parametrize("kwargs", _NORM_KWARGS)
def test_batch_and_instance_norm_initial_state_and_repr(name, kwargs):
    ours, theirs = getattr(nn, name)(3, **kwargs), getattr(torch.nn, name)(3, **kwargs)
    assert repr(ours) == repr(theirs)
    check_state(ours, theirs)
    for attr in ("num_features", "eps", "momentum", "affine", "track_running_stats"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    for attr in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
        assert (getattr(ours, attr) is None) == (getattr(theirs, attr) is None), attr


@pytest.mark.parametrize("name,shape", [(n, s) for d in (_BN, _IN) for n, ss in d.items() for s in ss])
@pytest.mark.parametrize("kwargs", _NORM_KWARGS)
def test_batch_and_instance_norm_train_then_eval_match_torch(name, shape, kwargs):
    """Three training steps (outputs, gradients, running statistics, batch count), then eval."""
    ours, theirs = pair(torch, name, 3, **kwargs)
    if ours.affine:
        with torch.no_grad():
            for p in theirs.parameters():
                p.copy_(torch.randn(p.shape, dtype=torch.float64))
        ours.load_state_dict({k: tapegrad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    for i in range(3):
        for p in list(ours.parameters()) + list(theirs.parameters()):
            p.grad = None
        step(torch, ours, theirs, _x(*shape, seed=i), seed=i)
    ours.eval()
    theirs.eval()
    step(torch, ours, theirs, _x(*shape, seed=7), seed=7)
    check_state(ours, theirs, 1e-12)


def test_batch_norm_errors_match_torch():
    for lib in (tapegrad, torch):
        with pytest.raises(ValueError, match="expected 2D or 3D input"):
            lib.nn.BatchNorm1d(3)(lib.ones(2, 3, 4, 5))
        with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
            lib.nn.BatchNorm1d(3)(lib.ones(1, 3))
        with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
            lib.nn.InstanceNorm1d(3)(lib.ones(2, 3, 1))
        with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
            lib.nn.GroupNorm(2, 2)(lib.ones(1, 2))
        with pytest.raises(ValueError, match="expected input's size at dim=1 to match num_features"):
            lib.nn.InstanceNorm1d(3, affine=True)(lib.ones(2, 4, 5))
    bn = nn.BatchNorm1d(3).eval()
    np.testing.assert_allclose(bn(tapegrad.ones(1, 3)).detach().numpy(), np.ones((1, 3)) / np.sqrt(1 + 1e-5),
                               rtol=1e-6)                # one value per channel is fine in eval
    with pytest.raises(RuntimeError, match="batch_norm: expected weight with 3 elements"):
        tapegrad.nn.functional.batch_norm(tapegrad.ones(2, 3), None, None, weight=tapegrad.ones(4), training=True)
    with pytest.raises(RuntimeError, match="running_mean and running_var must be given"):
        tapegrad.nn.functional.batch_norm(tapegrad.ones(2, 3), None, None)


# ----------------------------------------------------------------- group, RMS and local response norm

@pytest.mark.parametrize("args,kwargs,shape", [((2, 4), {}, (3, 4, 5)), ((1, 4), {}, (2, 4)),
                                               ((4, 4), {}, (2, 4, 2, 3)), ((2, 4), {"affine": False}, (3, 4, 5)),
                                               ((2, 4), {"bias": False, "eps": 1e-3}, (3, 4, 5))])
def test_group_norm_matches_torch(args, kwargs, shape):
    ours, theirs = pair(torch, "GroupNorm", *args, **kwargs)
    check_state(ours, theirs)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, dtype=torch.float64))
    ours.load_state_dict({k: tapegrad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    step(torch, ours, theirs, _x(*shape))
    with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups \(2\)"):
        nn.GroupNorm(2, 5)


@pytest.mark.parametrize("args,kwargs,shape", [((4,), {}, (3, 4)), (([2, 4],), {"eps": 1e-3}, (3, 2, 4)),
                                               ((4,), {"elementwise_affine": False}, (2, 4)), ((4,), {}, (4,))])
def test_rms_norm_matches_torch(args, kwargs, shape):
    ours, theirs = pair(torch, "RMSNorm", *args, **kwargs)
    check_state(ours, theirs)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, dtype=torch.float64))
    ours.load_state_dict({k: tapegrad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    step(torch, ours, theirs, _x(*shape))


def test_rms_norm_default_eps_is_the_dtype_epsilon():
    x = np.full((2, 3), 1e-4)
    for dt, tdt in ((tapegrad.float32, torch.float32), (tapegrad.float64, torch.float64)):
        got = nn.RMSNorm(3)(tapegrad.tensor(x, dtype=dt)).detach().numpy()
        want = torch.nn.RMSNorm(3, dtype=tdt)(torch.tensor(x, dtype=tdt)).detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("args,kwargs,shape", [((2,), {}, (2, 5, 3)),
                                               ((3,), {"alpha": 0.5, "beta": 0.5, "k": 2.0}, (2, 4, 2, 3)),
                                               ((1,), {"alpha": 1.0}, (2, 3, 4)),
                                               ((4,), {"alpha": 1.0}, (1, 3, 2, 2, 2))])
def test_local_response_norm_matches_torch(args, kwargs, shape):
    ours, theirs = pair(torch, "LocalResponseNorm", *args, **kwargs)
    step(torch, ours, theirs, _x(*shape))
    for lib in (tapegrad, torch):
        with pytest.raises(ValueError, match="3D or higher dimensionality"):
            lib.nn.LocalResponseNorm(2)(lib.ones(2, 3))


def test_eval_batch_norm_gradient_uses_the_statistics_of_its_forward():
    """The node keeps copies of the running statistics: a training step between forward and backward
    (which updates the buffers in place) does not change the gradient. (torch raises there instead:
    its node saved the buffers themselves.)"""
    ours, theirs = pair(torch, "BatchNorm1d", 2)
    ours.eval()
    theirs.eval()
    x = _x(4, 2)
    xo, xt = tapegrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = ours(xo)
    theirs(xt).sum().backward()
    ours.train()
    ours(tapegrad.tensor(_x(4, 2, seed=5) * 10))       # updates running_mean/var in place
    y.sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_instance_norm_warns_on_a_channel_mismatch_without_affine_as_torch():
    for lib in (tapegrad, torch):
        with pytest.warns(UserWarning, match="input's size at dim=1 does not match num_features"):
            y = lib.nn.InstanceNorm1d(3)(lib.tensor(_x(2, 4, 5)))
        assert tuple(y.shape) == (2, 4, 5)
