"""Note [fast guards]: steady replays check generated guards only, and each guarded change still retraces."""
import numpy as np
import pytest

import tapegrad
import tapegrad.nn.functional as F
from tapegrad.compile import guards as _guards


@pytest.fixture
def key_calls(monkeypatch):
    calls = [0]
    real = _guards.key

    def counting(*a):
        calls[0] += 1
        return real(*a)
    monkeypatch.setattr(_guards, "key", counting)
    return calls


def _mlp_step():
    tapegrad.manual_seed(0)
    model = tapegrad.nn.Sequential(tapegrad.nn.Linear(6, 5), tapegrad.nn.ReLU(), tapegrad.nn.Linear(5, 3))
    opt = tapegrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(X, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        return loss.detach()
    return model, opt, step


def _data():
    g = np.random.default_rng(0)
    return tapegrad.tensor(g.standard_normal((4, 6)).astype(np.float32)), tapegrad.tensor(g.integers(0, 3, 4))


def test_steady_replays_skip_the_key(key_calls):
    _, _, step = _mlp_step()
    c = tapegrad.compile(step)
    X, y = _data()
    for _ in range(3):
        c(X, y)
    before = key_calls[0]
    for _ in range(5):
        c(X, y)
    assert key_calls[0] == before
    assert c.stats()["replays"] >= 6


def _check_retraces(c, call, change, expect):
    call()
    call()
    n = c.stats()["traces"]
    change()
    r = call()
    assert c.stats()["traces"] == n + 1, c.stats()
    np.testing.assert_allclose(r.numpy(), expect())


def test_closure_and_global_rebinding_retrace():
    scale = tapegrad.tensor([2.0])

    def f(x):
        return x * scale * GLOBAL_FACTOR
    c = tapegrad.compile(f)
    x = tapegrad.ones(2)
    global GLOBAL_FACTOR
    GLOBAL_FACTOR = 3.0
    _check_retraces(c, lambda: c(x), lambda: globals().update(GLOBAL_FACTOR=5.0), lambda: [10.0, 10.0])

    def g(x):
        return x * scale
    cg = tapegrad.compile(g)

    def rebind():
        nonlocal scale
        scale = tapegrad.tensor([7.0])
    _check_retraces(cg, lambda: cg(x), rebind, lambda: [7.0, 7.0])


GLOBAL_FACTOR = 3.0


def test_module_changes_retrace():
    tapegrad.manual_seed(0)
    m = tapegrad.nn.Sequential(tapegrad.nn.Linear(3, 3), tapegrad.nn.Tanh())
    cm = tapegrad.compile(m)
    x = tapegrad.ones(2, 3)
    with tapegrad.no_grad():
        # a parameter replaced, a submodule added, a number attribute changed, a hook added
        _check_retraces(cm, lambda: cm(x), lambda: setattr(m[0], "bias", tapegrad.nn.Parameter(tapegrad.ones(3))),
                        lambda: m(x).numpy())
        _check_retraces(cm, lambda: cm(x), lambda: m.append(tapegrad.nn.Sigmoid()), lambda: m(x).numpy())
        _check_retraces(cm, lambda: cm(x), lambda: m.train(False), lambda: m(x).numpy())
        m[0].weight.requires_grad_(False)
        calls = []
        h = m[1].register_forward_hook(lambda mod, i, o: calls.append(1))
        r = cm(x)
        assert calls, "a hook added after tracing must run (the call falls back to eager)"
        np.testing.assert_allclose(r.numpy(), m(x).numpy())
        h.remove()


def test_optimizer_state_and_grad_changes_retrace():
    model, opt, step = _mlp_step()
    c = tapegrad.compile(step)
    X, y = _data()
    c(X, y)
    c(X, y)
    c(X, y)
    n = c.stats()["traces"]
    opt.state.clear()                      # momentum buffers dropped: the first-step rule again
    c(X, y)
    assert c.stats()["traces"] == n + 1
    for p in model.parameters():
        p.grad = None
    c(X, y)
    assert c.stats()["traces"] == n + 2


def test_argument_changes_retrace():
    c = tapegrad.compile(lambda x, k=1.0: x * k)
    x = tapegrad.ones(2)
    c(x)
    c(x)
    np.testing.assert_allclose(c(x, k=3.0).numpy(), [3.0, 3.0])
    np.testing.assert_allclose(c(tapegrad.ones(3)).numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(c(tapegrad.ones(2, dtype=tapegrad.float64)).numpy(), [1.0, 1.0])
    a = tapegrad.ones(2)
    c2 = tapegrad.compile(lambda x, y: x.add_(y))
    c2(a, tapegrad.ones(2))
    c2(a, tapegrad.ones(2))
    np.testing.assert_allclose(c2(a, a).numpy(), [6.0, 6.0])      # aliasing arguments: another trace
    assert c.stats()["traces"] == 4
    with tapegrad.no_grad():
        c(x)
    assert c.stats()["traces"] == 5


def test_compiled_module_check_skips_the_library_globals():
    # Note [fast guards]: Module.__call__'s globals (tapegrad's own functions and classes) are not user state;
    # checking them made the compiled-model pattern's steady-state check cost ~20 µs per call.
    model, opt, _ = _mlp_step()
    X, y = _data()
    cmodel = tapegrad.compile(model)
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(cmodel(X), y).backward()
        opt.step()
    fast = cmodel._compiled._fast
    assert len(fast) == 1 and cmodel.stats()["replays"] >= 1
    src = fast[0][0].source
    assert "_call_with_hooks" not in src and "'forward'" not in src, src
    gets = [ln for ln in src.splitlines() if ".get(" in ln]
    assert len(gets) == len(set(gets)), "a global checked twice"



def test_an_empty_dict_attribute_that_gains_a_number_retraces():
    # Note [numbers in containers]: the generated check compared a dict attribute's numbers only when it held
    # some at trace time, so ``cfg["scale"]`` set later replayed the trace that read the default 1.0
    class Scaled(tapegrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.cfg = {}
            self.lin = tapegrad.nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(x) * self.cfg.get("scale", 1.0)
    tapegrad.manual_seed(0)
    m = Scaled()
    cm = tapegrad.compile(m)
    x = tapegrad.ones(1, 2)
    with tapegrad.no_grad():
        _check_retraces(cm, lambda: cm(x), lambda: m.cfg.__setitem__("scale", 3.0), lambda: m(x).numpy())
