"""Activation modules and their F. forms against PyTorch (the oracle): constructor signatures and defaults,
repr, outputs and gradients (kinks included), in-place variants, PReLU's parameter, gumbel_softmax sampling."""
import numpy as np
import pytest

import tapegrad
from tapegrad import nn
from tapegrad.nn import functional as F

from ._parity import check_state, pair, same_signature, step

torch = pytest.importorskip("torch")

# every kink of every module below, plus values far out (overflow in a discarded branch)
_X = np.array([[-1000.0, -40.0, -6.0, -3.0, -2.5, -1.0, -0.5, -0.2, 0.0],
               [0.2, 0.5, 1.0, 1.5, 2.5, 3.0, 6.0, 40.0, 1000.0]])

_WITH_INIT = ["LeakyReLU", "PReLU", "ReLU6", "ELU", "SELU", "CELU", "SiLU", "Mish", "Softplus", "Hardtanh",
              "Hardswish", "Hardsigmoid", "Softshrink", "Hardshrink", "Threshold", "GLU", "Softmin", "ReLU"]
_NO_ARGS = ["Softsign", "Tanhshrink", "LogSigmoid", "Softmax2d"]

_CASES = [("LeakyReLU", (), {}), ("LeakyReLU", (0.2,), {}), ("LeakyReLU", (), {"negative_slope": 1.5}),
          ("ReLU6", (), {}), ("ELU", (), {}), ("ELU", (0.5,), {}), ("SELU", (), {}), ("CELU", (), {}),
          ("CELU", (2.0,), {}), ("SiLU", (), {}), ("Mish", (), {}), ("Softplus", (), {}),
          ("Softplus", (2.0, 1.0), {}), ("Softplus", (), {"beta": 0.5, "threshold": 3.0}), ("Softsign", (), {}),
          ("Hardtanh", (), {}), ("Hardtanh", (-2.5, 3.0), {}), ("Hardswish", (), {}), ("Hardsigmoid", (), {}),
          ("Tanhshrink", (), {}), ("Softshrink", (), {}), ("Softshrink", (1.0,), {}), ("Hardshrink", (), {}),
          ("Hardshrink", (0.2,), {}), ("Threshold", (0.5, -2.0), {}), ("Threshold", (0.0, 0.0), {}),
          ("LogSigmoid", (), {}), ("Softmin", (1,), {}), ("GLU", (), {}), ("GLU", (0,), {}), ("ReLU", (), {}),
          ("PReLU", (), {}), ("PReLU", (), {"init": -0.5})]


@pytest.mark.parametrize("name", _WITH_INIT)
def test_activation_signatures_match_torch(name):
    same_signature(torch, name)


@pytest.mark.parametrize("name", _NO_ARGS)
def test_argument_free_activations_build_and_print_as_torch(name):
    assert repr(getattr(nn, name)()) == repr(getattr(torch.nn, name)())


@pytest.mark.parametrize("name,args,kwargs", _CASES)
def test_activation_matches_torch_at_every_kink(name, args, kwargs):
    """Outputs, input gradients (each kink of _X included) and parameter gradients, in float64."""
    ours, theirs = pair(torch, name, *args, **kwargs)
    x, r = _X, np.random.default_rng(0).standard_normal((4, 4)) * 3
    if name == "GLU":                               # an even size along the halved dim
        x = _X.reshape(6, 3) if args == (0,) else _X.reshape(3, 6)
    step(torch, ours, theirs, x, tol=_tol(name))
    step(torch, ours, theirs, r, tol=_tol(name))


def _tol(name):
    # torch 2.13's hardsigmoid backward multiplies by 1/6 rounded to float32 in every dtype
    return 1e-7 if name == "Hardsigmoid" else 1e-12


@pytest.mark.parametrize("name,args", [("LeakyReLU", (0.2, True)), ("ReLU6", (True,)), ("ELU", (0.5, True)),
                                       ("SELU", (True,)), ("CELU", (2.0, True)), ("SiLU", (True,)),
                                       ("Mish", (True,)), ("Hardtanh", (-2.0, 2.0, True)), ("Hardswish", (True,)),
                                       ("Hardsigmoid", (True,)), ("Threshold", (0.5, 3.0, True)), ("ReLU", (True,))])
def test_inplace_activations_write_into_their_input_as_torch(name, args):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs) and ours.inplace is True
    x0 = np.random.default_rng(3).standard_normal((2, 5)) * 4
    a = tapegrad.tensor(x0, requires_grad=True)
    at = torch.tensor(x0, requires_grad=True)
    x, xt = a * 1.0, at * 1.0                       # a non-leaf, as in-place needs
    y, yt = ours(x), theirs(xt)
    assert y is x and yt is xt
    np.testing.assert_allclose(x.detach().numpy(), xt.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert x._version[0] == 1
    g = np.random.default_rng(4).standard_normal(x0.shape)
    y.backward(tapegrad.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), rtol=_tol(name), atol=1e-12)
    leaf = tapegrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        ours(leaf)


@pytest.mark.parametrize("fn,args", [("relu_", ()), ("leaky_relu_", (0.3,)), ("elu_", (0.5,)), ("selu_", ()),
                                     ("celu_", (2.0,)), ("hardtanh_", (-0.5, 0.5)), ("threshold_", (0.1, 9.0))])
def test_functional_inplace_forms_match_torch(fn, args):
    x0 = np.linspace(-3, 3, 13)
    x, xt = tapegrad.tensor(x0), torch.tensor(x0)
    assert getattr(F, fn)(x, *args) is x
    getattr(torch.nn.functional, fn)(xt, *args)
    np.testing.assert_allclose(x.numpy(), xt.numpy(), rtol=1e-12, atol=1e-15)


def test_prelu_parameter_per_channel_matches_torch():
    ours, theirs = pair(torch, "PReLU", 3, 0.1)
    check_state(ours, theirs)
    assert repr(ours) == "PReLU(num_parameters=3)"
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([0.1, -0.3, 2.0], dtype=torch.float64))
    ours.load_state_dict({k: tapegrad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(5).standard_normal((4, 3, 2))
    x[0, :, 0] = 0.0                                # the kink: slope gradient 0, input gradient the slope
    step(torch, ours, theirs, x, tol=1e-12)
    with pytest.raises(RuntimeError, match="prelu: mismatch in parameter count"):
        ours(tapegrad.ones(2, 4))


def test_activation_errors_match_torch():
    for lib in (tapegrad, torch):
        with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D instead"):
            lib.nn.Softmax2d()(lib.ones(2, 2))
        with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is size 3"):
            lib.nn.GLU()(lib.ones(2, 3))
        with pytest.raises(RuntimeError, match=r"lambda must be in range \[0, 3.40282e\+38\] for input dtype Float, "
                                               r"but found -1"):
            lib.nn.functional.softshrink(lib.ones(2), -1.0)
    with pytest.raises(ValueError, match=r"max_val \(1.0\) must be greater than min_val \(2.0\)"):
        nn.Hardtanh(2.0, 1.0)
    with pytest.warns(FutureWarning, match="min_value"):
        assert nn.Hardtanh(min_value=-3.0).min_val == -3.0


def test_softmax2d_is_a_softmax_over_channels():
    x = np.random.default_rng(6).standard_normal((2, 3, 2, 2))
    for shape in ((2, 3, 2, 2), (3, 2, 2)):
        xs = x.reshape(-1)[:int(np.prod(shape))].reshape(shape)
        ours, theirs = pair(torch, "Softmax2d")
        step(torch, ours, theirs, xs, tol=1e-12)


def test_softmin_without_dim_warns_as_torch():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        y = nn.Softmin()(tapegrad.zeros(2, 3))
    np.testing.assert_allclose(y.numpy(), np.full((2, 3), 1 / 3), rtol=1e-6)


# ----------------------------------------------------------------- gumbel_softmax

def test_gumbel_softmax_draws_gumbel_noise_from_the_generator():
    logits = tapegrad.tensor(np.random.default_rng(7).standard_normal((5, 4)))
    tapegrad.manual_seed(11)
    y = F.gumbel_softmax(logits, tau=0.5)
    tapegrad.manual_seed(11)
    g = -np.log(-np.log(tapegrad.rand(5, 4, dtype=tapegrad.float64).numpy()))
    z = (logits.numpy() + g) / 0.5
    want = np.exp(z - z.max(-1, keepdims=True))
    np.testing.assert_allclose(y.numpy(), want / want.sum(-1, keepdims=True), rtol=1e-12)


def test_gumbel_softmax_hard_is_one_hot_with_the_soft_gradient():
    x0 = np.random.default_rng(8).standard_normal((3, 4))
    logits = tapegrad.tensor(x0, requires_grad=True)
    tapegrad.manual_seed(12)
    y = F.gumbel_softmax(logits, hard=True, dim=0)
    assert sorted(set(y.detach().numpy().ravel().tolist())) == [0.0, 1.0]
    np.testing.assert_array_equal(y.detach().numpy().sum(0), np.ones(4))
    w = np.random.default_rng(9).standard_normal((3, 4))
    y.backward(tapegrad.tensor(w))
    tapegrad.manual_seed(12)
    g = -np.log(-np.log(tapegrad.rand(3, 4, dtype=tapegrad.float64).numpy()))
    lt = torch.tensor(x0, requires_grad=True)
    soft = torch.softmax(lt + torch.tensor(g), 0)
    hard = torch.zeros_like(soft).scatter_(0, soft.max(0, keepdim=True)[1], 1.0) - soft.detach() + soft
    hard.backward(torch.tensor(w))
    np.testing.assert_allclose(y.detach().numpy(), hard.detach().numpy(), atol=1e-15)
    np.testing.assert_allclose(logits.grad.numpy(), lt.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_gumbel_softmax_samples_follow_the_softmax():
    """The argmax of logits + Gumbel noise is a sample of softmax(logits) (the Gumbel-max trick)."""
    p = np.array([0.6, 0.3, 0.1])
    tapegrad.manual_seed(13)
    y = F.gumbel_softmax(tapegrad.tensor(np.tile(np.log(p), (4000, 1))), hard=True)
    freq = y.numpy().mean(0)
    np.testing.assert_allclose(freq, p, atol=0.03)
