"""Optimizer trajectories against float64 NumPy references of PyTorch's update rules, plus semantics."""
import numpy as np
import pytest

import tapegrad
from tapegrad import nn, optim

STEPS = 12


def _grad(p):
    # the gradient of a fixed non-quadratic function, so the trajectory depends on every update
    return 2.0 * p * np.linspace(0.5, 2.0, p.size).reshape(p.shape) + np.sin(3 * p)


def _run(opt_cls, kwargs, maximize=False):
    rng = np.random.default_rng(0)
    p0 = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    params = [nn.Parameter(tapegrad.tensor(a)) for a in p0]
    opt = opt_cls(params, **kwargs)
    arrays = [p._data for p in params]
    for _ in range(STEPS):
        for p in params:
            p.grad = tapegrad.tensor(_grad(p.detach().numpy()))
        opt.step()
    assert all(p._data is a for p, a in zip(params, arrays))       # updated in place
    return p0, [p.detach().numpy() for p in params]


def _ref_sgd(p, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    p = p.copy()
    buf = None
    for _ in range(STEPS):
        g = _grad(p)
        g = -g if maximize else g
        if weight_decay:
            g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def _ref_adam(p, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False,
              maximize=False):
    p = p.copy()
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    vmax = np.zeros_like(p)
    b1, b2 = betas
    for t in range(1, STEPS + 1):
        g = _grad(p)
        g = -g if maximize else g
        if weight_decay:
            if decoupled:
                p = p * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if amsgrad:
            vmax = np.maximum(vmax, v)
        denom = np.sqrt(vmax if amsgrad else v) / np.sqrt(1 - b2 ** t) + eps
        p = p - lr / (1 - b1 ** t) * m / denom
    return p


def _ref_rmsprop(p, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 maximize=False):
    p = p.copy()
    sq = np.zeros_like(p)
    ga = np.zeros_like(p)
    buf = np.zeros_like(p)
    for _ in range(STEPS):
        g = _grad(p)
        g = -g if maximize else g
        if weight_decay:
            g = g + weight_decay * p
        sq = alpha * sq + (1 - alpha) * g * g
        if centered:
            ga = alpha * ga + (1 - alpha) * g
            avg = np.sqrt(sq - ga * ga) + eps
        else:
            avg = np.sqrt(sq) + eps
        if momentum > 0:
            buf = momentum * buf + g / avg
            p = p - lr * buf
        else:
            p = p - lr * g / avg
    return p


CASES = [
    (optim.SGD, dict(lr=0.05), _ref_sgd),
    (optim.SGD, dict(lr=0.05, momentum=0.9), _ref_sgd),
    (optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01), _ref_sgd),
    (optim.SGD, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1), _ref_sgd),
    (optim.SGD, dict(lr=0.01, momentum=0.5, maximize=True), _ref_sgd),
    (optim.Adam, dict(lr=0.05), _ref_adam),
    (optim.Adam, dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1), _ref_adam),
    (optim.Adam, dict(lr=0.05, amsgrad=True), _ref_adam),
    (optim.Adam, dict(lr=0.02, maximize=True), _ref_adam),
    (optim.AdamW, dict(lr=0.05), lambda p, **k: _ref_adam(p, weight_decay=1e-2, decoupled=True, **k)),
    (optim.AdamW, dict(lr=0.05, weight_decay=0.3, amsgrad=True),
     lambda p, **k: _ref_adam(p, decoupled=True, **k)),
    (optim.RMSprop, dict(lr=0.01), _ref_rmsprop),
    (optim.RMSprop, dict(lr=0.01, alpha=0.9, momentum=0.7, weight_decay=0.05), _ref_rmsprop),
    (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.5), _ref_rmsprop),
]


@pytest.mark.parametrize("opt_cls,kwargs,ref", CASES, ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_trajectory_matches_reference(opt_cls, kwargs, ref):
    p0, got = _run(opt_cls, kwargs)
    for a0, a in zip(p0, got):
        np.testing.assert_allclose(a, ref(a0, **kwargs), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("opt_cls,kwargs", [(optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
                                            (optim.Adam, dict(lr=0.1, amsgrad=True)),
                                            (optim.AdamW, dict(lr=0.1)),
                                            (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.9))])
def test_trajectory_matches_torch(opt_cls, kwargs):
    torch = pytest.importorskip("torch")
    p0, got = _run(opt_cls, kwargs)
    tparams = [torch.tensor(a, requires_grad=True) for a in p0]
    topt = getattr(torch.optim, opt_cls.__name__)(tparams, **kwargs)
    for _ in range(STEPS):
        for p in tparams:
            p.grad = torch.from_numpy(_grad(p.detach().numpy()))
        topt.step()
    for a, p in zip(got, tparams):
        np.testing.assert_allclose(a, p.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_float32_stays_float32_and_no_tape():
    lin = nn.Linear(3, 2)
    opt = optim.Adam(lin.parameters(), lr=0.1)
    lin(tapegrad.ones(4, 3)).sum().backward()
    v = lin.weight._version[0]
    opt.step()
    assert lin.weight.dtype == tapegrad.float32 and lin.weight.is_leaf
    assert opt.state[lin.weight]["exp_avg"].dtype == tapegrad.float32
    assert lin.weight._version[0] == v + 1


def test_step_bumps_version_so_stale_graphs_refuse_backward():
    w = nn.Parameter(tapegrad.ones(2))
    y = (w * w).sum()
    w.grad = tapegrad.ones(2)
    optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_param_groups_and_skip_params_without_grad():
    a, b = nn.Parameter(tapegrad.ones(2)), nn.Parameter(tapegrad.ones(2))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 1.0}], lr=0.1, momentum=0.5)
    assert opt.param_groups[1]["momentum"] == 0.5 and opt.param_groups[1]["lr"] == 1.0
    b.grad = tapegrad.ones(2)
    opt.step()
    np.testing.assert_array_equal(a.detach().numpy(), [1, 1])
    np.testing.assert_array_equal(b.detach().numpy(), [0, 0])
    c = nn.Parameter(tapegrad.ones(1))
    opt.add_param_group({"params": [c], "lr": 0.5})
    assert len(opt.param_groups) == 3
    assert "Parameter Group 2" in repr(opt)


def test_closure_and_zero_grad():
    w = nn.Parameter(tapegrad.tensor([2.0]))
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 4.0
    assert w.item() == 1.0
    opt.zero_grad(set_to_none=False)
    assert w.grad.item() == 0.0
    opt.zero_grad()
    assert w.grad is None


def _trained(opt_cls, **kw):
    lin = nn.Linear(3, 2)
    opt = opt_cls(lin.parameters(), **kw)
    for _ in range(3):
        opt.zero_grad()
        lin(tapegrad.ones(4, 3)).pow(2).sum().backward()
        opt.step()
    return lin, opt


@pytest.mark.parametrize("opt_cls", [optim.SGD, optim.Adam, optim.RMSprop])
def test_state_dict_round_trip_continues_identically(opt_cls, tmp_path):
    kw = dict(lr=0.01, momentum=0.9) if opt_cls is not optim.Adam else dict(lr=0.01, amsgrad=True)
    lin, opt = _trained(opt_cls, **kw)
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0, 1] and set(sd["state"]) == {0, 1}
    tapegrad.save({"model": lin.state_dict(), "optim": sd}, tmp_path / "ck.tg")
    ck = tapegrad.load(tmp_path / "ck.tg")
    lin2 = nn.Linear(3, 2)
    lin2.load_state_dict(ck["model"])
    opt2 = opt_cls(lin2.parameters(), lr=0.5)
    opt2.load_state_dict(ck["optim"])
    assert opt2.param_groups[0]["lr"] == 0.01
    for m, o in ((lin, opt), (lin2, opt2)):
        o.zero_grad()
        m(tapegrad.ones(4, 3)).pow(2).sum().backward()
        o.step()
    np.testing.assert_array_equal(lin.weight.detach().numpy(), lin2.weight.detach().numpy())


def test_load_state_dict_errors_leave_optimizer_untouched():
    lin, opt = _trained(optim.Adam, lr=0.01)
    other = optim.Adam([nn.Parameter(tapegrad.ones(1))], lr=0.3)
    with pytest.raises(ValueError, match="doesn't match the size"):
        other.load_state_dict(opt.state_dict())
    assert other.param_groups[0]["lr"] == 0.3 and other.state == {}
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_a_step_with_inf_or_nan_gradients_warns_nothing_as_in_torch(name):
    import warnings
    w = tapegrad.nn.Parameter(tapegrad.ones(3))
    opt = getattr(tapegrad.optim, name)([w], lr=0.1, **({"momentum": 0.9} if name in ("SGD", "RMSprop") else {}))
    w.grad = tapegrad.tensor([float("inf"), float("nan"), 1.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt.step()
        opt.step()
    assert not [c for c in caught if issubclass(c.category, RuntimeWarning)], [str(c.message) for c in caught]
