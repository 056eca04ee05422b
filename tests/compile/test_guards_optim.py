"""Note [optimizer reads]: exactly the optimizer numbers a traced call read are guarded.

Numbers the traced code reads from ``param_groups``, ``state`` or ``defaults`` (through a helper,
``getattr``, an alias or a method of another object) are baked into the trace and must retrace when
they change; numbers only the replayed ``Optimizer.step`` reads (a scheduler's ``lr``) must not.
Each program runs eagerly and compiled (unfused, so bit-identical) and is compared call by call.
"""
import numpy as np
import pytest

import tapegrad
import tapegrad.nn.functional as F

_UNFUSED = {"fusion": False}


def _eq(a, b):
    np.testing.assert_array_equal(np.asarray(a.detach().numpy()), np.asarray(b.detach().numpy()))


def _lr_by_getattr(opt):
    return getattr(opt, "param_groups")[0]["lr"]       # no ``param_groups`` name in any code


class _Reader:
    """A plain object whose method reads the optimizer (the guards do not walk methods' code)."""

    def __init__(self, opt):
        self.opt = opt

    def lr(self):
        return self.opt.param_groups[0]["lr"]


def _readers(opt):
    alias = opt.param_groups                            # a closure over the list, not the optimizer
    reader = _Reader(opt)
    return {
        "getattr": (lambda: _lr_by_getattr(opt), lambda v: opt.param_groups[0].__setitem__("lr", v)),
        "alias": (lambda: alias[0]["lr"], lambda v: opt.param_groups[0].__setitem__("lr", v)),
        "method": (lambda: reader.lr(), lambda v: opt.param_groups[0].__setitem__("lr", v)),
        "defaults": (lambda: getattr(opt, "defaults")["lr"], lambda v: opt.defaults.__setitem__("lr", v)),
        "keys": (lambda: sum(v for k, v in alias[0].items() if k == "lr"),
                 lambda v: opt.param_groups[0].__setitem__("lr", v)),
    }


@pytest.mark.parametrize("how", ["getattr", "alias", "method", "defaults", "keys"])
def test_lr_read_by_the_traced_code_is_guarded_by_value(how):
    w = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    opt = tapegrad.optim.SGD([w], lr=0.5)
    read, set_lr = _readers(opt)[how]

    def f(x):
        return x * read()
    c = tapegrad.compile(f, options=_UNFUSED)
    x = tapegrad.tensor([1.0, 3.0])
    for lr in (0.5, 0.5, 0.25, 0.25, 2.0, 0.5):
        set_lr(lr)
        _eq(c(x), f(x))
    s = c.stats()
    assert s["traces"] == 3 and s["replays"] == 3, s       # one trace per lr value, replays while it holds


def test_lr_read_inside_a_training_step_never_replays_a_stale_number():
    def run(compiled):
        tapegrad.manual_seed(0)
        m = tapegrad.nn.Linear(3, 2)
        opt = tapegrad.optim.SGD(m.parameters(), lr=0.1)
        groups = opt.param_groups

        def step(X, y):
            opt.zero_grad()
            loss = F.cross_entropy(m(X), y)
            loss.backward()
            with tapegrad.no_grad():                    # a hand-written update with the group's lr
                for p in groups[0]["params"]:
                    p.sub_(groups[0]["lr"] * p.grad)
            return loss.detach()
        f = tapegrad.compile(step, options=_UNFUSED) if compiled else step
        X, y = tapegrad.ones(4, 3), tapegrad.tensor([0, 1, 0, 1])
        out = []
        for i in range(6):
            groups[0]["lr"] = 0.1 if i < 3 else 0.01
            out.append(f(X, y))
        return out, m, f
    (l1, m1, _), (l2, m2, f) = run(False), run(True)
    for a, b in zip(l1, l2):
        _eq(a, b)
    _eq(m1.weight, m2.weight)
    _eq(m1.bias, m2.bias)
    assert f.stats()["replays"] >= 2, f.stats()


def test_scheduler_changing_lr_every_call_keeps_replaying():
    # the step reads the group's ``params`` (gradient clipping), never its numbers: a scheduler changing lr
    # between calls must not fail a guard, and the replayed opt.step() reads the new lr live
    def run(compiled):
        tapegrad.manual_seed(0)
        m = tapegrad.nn.Sequential(tapegrad.nn.Linear(4, 6), tapegrad.nn.Tanh(), tapegrad.nn.Linear(6, 3))
        opt = tapegrad.optim.SGD(m.parameters(), lr=0.2, momentum=0.9)
        sched = tapegrad.optim.lr_scheduler.ExponentialLR(opt, gamma=0.7)
        g = np.random.default_rng(0)
        X = tapegrad.tensor(g.standard_normal((8, 4)).astype(np.float32))
        y = tapegrad.tensor(g.integers(0, 3, 8))

        def step(X, y):
            opt.zero_grad()
            loss = F.cross_entropy(m(X), y)
            loss.backward()
            tapegrad.nn.utils.clip_grad_norm_(opt.param_groups[0]["params"], 1.0)
            opt.step()
            return loss.detach()
        f = tapegrad.compile(step, options=_UNFUSED) if compiled else step
        out, stats = [], None
        for i in range(10):
            out.append(f(X, y))
            sched.step()
            if compiled and i == 2:
                stats = f.stats()
        return out, m, opt, f, stats
    (l1, m1, o1, _, _), (l2, m2, o2, f, warm) = run(False), run(True)
    for a, b in zip(l1, l2):
        _eq(a, b)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        _eq(p1, p2)
    assert o1.param_groups[0]["lr"] == o2.param_groups[0]["lr"] == pytest.approx(0.2 * 0.7 ** 10)
    s = f.stats()
    assert s["traces"] == warm["traces"] and s["guard_failures"] == warm["guard_failures"], (warm, s)
    assert s["replays"] == warm["replays"] + 7, s
    assert "'lr'" not in f._fast[0][0].source


def _adam_step_count(opt, p):
    st = getattr(opt, "state")                          # no ``state`` name in any code
    return st[p]["step"] if p in st else 0


@pytest.mark.parametrize("where", ["before", "after"])
def test_adam_step_counter_read_by_the_traced_code_is_guarded(where):
    def run(compiled):
        w = tapegrad.tensor([1.0, -2.0, 0.5], requires_grad=True)
        opt = tapegrad.optim.Adam([w], lr=0.1)

        def step(x):
            opt.zero_grad()
            (w * w * x).sum().backward()
            if where == "after":
                opt.step()
            bc = 1 - 0.9 ** (_adam_step_count(opt, w) + 1)
            if where == "before":
                opt.step()
            return (w * bc).detach()                    # the counter baked into the trace's math
        f = tapegrad.compile(step, options=_UNFUSED) if compiled else step
        x = tapegrad.tensor([1.0, 2.0, 3.0])
        return [f(x) for _ in range(6)], w, f
    (r1, w1, _), (r2, w2, f) = run(False), run(True)
    for a, b in zip(r1, r2):
        _eq(a, b)
    _eq(w1, w2)
    s = f.stats()
    assert s["replays"] == 0 and s["traces"] == 6, s     # the counter changes on every call: never stale


def test_adam_whose_counter_only_the_step_reads_keeps_replaying():
    w = tapegrad.tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = tapegrad.optim.Adam([w], lr=0.1)

    def step(x):
        opt.zero_grad()
        (w * w * x).sum().backward()
        for p in getattr(opt, "param_groups")[0]["params"]:   # reads params and the state dict's tensors only
            if p in opt.state:
                _ = opt.state[p]["exp_avg"]
        opt.step()
    f = tapegrad.compile(step, options=_UNFUSED)
    x = tapegrad.tensor([1.0, 2.0, 3.0])
    for _ in range(8):
        f(x)
    assert f.stats()["replays"] >= 5, f.stats()
    assert opt.state[w]["step"] == 8


def test_the_original_dicts_are_back_after_a_traced_call():
    w = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    opt = tapegrad.optim.Adam([w], lr=0.5)
    sched = tapegrad.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    opt.zero_grad()
    (w * w).sum().backward()
    opt.step()
    group, state, defaults = opt.param_groups[0], opt.state[w], opt.defaults
    seen = []

    def step(x, fail=False):
        seen.append((opt.param_groups[0], opt.state[w]))
        opt.zero_grad()
        (w * x).sum().backward()
        opt.step()
        sched.step()                                    # writes lr during the trace
        opt.param_groups[0]["mine"] = 1.0
        if fail:
            raise ValueError("boom")
        return x * 2
    c = tapegrad.compile(step)
    c(tapegrad.ones(2))
    assert type(seen[0][0]) is not dict and type(seen[0][1]) is not dict   # the traced code saw stand-ins
    for i in range(2):
        assert opt.param_groups[0] is group and type(group) is dict
        assert opt.state[w] is state and type(state) is dict
        assert opt.defaults is defaults and type(defaults) is dict
        assert group["lr"] == 0.25 and group["mine"] == 1.0     # the writes landed in the originals
        assert state["step"] == 2 + i
        with pytest.raises(ValueError, match="boom"):
            c(tapegrad.ones(2), fail=True)                   # a traced call that raises
        group["lr"] = 0.25
    assert sched.optimizer.param_groups[0] is group
