"""Multi-tensor optimizer updates (Note [multi-tensor updates in the optimizers], optim/_multi.py): the same
values as the per-parameter path (``foreach=False``) bit for bit, torch's trajectories, and every change
between steps that must send a step back through the full checks or to the per-parameter path."""
import copy

import numpy as np
import pytest

import tapegrad
from tapegrad.backend import CPU_BACKEND
from tapegrad.backend.base import ArrayBackend

# 9 parameters: one call of 8 and one of 4 (3 unused slots); a size-0 one and 1-D and 3-D ones
SHAPES = [(3, 4), (4,), (2, 3, 2), (1,), (5,), (2, 2), (3,), (0,), (6,)]
STEPS = 6

CONFIGS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3)),
    ("Adam", dict(lr=0.05, weight_decay=0.3, decoupled_weight_decay=True)),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)]


def _grad(a, step):
    return (2.0 * a + np.sin(3 * a + step)).astype(a.dtype)


def _params(lib, dtype, shapes=SHAPES):
    rng = np.random.default_rng(0)
    return [lib.tensor(rng.standard_normal(s).astype(dtype)).requires_grad_() for s in shapes]


def _set_grads(lib, params, step, skip=()):
    for i, p in enumerate(params):
        p.grad = None if i in skip else lib.tensor(_grad(p.detach().numpy(), step))


@pytest.fixture
def calls(monkeypatch):
    """Count the backend's single-tensor and multi-tensor update calls."""
    seen = {"single": 0, "multi": 0}
    for attr, kind in [("sgd_update_", "single"), ("adam_update_", "single"), ("sgd_update_multi_", "multi"),
                       ("adam_update_multi_", "multi")]:
        orig = getattr(CPU_BACKEND, attr)

        def counted(*a, _f=orig, _k=kind, **k):
            seen[_k] += 1
            return _f(*a, **k)
        monkeypatch.setattr(type(CPU_BACKEND), attr, staticmethod(counted))
    return seen


def _run(name, kw, dtype, foreach, steps=STEPS, between=None, skip=lambda i: ()):
    params = _params(tapegrad, dtype)
    opt = getattr(tapegrad.optim, name)(params, foreach=foreach, **kw)
    sched = tapegrad.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)      # lr read live every step
    for i in range(steps):
        _set_grads(tapegrad, params, i, skip(i))
        opt.step()
        sched.step()
        if between is not None:
            between(i, params, opt)
    return params, opt


def _same(a, b):
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_multi_tensor_equals_the_per_parameter_path_bit_for_bit(name, kw, dtype, calls):
    multi, opt = _run(name, kw, dtype, None)
    assert calls == {"single": 0, "multi": STEPS}           # one call per step for all 9 parameters
    single, opt1 = _run(name, kw, dtype, False)
    assert calls == {"single": STEPS * len(SHAPES), "multi": STEPS}     # foreach=False: per parameter
    _same(multi, single)
    assert len(opt.state) == len(opt1.state)
    for p, q in zip(multi, single):
        assert list(opt.state.get(p, {})) == list(opt1.state.get(q, {}))
        for k, v in opt1.state.get(q, {}).items():
            w = opt.state[p][k]
            assert (w == v) if k == "step" else np.array_equal(w.numpy(), v.numpy())
        assert p._version[0] == q._version[0] >= STEPS


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_multi_tensor_trajectory_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tapegrad, torch):
        params = _params(lib, np.float64)
        opt = getattr(lib.optim, name)(params, **kw)
        for i in range(STEPS):
            _set_grads(lib, params, i)
            opt.step()
        results.append([p.detach().numpy() for p in params])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def _replace_data(i, params, opt):
    if i == 1:
        params[2].data = tapegrad.tensor(params[2].detach().numpy() * 0.5)       # a new array object


def _reload_state(i, params, opt):
    if i == 2:          # new state arrays, with other values
        sd = copy.deepcopy(opt.state_dict())
        for st in sd["state"].values():
            for k in ("momentum_buffer", "exp_avg"):
                if k in st:
                    st[k] = st[k] * 0.5
        opt.load_state_dict(sd)


def _swap_buffer(i, params, opt):
    if i == 2:
        for k in ("momentum_buffer", "exp_avg_sq"):
            if k in opt.state.get(params[4], {}):
                opt.state[params[4]][k] = opt.state[params[4]][k] * 0.5


def _transpose_data(i, params, opt):
    if i == 1:      # a strided parameter: that step and the next take the per-parameter path
        params[0].data = tapegrad.tensor(np.ascontiguousarray(params[0].detach().numpy().T)).t()
    if i == 3:
        params[0].data = params[0].detach().contiguous()


CHANGES = {"replace-data": (_replace_data, lambda i: ()), "load-state-dict": (_reload_state, lambda i: ()),
           "swap-state-array": (_swap_buffer, lambda i: ()), "strided-param": (_transpose_data, lambda i: ()),
           "missing-grads": (None, lambda i: (1, 5) if i in (1, 2) else ()),
           "late-first-grad": (None, lambda i: (3,) if i < 2 else ())}


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("name,kw", [CONFIGS[2], CONFIGS[3], CONFIGS[5], CONFIGS[6]],
                         ids=["SGD-momentum", "SGD-nesterov", "Adam", "AdamW"])
def test_changes_between_steps_give_the_per_parameter_values(name, kw, change, calls):
    between, skip = CHANGES[change]
    multi, opt = _run(name, kw, np.float32, None, between=between, skip=skip)
    assert calls["multi"] > 0
    single, opt1 = _run(name, kw, np.float32, False, between=between, skip=skip)
    _same(multi, single)
    for p, q in zip(multi, single):
        for k, v in opt1.state[q].items():
            w = opt.state[p][k]
            assert (w == v) if k == "step" else np.array_equal(w.numpy(), v.numpy())


def test_duplicated_and_mixed_parameters_take_the_per_parameter_path(calls):
    a, b = _params(tapegrad, np.float64, [(3,), (2,)])
    with pytest.warns(UserWarning, match="duplicate"):
        opt = tapegrad.optim.SGD([a, b, a], lr=0.1, momentum=0.9)
    _set_grads(tapegrad, [a, b], 0)
    opt.step()
    assert calls == {"single": 3, "multi": 0}
    c = tapegrad.tensor(np.ones(2, np.float32)).requires_grad_()                 # float32 beside float64
    opt = tapegrad.optim.Adam([a, c], lr=0.1)
    _set_grads(tapegrad, [a, c], 0)
    opt.step()
    assert calls == {"single": 5, "multi": 0}


def test_a_deep_copied_optimizer_updates_its_own_parameters():
    params, opt = _run("SGD", CONFIGS[1][1], np.float64, None, steps=2)     # opt has a plan now
    params2, opt2 = copy.deepcopy((params, opt))
    before = [p.detach().numpy().copy() for p in params]
    for lib_params, o in ((params2, opt2),):
        _set_grads(tapegrad, lib_params, 5)
        o.step()
    _same(params, [tapegrad.tensor(b) for b in before])                     # the originals untouched
    ref, opt3 = _run("SGD", CONFIGS[1][1], np.float64, False, steps=2)
    _set_grads(tapegrad, ref, 5)
    opt3.step()
    _same(params2, ref)


def test_composed_default_equals_the_numpy_kernels():
    # the default CUDA inherits: sgd_update_/adam_update_ per parameter
    rng = np.random.default_rng(1)
    arrays = lambda dt: [rng.standard_normal(s).astype(dt) for s in SHAPES]
    for dt in (np.float32, np.float64):
        p, g, b = arrays(dt), arrays(dt), arrays(dt)
        p2, g2, b2 = (copy.deepcopy(x) for x in (p, g, b))
        kw = dict(momentum=0.9, dampening=0.2, weight_decay=0.1, nesterov=False, maximize=True)
        CPU_BACKEND.sgd_update_multi_(p, g, b, 0.1, **kw)
        ArrayBackend.sgd_update_multi_(CPU_BACKEND, p2, g2, b2, 0.1, **kw)
        for x, y in zip(p + b, p2 + b2):
            np.testing.assert_array_equal(x, y)
        m, v = arrays(dt), [np.abs(a) for a in arrays(dt)]
        m2, v2 = copy.deepcopy(m), copy.deepcopy(v)
        kw = dict(beta1=0.8, beta2=0.9, eps=1e-6, weight_decay=0.2, decoupled=True)
        CPU_BACKEND.adam_update_multi_(p, g, m, v, 4, 0.01, **kw)
        ArrayBackend.adam_update_multi_(CPU_BACKEND, p2, g2, m2, v2, 4, 0.01, **kw)
        for x, y in zip(p + m + v, p2 + m2 + v2):
            np.testing.assert_array_equal(x, y)
