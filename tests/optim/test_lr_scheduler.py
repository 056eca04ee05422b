"""Learning-rate schedulers against closed-form references (and torch when installed)."""
import math

import pytest

import tapegrad
from tapegrad import nn, optim
from tapegrad.optim import lr_scheduler as S


def _opt(lr=1.0, groups=1):
    return optim.SGD([{"params": [nn.Parameter(tapegrad.ones(1))], "lr": lr * (i + 1)} for i in range(groups)],
                     lr=lr)


def _lrs(sched, n):
    out = [sched.get_last_lr()]
    for _ in range(n):
        sched.optimizer.step()
        sched.step()
        out.append(sched.get_last_lr())
    return out


def test_step_lr():
    assert [l[0] for l in _lrs(S.StepLR(_opt(), step_size=2, gamma=0.5), 5)] == [1, 1, 0.5, 0.5, 0.25, 0.25]


def test_exponential_lr_per_group():
    lrs = _lrs(S.ExponentialLR(_opt(groups=2), gamma=0.9), 3)
    assert lrs[3] == pytest.approx([0.9 ** 3, 2 * 0.9 ** 3])


def test_cosine_annealing():
    lrs = [l[0] for l in _lrs(S.CosineAnnealingLR(_opt(), T_max=4, eta_min=0.1), 4)]
    ref = [0.1 + 0.9 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(5)]
    assert lrs == pytest.approx(ref)
    with pytest.raises(ValueError, match="T_max"):
        S.CosineAnnealingLR(_opt(), T_max=0)


def test_lambda_lr_and_errors():
    opt = _opt(groups=2)
    lrs = _lrs(S.LambdaLR(opt, [lambda e: 0.5 ** e, lambda e: e + 1]), 2)
    assert lrs[2] == pytest.approx([0.25, 6.0])
    with pytest.raises(ValueError, match="expected 2 lr_lambdas"):
        S.LambdaLR(_opt(groups=2), [lambda e: 1.0])
    with pytest.raises(TypeError, match="not an Optimizer"):
        S.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="step_size"):
        S.StepLR(_opt(), step_size=0)


def test_state_dict_resumes():
    # Schedules are chainable (Note [chainable schedules]): resuming restores the optimizer's lrs too.
    s1 = S.StepLR(_opt(), step_size=2, gamma=0.1)
    _lrs(s1, 3)
    sd = s1.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 3
    opt2 = _opt()
    s2 = S.StepLR(opt2, step_size=2, gamma=0.1)
    opt2.load_state_dict(s1.optimizer.state_dict())
    s2.load_state_dict(sd)
    s1.step()
    s2.step()
    assert s1.get_last_lr() == s2.get_last_lr() == [pytest.approx(0.01)]
    assert opt2.param_groups[0]["lr"] == pytest.approx(0.01)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.ones(1))
    topt = torch.optim.SGD([p], lr=1.0)
    tsched = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=5, eta_min=0.01)
    ours = S.CosineAnnealingLR(_opt(), T_max=5, eta_min=0.01)
    for _ in range(5):
        topt.step()
        tsched.step()
        ours.optimizer.step()
        ours.step()
        assert ours.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-9)


# ---------------------------------------------------------------- parity with torch, step by step
def _trace(lib, make, n=25, groups=2, between=None):
    """Group lrs after construction and after each of ``n`` steps of every scheduler ``make`` builds."""
    opt = lib.optim.SGD([{"params": [lib.nn.Parameter(lib.ones(1))], "lr": 0.5 * (i + 1)} for i in range(groups)],
                        lr=1.0)
    scheds = make(lib, opt)
    out = [[g["lr"] for g in opt.param_groups] + [l for s in scheds for l in s.get_last_lr()]]
    for i in range(n):
        opt.step()
        for s in scheds:
            s.step()
        if between is not None:
            between(i, opt)
        out.append([g["lr"] for g in opt.param_groups] + [l for s in scheds for l in s.get_last_lr()])
    return out


def _assert_close(ours, theirs):
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a == pytest.approx(b, rel=1e-12, abs=0), f"after {i} steps"


def _halve_at_7(i, opt):
    if i == 7:
        for g in opt.param_groups:
            g["lr"] *= 0.5


SCHEDULES = {
    "step": lambda L, o: [L.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)],
    "exponential": lambda L, o: [L.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)],
    "cosine-past-T_max": lambda L, o: [L.optim.lr_scheduler.CosineAnnealingLR(o, T_max=6, eta_min=0.01)],
    "lambda-per-group": lambda L, o: [L.optim.lr_scheduler.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: 1 / (e + 1)])],
    "step+exponential": lambda L, o: [L.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.1),
                                      L.optim.lr_scheduler.ExponentialLR(o, gamma=0.95)],
    "exponential+step": lambda L, o: [L.optim.lr_scheduler.ExponentialLR(o, gamma=0.95),
                                      L.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.1)],
    "cosine+step": lambda L, o: [L.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5),
                                 L.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)],
}


@pytest.mark.parametrize("between", [None, _halve_at_7], ids=["plain", "manual-lr-change"])
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_lr_sequence_matches_torch(name, between):
    torch = pytest.importorskip("torch")
    _assert_close(_trace(tapegrad, SCHEDULES[name], between=between), _trace(torch, SCHEDULES[name], between=between))


def test_first_lr_is_the_initial_lr():
    # epoch 0 of every schedule is the optimizer's lr, whatever gamma is
    for make in SCHEDULES.values():
        sched = make(tapegrad, _opt(lr=0.3, groups=2))[0]
        assert sched.get_last_lr() == [0.3, 0.6] and sched.last_epoch == 0
    sched = S.ExponentialLR(_opt(lr=0.3), gamma=0.5)
    assert [g["lr"] for g in sched.optimizer.param_groups] == [0.3]


def test_chained_schedulers_compose():
    opt = _opt()
    step, expo = S.StepLR(opt, step_size=2, gamma=0.1), S.ExponentialLR(opt, gamma=0.5)
    for _ in range(4):
        opt.step()
        step.step()
        expo.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5 ** 4 * 0.1 ** 2, rel=1e-12)


@pytest.mark.parametrize("name", ["step", "exponential", "cosine-past-T_max", "lambda-per-group"])
def test_resume_with_last_epoch_matches_torch(name):
    torch = pytest.importorskip("torch")

    def make(L, o):
        first = SCHEDULES[name](L, o)[0]
        for _ in range(5):
            o.step()
            first.step()
        return SCHEDULES[name](L, o) if name == "lambda-per-group" else [type(first)(
            o, **{k: getattr(first, k) for k in ("step_size", "gamma", "T_max", "eta_min") if hasattr(first, k)},
            last_epoch=5)]

    _assert_close(_trace(tapegrad, make, n=10), _trace(torch, make, n=10))


@pytest.mark.parametrize("name", ["step", "exponential", "cosine-past-T_max"])
def test_step_with_epoch_uses_the_closed_form_like_torch(name):
    torch = pytest.importorskip("torch")

    def run(L):
        o = L.optim.SGD([L.nn.Parameter(L.ones(1))], lr=1.0)
        s = SCHEDULES[name](L, o)[0]
        out = []
        for e in (3, 1, 9, 4):
            with pytest.warns(UserWarning, match="epoch parameter"):
                s.step(e)
            out.append(s.get_last_lr()[0])
        return out

    assert run(tapegrad) == pytest.approx(run(torch), rel=1e-12, abs=0)


def test_failed_step_changes_nothing():
    opt = _opt()
    calls = []

    def lam(e):
        calls.append(e)
        if e == 2:
            raise ArithmeticError("boom")
        return 0.5 ** e

    s = S.LambdaLR(opt, lam)
    opt.step()
    s.step()
    with pytest.raises(ArithmeticError):
        s.step()
    assert s.last_epoch == 1 and s.get_last_lr() == [0.5] and opt.param_groups[0]["lr"] == 0.5


def test_tensor_lr_is_updated_in_place():
    lr = tapegrad.tensor(0.1, dtype=tapegrad.float64)
    opt = optim.SGD([nn.Parameter(tapegrad.ones(1))], lr=lr)
    s = S.ExponentialLR(opt, gamma=0.5)
    opt.step()
    s.step()
    assert opt.param_groups[0]["lr"] is lr and lr.item() == pytest.approx(0.05)
    last = s.get_last_lr()[0]
    assert last is not lr and last.item() == pytest.approx(0.05)
