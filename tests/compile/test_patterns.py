"""The four patterns of tapegrad.compile, each compared with the eager run step by step, to the bit."""
import copy

import numpy as np

import tapegrad
import tapegrad.nn.functional as F


def _model(seed=0):
    tapegrad.manual_seed(seed)
    return tapegrad.nn.Sequential(tapegrad.nn.Linear(6, 5), tapegrad.nn.Tanh(), tapegrad.nn.Linear(5, 3))


def _data(n=4, seed=1):
    g = np.random.default_rng(seed)
    return [(tapegrad.tensor(g.standard_normal((8, 6)).astype(np.float32)),
             tapegrad.tensor(g.integers(0, 3, 8))) for _ in range(n)]


def _same(a, b):
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def _same_params(m1, m2):
    for (n1, p1), (n2, p2) in zip(m1.named_parameters(), m2.named_parameters()):
        assert n1 == n2
        _same(p1, p2)
        if p1.grad is None:
            assert p2.grad is None
        else:
            _same(p1.grad, p2.grad)


def test_whole_training_step_with_optimizer():
    data = _data(5)
    runs = []
    for compiled in (False, True):
        model = _model()
        opt = tapegrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(X, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(X), y)
            loss.backward()
            opt.step()
            return loss.detach()
        fn = tapegrad.compile(step) if compiled else step
        runs.append((model, opt, [fn(X, y) for X, y in data], fn))
    (m1, o1, l1, _), (m2, o2, l2, fn) = runs
    for a, b in zip(l1, l2):
        _same(a, b)
    _same_params(m1, m2)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        _same(o1.state[p1]["momentum_buffer"], o2.state[p2]["momentum_buffer"])
    s = fn.stats()
    assert s["replays"] >= 2 and s["fallbacks"] == [], s


def test_compiled_model_in_an_eager_loop():
    # The forward is compiled; its result requires grad and the backward runs outside the call:
    # the replayed result's node runs the backward captured at trace time (Note [compiled backward]).
    data = _data(3)
    m1 = _model()
    m2 = copy.deepcopy(m1)
    cm = tapegrad.compile(m2)
    o1 = tapegrad.optim.SGD(m1.parameters(), lr=0.1)
    o2 = tapegrad.optim.SGD(cm.parameters(), lr=0.1)
    for X, y in data:
        for m, o in ((m1, o1), (cm, o2)):
            o.zero_grad()
            loss = F.cross_entropy(m(X), y)
            loss.backward()
            o.step()
        _same_params(m1, m2)
    s = cm.stats()
    assert s["replays"] >= 1 and s["fallbacks"] == [], s
    assert cm.state_dict().keys() == m2.state_dict().keys()
    cm.eval()
    assert not m2.training


def test_closure_over_leaves_accumulates_grad_across_calls():
    g = np.random.default_rng(3)
    w0 = g.standard_normal(4).astype(np.float32)
    xs = [tapegrad.tensor(g.standard_normal(4).astype(np.float32)) for _ in range(4)]
    runs = []
    for compiled in (False, True):
        w = tapegrad.tensor(w0, requires_grad=True)
        b = tapegrad.tensor(0.5, requires_grad=True)

        def f(x, v):
            loss = ((w * x).tanh() * v + b).sum()
            loss.backward()
            return loss.detach()
        fn = tapegrad.compile(f, options={"fusion": False}) if compiled else f     # bit for bit: unfused
        grads = []
        for x in xs:
            v = tapegrad.tensor(x.numpy() * 2, requires_grad=True)
            out = fn(x, v)
            grads.append((out, w.grad.clone(), b.grad.clone(), v.grad))
        runs.append(grads)
    for (o1, w1, b1, v1), (o2, w2, b2, v2) in zip(*runs):
        _same(o1, o2)
        _same(w1, w2)
        _same(b1, b2)
        _same(v1, v2)
    assert fn.stats()["replays"] >= 2


def test_no_grad_inference():
    m = _model()
    cm = tapegrad.compile(m)
    X = _data(1)[0][0]
    with tapegrad.no_grad():
        outs = [cm(X * k) for k in (1.0, 2.0, 3.0)]
    for k, o in zip((1.0, 2.0, 3.0), outs):
        with tapegrad.no_grad():
            _same(o, m(X * k))
        assert not o.requires_grad
    assert cm.stats()["replays"] == 2


def test_program_listing_shows_steps():
    w = tapegrad.ones(3, requires_grad=True)

    @tapegrad.compile(options={"fusion": False})        # fused listings: tests/compile/test_fusion.py
    def f(x):
        (w * x).exp().sum().backward()
    f(tapegrad.ones(3))
    text = f.program()
    assert "exp(" in text and "exp_vjp" in text and "accumulate_grad" in text


def test_grad_reset_by_assignment_is_replayed():
    # `x.grad = None` inside the function is a state change outside the ops: the trace records it,
    # so each replay starts the accumulation afresh, as the eager call does.
    x = tapegrad.tensor([0.3, -0.2], requires_grad=True)
    w = tapegrad.tensor([0.5, 0.7], requires_grad=True)

    def run():
        x.grad = None
        w.grad = None
        y = x
        for _ in range(3):
            y = ((y + w) * w).tanh()
        y.sum().backward()
    eager = []
    for _ in range(3):
        run()
        eager.append((x.grad.clone(), w.grad.clone()))
    f = tapegrad.compile(run, options={"fusion": False})   # bit-identical unfused; fused: tests/compile/test_fusion.py
    for gx, gw in eager:
        f()
        _same(x.grad, gx)
        _same(w.grad, gw)
    assert f.stats()["replays"] == 2


def test_trainer_object_captured_through_its_attributes():
    class Trainer:
        def __init__(self):
            self.model = _model()
            self.opt = tapegrad.optim.SGD(self.model.parameters(), lr=0.05)

        def step(self, X, y):
            self.opt.zero_grad()
            loss = F.cross_entropy(self.model(X), y)
            loss.backward()
            self.opt.step()
            return loss.detach()
    a, b = Trainer(), Trainer()
    f = tapegrad.compile(b.step)
    for X, y in _data(4):
        _same(a.step(X, y), f(X, y))
    _same_params(a.model, b.model)
    assert f.stats()["replays"] >= 2


def test_manual_sgd_with_in_place_writes_bumps_versions():
    g = np.random.default_rng(5)
    w0 = g.standard_normal(3).astype(np.float32)
    xs = [tapegrad.tensor(g.standard_normal(3).astype(np.float32)) for _ in range(4)]
    runs = []
    for compiled in (False, True):
        w = tapegrad.tensor(w0, requires_grad=True)

        def step(x):
            w.grad = None
            loss = ((w * x).sin()).sum()
            loss.backward()
            with tapegrad.no_grad():
                w.sub_(0.1 * w.grad)
            return loss.detach()
        f = tapegrad.compile(step) if compiled else step
        runs.append(([f(x) for x in xs], w, w._version[0]))
    (l1, w1, v1), (l2, w2, v2) = runs
    for a, b in zip(l1, l2):
        _same(a, b)
    _same(w1, w2)
    assert v1 == v2 == 4
    assert f.stats()["replays"] >= 2


def test_compiled_forward_backward_through_a_non_leaf_input_and_its_errors():
    import pytest
    m1 = _model()
    m2 = copy.deepcopy(m1)
    cm = tapegrad.compile(m2)
    g = np.random.default_rng(4)
    for i in range(3):
        x0 = g.standard_normal((8, 6)).astype(np.float32)
        a1 = tapegrad.tensor(x0, requires_grad=True)
        a2 = tapegrad.tensor(x0, requires_grad=True)
        out1 = m1(a1 * 2).pow(2).sum()
        out2 = cm(a2 * 2).pow(2).sum()
        _same(out1, out2)
        out1.backward()
        out2.backward()
        _same(a1.grad, a2.grad)
        _same_params(m1, m2)
    assert cm.stats()["replays"] >= 1 and cm.stats()["fallbacks"] == []

    def call():
        return cm(tapegrad.ones(8, 6, requires_grad=True) * 2).sum()
    n = cm.stats()["replays"]
    y = call()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    y = call()
    with pytest.raises(RuntimeError, match="create_graph"):
        tapegrad.autograd.grad(y, list(cm.parameters()), create_graph=True)
    y = call()
    with tapegrad.no_grad():
        m2[0].weight.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace"):
        y.backward()
    assert cm.stats()["replays"] == n + 3
