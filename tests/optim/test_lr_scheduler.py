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
