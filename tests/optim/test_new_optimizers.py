"""Adagrad, Adadelta, Adamax, NAdam, RAdam (and ASGD, Rprop): trajectories equal torch's in float64 for every
option, one hand-computed step each, state keys as torch's, and state_dict round trips mid-training.

Gradients are a fixed function of the parameters (computed in NumPy), handed to both libraries, so both
follow one trajectory (the pattern of test_trajectories.py).
"""
import math

import numpy as np
import pytest

import tapegrad
from tapegrad import optim
from tapegrad.backend import CPU_BACKEND

STEPS = 12
SHAPE = (3, 4)

CONFIGS = [
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.3, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.7, eps=1e-4, weight_decay=0.1)),
    ("Adadelta", dict(lr=0.5, maximize=True)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.1)),
    ("Adamax", dict(lr=0.05, maximize=True)),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, momentum_decay=0.05, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.3, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.3, decoupled_weight_decay=True, maximize=True)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=4, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=0, maximize=True)),
    ("Rprop", dict(lr=0.05)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ("Rprop", dict(lr=0.05, maximize=True)),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in CONFIGS]
FLAGS = {"Adagrad": dict(foreach=False, fused=None), "Adadelta": dict(foreach=True, capturable=True),
         "Adamax": dict(foreach=False, capturable=True), "NAdam": dict(foreach=True, capturable=False),
         "RAdam": dict(foreach=False, capturable=True), "ASGD": dict(foreach=False, capturable=True),
         "Rprop": dict(foreach=True, capturable=True)}


def _grad(p):
    return 2.0 * p * np.linspace(0.5, 2.0, p.size).reshape(p.shape) + np.sin(3 * p)


def _p0():
    return np.random.default_rng(0).standard_normal(SHAPE)


def _as(lib, a, transposed):
    return lib.tensor(np.ascontiguousarray(a.T)).t() if transposed else lib.tensor(np.ascontiguousarray(a))


def _run(lib, name, kw, steps=STEPS, transposed=False, opt=None, p=None):
    if p is None:
        p = _as(lib, _p0(), transposed).detach().requires_grad_()
    opt = getattr(lib.optim, name)([p], **kw) if opt is None else opt
    for _ in range(steps):
        p.grad = _as(lib, _grad(p.detach().numpy()), transposed)
        opt.step()
    return p, opt


@pytest.mark.parametrize("transposed", [False, True], ids=["contiguous", "strided"])
@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_trajectory_matches_torch(name, kw, transposed):
    torch = pytest.importorskip("torch")
    ours, _ = _run(tapegrad, name, kw, transposed=transposed)
    theirs, _ = _run(torch, name, kw, transposed=transposed)
    if transposed:
        assert not CPU_BACKEND.is_contiguous(ours._data)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_implementation_flags_are_accepted_and_change_nothing(name, kw):
    plain, _ = _run(tapegrad, name, kw, steps=3)
    flagged, opt = _run(tapegrad, name, dict(kw, **FLAGS[name]), steps=3)
    np.testing.assert_array_equal(plain.detach().numpy(), flagged.detach().numpy())
    assert all(opt.param_groups[0][k] == v for k, v in FLAGS[name].items())


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_state_keys_and_group_keys_are_torchs(name, kw):
    torch = pytest.importorskip("torch")
    ours = _run(tapegrad, name, kw, steps=2)[1].state_dict()
    theirs = _run(torch, name, kw, steps=2)[1].state_dict()
    assert sorted(ours["state"][0]) == sorted(theirs["state"][0])
    assert sorted(ours["param_groups"][0]) == sorted(theirs["param_groups"][0])
    for k, v in theirs["state"][0].items():
        if k not in ("step", "mu_product", "eta", "mu"):
            np.testing.assert_allclose(ours["state"][0][k].numpy(), v.numpy(), rtol=1e-12, atol=1e-13)
        else:
            assert float(ours["state"][0][k]) == pytest.approx(float(v), rel=1e-7)


def _round_trip(lib, name, kw, path):
    half, opt = _run(lib, name, kw, steps=STEPS // 2)
    lib.save(opt.state_dict(), path)
    p2 = lib.tensor(half.detach().numpy()).requires_grad_()
    opt2 = getattr(lib.optim, name)([p2], lr=123.0)              # hyperparameters come from the state dict
    opt2.load_state_dict(lib.load(path))
    assert opt2.param_groups[0]["lr"] == kw.get("lr", 1.0)
    _run(lib, name, kw, steps=STEPS - STEPS // 2, opt=opt2, p=p2)
    return p2, opt2


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_state_dict_round_trip_mid_training_continues_the_same_trajectory(name, kw, tmp_path):
    whole, _ = _run(tapegrad, name, kw)
    p2, opt2 = _round_trip(tapegrad, name, kw, tmp_path / "opt.tg")
    if name in ("NAdam", "ASGD"):
        # torch casts every loaded state tensor but "step" to the parameter's dtype, mu_product included:
        # the resumed run then differs from the uninterrupted one in the last bits, as torch's does.
        key = "mu_product" if name == "NAdam" else "eta"
        assert opt2.state[p2][key].dtype == tapegrad.float64
        torch = pytest.importorskip("torch")
        theirs, topt = _round_trip(torch, name, kw, tmp_path / "opt.pt")
        assert topt.state[theirs][key].dtype == torch.float64
        np.testing.assert_allclose(p2.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-13)
    else:
        np.testing.assert_array_equal(p2.detach().numpy(), whole.detach().numpy())


def test_nadam_mu_product_is_rounded_in_the_default_dtype_as_in_torch():
    # torch keeps mu_product as a float32 0-d tensor when the default dtype is float32: the trajectory
    # above matches to 1e-12 only because ours rounds it the same way.
    _, opt = _run(tapegrad, "NAdam", dict(lr=0.05), steps=3)
    (st,) = opt.state.values()
    assert st["mu_product"].dtype == tapegrad.float32
    mus = [0.9 * (1 - 0.5 * 0.96 ** (t * 0.004)) for t in (1, 2, 3)]
    prod32 = np.float32(1.0)
    for mu in mus:
        prod32 = prod32 * np.float32(mu)              # float32 times the scalar cast to float32
    assert st["mu_product"].item() == float(prod32)
    assert float(prod32) != mus[0] * mus[1] * mus[2]


# ----------------------------------------------------------- one step by hand (float64, NumPy formulas)
def _one_step(name, kw):
    p, _ = _run(tapegrad, name, kw, steps=1)
    return p.detach().numpy()


def test_adagrad_first_step_by_hand():
    p0 = _p0()
    d = _grad(p0) + 0.1 * p0
    s = 0.3 + d * d
    np.testing.assert_allclose(_one_step("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.3)),
                               p0 - 0.1 * d / (np.sqrt(s) + 1e-10), rtol=1e-14)


def test_adagrad_second_step_uses_the_decayed_lr_by_hand():
    p0 = _p0()
    g0 = _grad(p0)
    p1 = p0 - 0.1 * g0 / (np.abs(g0) + 1e-10)
    g1 = _grad(p1)
    s = g0 * g0 + g1 * g1
    p, _ = _run(tapegrad, "Adagrad", dict(lr=0.1, lr_decay=0.5), steps=2)
    np.testing.assert_allclose(p.detach().numpy(), p1 - 0.1 / 1.5 * g1 / (np.sqrt(s) + 1e-10), rtol=1e-13)


def test_adadelta_first_step_by_hand():
    p0 = _p0()
    g = _grad(p0)
    v = 0.1 * g * g
    delta = np.sqrt(1e-6) / np.sqrt(v + 1e-6) * g
    np.testing.assert_allclose(_one_step("Adadelta", {}), p0 - delta, rtol=1e-14)


def test_adamax_first_step_by_hand():
    p0 = _p0()
    g = _grad(p0)
    m, u = 0.1 * g, np.abs(g) + 1e-8
    np.testing.assert_allclose(_one_step("Adamax", dict(lr=0.05)), p0 - 0.05 / 0.1 * m / u, rtol=1e-14)


def test_nadam_first_step_by_hand():
    p0 = _p0()
    g = _grad(p0)
    mu1, mu2 = (0.9 * (1 - 0.5 * 0.96 ** (t * 0.004)) for t in (1, 2))
    mu1_32 = float(np.float32(mu1))                # mu_product in float32, as torch keeps it
    m, v = 0.1 * g, 0.001 * g * g
    den = np.sqrt(v / 0.001) + 1e-8
    want = p0 - 0.05 * (1 - mu1) / (1 - mu1_32) * g / den - 0.05 * mu2 / (1 - mu1_32 * mu2) * m / den
    np.testing.assert_allclose(_one_step("NAdam", dict(lr=0.05)), want, rtol=1e-13)


def test_radam_steps_by_hand_before_and_after_rectification():
    # b2 = 0.5: rho_inf = 3 < 5, so every step is the un-adapted one; b2 = 0.999 at step 6 rectifies.
    p0 = _p0()
    g = _grad(p0)
    np.testing.assert_allclose(_one_step("RAdam", dict(lr=0.05)), p0 - 0.05 * g, rtol=1e-14)
    p, opt = _run(tapegrad, "RAdam", dict(lr=0.05, betas=(0.9, 0.999)), steps=5)
    p5 = p.detach().numpy()
    st = opt.state[p]
    b1, b2, t = 0.9, 0.999, 6
    g = _grad(p5)
    m = b1 * st["exp_avg"].numpy() + (1 - b1) * g
    v = b2 * st["exp_avg_sq"].numpy() + (1 - b2) * g * g
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
    assert rho_t > 5
    rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    want = p5 - 0.05 * m / (1 - b1 ** t) * math.sqrt(1 - b2 ** t) / (np.sqrt(v) + 1e-8) * rect
    _run(tapegrad, "RAdam", {}, steps=1, opt=opt, p=p)
    np.testing.assert_allclose(p.detach().numpy(), want, rtol=1e-13)


def test_asgd_three_steps_by_hand_with_averaging_from_t0():
    # t0 = 0: mu = 1 / max(1, t) after step t; ax copies p while mu == 1 (steps 1, 2), then step 3 averages
    # with mu = 1/2. eta and mu are float32 0-d tensors, as torch keeps them.
    lr, lambd, alpha = 0.05, 0.01, 0.5
    eta = [float(np.float32(lr / (1 + lambd * lr * t) ** alpha)) for t in range(3)]
    ps = [_p0()]
    for t in range(3):
        ps.append(ps[-1] * (1 - lambd * eta[t]) - eta[t] * _grad(ps[-1]))
    p, opt = _run(tapegrad, "ASGD", dict(lr=lr, lambd=lambd, alpha=alpha, t0=0), steps=3)
    np.testing.assert_allclose(p.detach().numpy(), ps[3], rtol=1e-14)
    np.testing.assert_allclose(opt.state[p]["ax"].numpy(), (ps[2] + ps[3]) / 2, rtol=1e-14)
    assert opt.state[p]["mu"].item() == float(np.float32(1 / 3))


def test_rprop_two_steps_by_hand():
    p0 = _p0()
    g0 = _grad(p0)
    p1 = p0 - np.sign(g0) * 0.05
    g1 = _grad(p1)
    agree = np.sign(g0 * g1)
    size = np.clip(0.05 * np.where(agree > 0, 1.2, np.where(agree < 0, 0.5, 1.0)), 1e-6, 50)
    g1 = np.where(agree < 0, 0.0, g1)
    assert (agree < 0).any() and (agree > 0).any()
    p, opt = _run(tapegrad, "Rprop", dict(lr=0.05), steps=2)
    np.testing.assert_allclose(p.detach().numpy(), p1 - np.sign(g1) * size, rtol=1e-14)
    np.testing.assert_array_equal(opt.state[p]["prev"].numpy(), g1)


def test_adagrad_state_exists_before_the_first_step_as_in_torch():
    torch = pytest.importorskip("torch")
    for lib in (tapegrad, torch):
        w = lib.zeros(3, requires_grad=True)
        sd = lib.optim.Adagrad([w], initial_accumulator_value=0.5).state_dict()
        assert sorted(sd["state"][0]) == ["step", "sum"]
        assert sd["state"][0]["sum"].tolist() == [0.5] * 3


@pytest.mark.parametrize("name,kw,msg", [
    ("Adagrad", dict(lr_decay=-1.0), "lr_decay"), ("Adagrad", dict(eps=-1.0), "epsilon"),
    ("Adadelta", dict(rho=1.5), "rho"), ("Adamax", dict(betas=(1.0, 0.9)), "beta parameter at index 0"),
    ("NAdam", dict(momentum_decay=-0.1), "momentum_decay"), ("RAdam", dict(weight_decay=-1.0), "weight_decay"),
    ("NAdam", dict(differentiable=True), "differentiable"), ("Rprop", dict(etas=(0.5, 0.9)), "eta values"),
    ("ASGD", dict(lr=-0.1), "learning rate"),
])
def test_bad_hyperparameters_raise_like_torch(name, kw, msg):
    torch = pytest.importorskip("torch")
    with pytest.raises((ValueError, NotImplementedError), match=msg):
        getattr(optim, name)([tapegrad.zeros(2, requires_grad=True)], **kw)
    if name != "NAdam" or "differentiable" not in kw:
        with pytest.raises(ValueError):
            getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kw)
