"""The schedulers beyond StepLR/ExponentialLR/CosineAnnealingLR/LambdaLR: lr (and momentum) sequences equal
torch's over 60 steps, on two parameter groups with different lrs; state_dict round trips mid-schedule;
state_dict keys as torch's; ReduceLROnPlateau on a metric sequence; fractional epochs of warm restarts."""
import math

import numpy as np
import pytest

import tapegrad

STEPS = 60


def _opt(lib, kind="SGD"):
    ps = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    groups = [{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.3}]
    if kind == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    return getattr(lib.optim, kind)(groups, lr=0.1)


def _mul(epoch):
    return 0.95 if epoch % 3 else 0.8


# id -> (optimizer kind, scheduler factory given (lr_scheduler module, optimizer))
CASES = {
    "MultiStepLR": ("SGD", lambda L, o: L.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.5)),
    "MultiplicativeLR": ("SGD", lambda L, o: L.MultiplicativeLR(o, _mul)),
    "MultiplicativeLR-per-group": ("SGD", lambda L, o: L.MultiplicativeLR(o, [_mul, lambda e: 0.9])),
    "ConstantLR": ("SGD", lambda L, o: L.ConstantLR(o, factor=0.25, total_iters=7)),
    "LinearLR": ("SGD", lambda L, o: L.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=17)),
    "LinearLR-decay": ("SGD", lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=40)),
    "PolynomialLR": ("SGD", lambda L, o: L.PolynomialLR(o, total_iters=45, power=2.5)),
    "PolynomialLR-linear": ("SGD", lambda L, o: L.PolynomialLR(o, total_iters=20)),
    "WarmRestarts": ("SGD", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=7, eta_min=0.01)),
    "WarmRestarts-Tmult": ("SGD", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001)),
    "OneCycleLR-cos": ("SGD", lambda L, o: L.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=STEPS)),
    "OneCycleLR-linear": ("SGD", lambda L, o: L.OneCycleLR(o, max_lr=1.0, epochs=6, steps_per_epoch=10,
                                                           anneal_strategy="linear", pct_start=0.25)),
    "OneCycleLR-three-phase": ("SGD", lambda L, o: L.OneCycleLR(o, max_lr=0.5, total_steps=STEPS,
                                                                three_phase=True, div_factor=10.0,
                                                                final_div_factor=100.0)),
    "OneCycleLR-adam-betas": ("Adam", lambda L, o: L.OneCycleLR(o, max_lr=0.01, total_steps=STEPS,
                                                                base_momentum=0.8, max_momentum=0.9)),
    "OneCycleLR-no-momentum": ("Adagrad", lambda L, o: L.OneCycleLR(o, max_lr=0.2, total_steps=STEPS,
                                                                    cycle_momentum=False)),
    "CyclicLR-triangular": ("SGD", lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=5,
                                                           step_size_down=8)),
    "CyclicLR-triangular2": ("SGD", lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4,
                                                            mode="triangular2")),
    "CyclicLR-exp_range": ("SGD", lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=6,
                                                          mode="exp_range", gamma=0.97)),
    "CyclicLR-adam-betas": ("Adam", lambda L, o: L.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=5,
                                                            base_momentum=0.85, max_momentum=0.95)),
    "CyclicLR-scale_fn": ("RMSprop", lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                                             scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations",
                                                             cycle_momentum=False)),
    "SequentialLR": ("SGD", lambda L, o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.1, total_iters=5),
                                                            L.ExponentialLR(o, gamma=0.9),
                                                            L.CosineAnnealingLR(o, T_max=10)], milestones=[5, 20])),
    "SequentialLR-constant-step": ("SGD", lambda L, o: L.SequentialLR(
        o, [L.ConstantLR(o, factor=0.5, total_iters=3), L.StepLR(o, step_size=4, gamma=0.5)], milestones=[6])),
    "ChainedScheduler": ("SGD", lambda L, o: L.ChainedScheduler([L.ConstantLR(o, factor=0.5, total_iters=4),
                                                                 L.ExponentialLR(o, gamma=0.95),
                                                                 L.MultiStepLR(o, milestones=[10, 25])])),
    "ChainedScheduler-nested-seq": ("SGD", lambda L, o: L.ChainedScheduler([
        L.SequentialLR(o, [L.LinearLR(o, start_factor=0.2, total_iters=4), L.ExponentialLR(o, gamma=0.97)],
                       milestones=[4]),
        L.MultiStepLR(o, milestones=[15, 35], gamma=0.3)])),
}


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def _sequence(lib, case, steps=STEPS, state=None):
    """(lrs per step, momenta per step, the scheduler) for ``case``; ``state`` is loaded before stepping."""
    kind, make = CASES[case]
    opt = _opt(lib, kind)
    sched = make(lib.optim.lr_scheduler, opt)
    if state is not None:
        opt.load_state_dict(state[0])
        sched.load_state_dict(state[1])
    lrs, moms = [sched.get_last_lr()], [_momenta(opt)]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
        moms.append(_momenta(opt))
    return lrs, moms, sched, opt


@pytest.mark.parametrize("case", list(CASES))
def test_lr_and_momentum_sequences_equal_torchs(case):
    torch = pytest.importorskip("torch")
    ours, omoms, sched, opt = _sequence(tapegrad, case)
    theirs, tmoms, _, topt = _sequence(torch, case)
    np.testing.assert_allclose(np.array(ours, dtype=float), np.array(theirs, dtype=float), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(np.array(omoms, dtype=float), np.array(tmoms, dtype=float), rtol=1e-13)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([g["lr"] for g in topt.param_groups], rel=1e-13)
    assert len({tuple(lr) for lr in ours}) >= 2                     # the schedule really moved


@pytest.mark.parametrize("case", list(CASES))
def test_state_dict_keys_equal_torchs(case):
    torch = pytest.importorskip("torch")
    ours = _sequence(tapegrad, case, steps=3)[2].state_dict()
    theirs = _sequence(torch, case, steps=3)[2].state_dict()
    # torch's own bookkeeping of its get_lr() warning is not part of the schedule
    skip = {"_get_lr_called_within_step"}
    assert sorted(set(ours) - skip) == sorted(set(theirs) - skip)
    for k in ("last_epoch", "_step_count", "base_lrs", "_last_lr"):
        if k in theirs:
            assert ours[k] == pytest.approx(theirs[k], rel=1e-13), k


@pytest.mark.parametrize("case", list(CASES))
def test_state_dict_round_trip_mid_schedule_continues_the_sequence(case, tmp_path):
    whole, wmoms, _, _ = _sequence(tapegrad, case)
    half = STEPS // 2 - 3
    _, _, sched, opt = _sequence(tapegrad, case, steps=half)
    # functions (lr_lambda, scale_fn) are not saved, as in torch: the fresh scheduler brings its own
    tapegrad.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "s.tg")
    loaded = tapegrad.load(tmp_path / "s.tg")
    rest, rmoms, _, _ = _sequence(tapegrad, case, steps=STEPS - half, state=(loaded["opt"], loaded["sched"]))
    np.testing.assert_array_equal(np.array(rest, dtype=float), np.array(whole[half:], dtype=float))
    np.testing.assert_array_equal(np.array(rmoms, dtype=float), np.array(wmoms[half:], dtype=float))


# ------------------------------------------------------------------ hand-computed values
def test_onecycle_by_hand():
    opt = _opt(tapegrad)
    s = tapegrad.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=11, pct_start=0.2)
    assert s.get_last_lr()[0] == pytest.approx(1.0 / 25)
    assert opt.param_groups[0]["momentum"] == 0.95
    seen = []
    for _ in range(10):
        opt.step()
        s.step()
        seen.append(s.get_last_lr()[0])
    # phase 1 ends at step 0.2 * 11 - 1 = 1.2: lr at step 1 is cos-annealed 1/1.2 of the way to max_lr
    pct = 1 / 1.2
    assert seen[0] == pytest.approx(1.0 + (0.04 - 1.0) / 2 * (math.cos(math.pi * pct) + 1), rel=1e-14)
    assert seen[-1] == pytest.approx(0.04 / 1e4, rel=1e-12)               # step 10 = total_steps - 1: min_lr
    s.step()                                                              # step 11 extrapolates, as torch's
    with pytest.raises(ValueError, match="Tried to step 12 times"):
        s.step()
    assert s.last_epoch == 11 and s._step_count == 12                    # nothing half-modified


def test_cyclic_triangular2_halves_the_amplitude_each_cycle():
    opt = _opt(tapegrad)
    s = tapegrad.optim.lr_scheduler.CyclicLR(opt, base_lr=0.0, max_lr=1.0, step_size_up=2, mode="triangular2",
                                             cycle_momentum=False)
    peaks = []
    for i in range(12):
        opt.step()
        s.step()
        if (i + 1) % 4 == 2:
            peaks.append(s.get_last_lr()[0])
    assert peaks == [1.0, 0.5, 0.25]


def test_warm_restarts_fractional_epochs_equal_torchs_and_the_formula():
    torch = pytest.importorskip("torch")
    seqs = []
    for lib in (tapegrad, torch):
        opt = _opt(lib)
        s = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.01)
        out = []
        for epoch in range(8):
            for i in range(4):
                opt.step()
                s.step(epoch + i / 4)
                out.append((s.get_last_lr()[0], s.T_cur, s.T_i, s.last_epoch))
        seqs.append(out)
    np.testing.assert_allclose(np.array(seqs[0]), np.array(seqs[1]), rtol=1e-13)
    # epoch 3.5: the second cycle (T_i = 4) started at epoch 2, so T_cur = 1.5
    lr, t_cur, t_i, last = seqs[0][3 * 4 + 2]
    assert (t_cur, t_i, last) == (1.5, 4, 3)
    assert lr == pytest.approx(0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * 1.5 / 4)) / 2, rel=1e-14)


@pytest.mark.parametrize("kw", [dict(), dict(mode="max", threshold_mode="abs", threshold=0.05),
                                dict(patience=2, cooldown=3, factor=0.5, min_lr=[0.02, 0.05]),
                                dict(threshold_mode="abs", threshold=0.0, eps=0.02, factor=0.9, patience=0),
                                dict(mode="max", patience=1, cooldown=1, factor=0.3)],
                         ids=["default", "max-abs", "cooldown-min_lr", "eps", "max-rel"])
def test_reduce_lr_on_plateau_equals_torchs(kw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    metrics = np.concatenate([np.linspace(1, 0.5, 10), 0.5 + 0.02 * rng.standard_normal(50)])
    if kw.get("mode") == "max":
        metrics = -metrics
    out = []
    for lib in (tapegrad, torch):
        opt = _opt(lib)
        s = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        seq = []
        for m in metrics:
            opt.step()
            s.step(lib.tensor(float(m)) if len(seq) % 2 else float(m))
            seq.append(s.get_last_lr() + [s.num_bad_epochs, s.cooldown_counter, s.best])
        out.append(seq)
        sd = s.state_dict()
    np.testing.assert_allclose(np.array(out[0], dtype=float), np.array(out[1], dtype=float), rtol=1e-13)
    assert len({tuple(r[:2]) for r in out[0]}) > 1                       # the lr was reduced
    if kw.get("eps"):
        assert out[0][-1][0] == 0.1 and out[0][-1][1] < 0.3              # a change below eps is skipped
    assert sorted(sd) == sorted(_plateau(tapegrad, kw).state_dict())


def _plateau(lib, kw):
    return lib.optim.lr_scheduler.ReduceLROnPlateau(_opt(lib), **kw)


def test_reduce_lr_on_plateau_round_trip_keeps_best_and_counters():
    a = _plateau(tapegrad, dict(patience=1))
    for m in (1.0, 0.5, 0.6):
        a.step(m)
    b = _plateau(tapegrad, {})
    b.load_state_dict(a.state_dict())
    assert (b.best, b.num_bad_epochs, b.patience, b.last_epoch) == (0.5, 1, 1, 3)
    b.step(0.7)
    assert b.get_last_lr() == pytest.approx([0.01, 0.03])


@pytest.mark.parametrize("make,err,msg", [
    (lambda L, o: L.OneCycleLR(o, max_lr=1.0), ValueError, "total_steps OR"),
    (lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="quad"), ValueError, "anneal"),
    (lambda L, o: L.OneCycleLR(o, max_lr=[1.0], total_steps=10), ValueError, "same length"),
    (lambda L, o: L.CyclicLR(o, 0.1, 1.0, mode="sine"), ValueError, "mode"),
    (lambda L, o: L.ConstantLR(o, factor=2.0), ValueError, "between 0 and 1"),
    (lambda L, o: L.LinearLR(o, start_factor=0.0), ValueError, "greater than 0"),
    (lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "T_0"),
    (lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError, "T_mult"),
    (lambda L, o: L.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor"),
    (lambda L, o: L.ReduceLROnPlateau(o, mode="up"), ValueError, "mode"),
    (lambda L, o: L.SequentialLR(o, [L.ExponentialLR(o, 0.9)], milestones=[3]), ValueError, "milestone"),
    (lambda L, o: L.ChainedScheduler([L.ReduceLROnPlateau(o)]), ValueError, "ReduceLROnPlateau"),
])
def test_errors_match_torchs(make, err, msg):
    torch = pytest.importorskip("torch")
    with pytest.raises(err, match=msg):
        make(tapegrad.optim.lr_scheduler, _opt(tapegrad))
    with pytest.raises(err):
        make(torch.optim.lr_scheduler, _opt(torch))


def test_cycle_momentum_needs_momentum_or_betas():
    opt = _opt(tapegrad, "Adagrad")
    with pytest.raises(ValueError, match="momentum or beta1"):
        tapegrad.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1)
