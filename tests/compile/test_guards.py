"""Guards of tapegrad.compile: each failed guard retraces (or runs eagerly), never replays wrong."""
import warnings

import numpy as np
import pytest

import tapegrad
import tapegrad.nn.functional as F
from tapegrad.compile.tracer import GraphBreak


def _eq(a, b):
    np.testing.assert_array_equal(np.asarray(a.detach().numpy()), np.asarray(b.detach().numpy()))


def test_shape_change_retraces():
    f = tapegrad.compile(lambda x: (x * 2).sum(0))
    _eq(f(tapegrad.ones(2, 3)), tapegrad.full((3,), 4.0))
    _eq(f(tapegrad.ones(4, 3)), tapegrad.full((3,), 8.0))
    _eq(f(tapegrad.ones(4, 3)), tapegrad.full((3,), 8.0))
    s = f.stats()
    assert (s["traces"], s["guard_failures"], s["replays"]) == (2, 1, 1)


def test_dtype_and_requires_grad_changes_retrace():
    w = tapegrad.ones(3, requires_grad=True)

    def body(x):
        loss = (w * x).sum()
        loss.backward()
        return loss.detach()
    f = tapegrad.compile(body)
    f(tapegrad.ones(3))
    f(tapegrad.ones(3))                                     # .grad now set: another key, then replays
    f(tapegrad.ones(3, dtype=tapegrad.float64))
    assert f.stats()["traces"] == 3
    x = tapegrad.ones(3, requires_grad=True)
    f(x)                                                    # now x needs a gradient too
    _eq(x.grad, w)
    assert f.stats()["traces"] == 4


def test_eval_retraces_and_dropout_stops():
    tapegrad.manual_seed(0)
    m = tapegrad.nn.Sequential(tapegrad.nn.Linear(4, 4), tapegrad.nn.Dropout(0.5))
    cm = tapegrad.compile(m)
    X = tapegrad.ones(3, 4)
    with tapegrad.no_grad():
        cm(X)
        cm.eval()
        a, b = cm(X), cm(X)
    _eq(a, b)
    with tapegrad.no_grad():
        _eq(a, m(X))
    assert cm.stats()["traces"] == 2


def test_dropout_differs_per_replay_and_follows_the_eager_stream():
    def run(compiled):
        tapegrad.manual_seed(0)
        m = tapegrad.nn.Sequential(tapegrad.nn.Linear(8, 8), tapegrad.nn.Dropout(0.5))
        f = tapegrad.compile(m) if compiled else m
        tapegrad.manual_seed(123)
        with tapegrad.no_grad():
            return [f(tapegrad.ones(4, 8)) for _ in range(4)], f
    eager, _ = run(False)
    comp, f = run(True)
    for a, b in zip(eager, comp):
        _eq(a, b)
    assert not np.array_equal(comp[1].numpy(), comp[2].numpy())
    assert f.stats()["replays"] == 3


def test_scheduler_lr_change_takes_effect():
    def run(compiled):
        tapegrad.manual_seed(0)
        m = tapegrad.nn.Linear(3, 2)
        opt = tapegrad.optim.SGD(m.parameters(), lr=0.5)
        sched = tapegrad.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)
        X, y = tapegrad.ones(4, 3), tapegrad.tensor([0, 1, 0, 1])

        def step():
            opt.zero_grad()
            loss = F.cross_entropy(m(X), y)
            loss.backward()
            opt.step()
        f = tapegrad.compile(step) if compiled else step
        for _ in range(4):
            f()
            sched.step()
        return m, f
    m1, _ = run(False)
    m2, f = run(True)
    _eq(m1.weight, m2.weight)
    _eq(m1.bias, m2.bias)
    assert f.stats()["replays"] >= 2       # lr is read live by the replayed optimizer step


def test_python_argument_is_guarded():
    f = tapegrad.compile(lambda x, k: x * k)
    _eq(f(tapegrad.ones(2), 2.0), tapegrad.full((2,), 2.0))
    _eq(f(tapegrad.ones(2), 3.0), tapegrad.full((2,), 3.0))
    assert f.stats()["traces"] == 2


def test_captured_python_number_is_guarded():
    f = tapegrad.compile(_scaled)
    global SCALE
    SCALE = 2.0
    _eq(f(tapegrad.ones(2)), tapegrad.full((2,), 2.0))
    SCALE = 5.0
    _eq(f(tapegrad.ones(2)), tapegrad.full((2,), 5.0))


SCALE = 2.0


def _scaled(x):
    return x * SCALE


def test_item_falls_back_to_eager_and_fullgraph_raises():
    def body(x):
        if (x.sum() > 0).item():
            return x * 2
        return x * -1
    f = tapegrad.compile(body)
    _eq(f(tapegrad.ones(2)), tapegrad.full((2,), 2.0))
    _eq(f(-tapegrad.ones(2)), tapegrad.ones(2))             # same guards, other branch: eager, right
    s = f.stats()
    assert s["replays"] == 0 and "item()" in s["fallbacks"][0] and "test_guards.py" in s["fallbacks"][0]
    g = tapegrad.compile(body, fullgraph=True)
    with pytest.raises(GraphBreak, match="test_guards.py"):
        g(tapegrad.ones(2))


def test_cache_limit_warns_once_then_runs_eagerly():
    f = tapegrad.compile(lambda x: x + 1)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for n in range(1, 12):
            _eq(f(tapegrad.ones(n)), tapegrad.full((n,), 2.0))
    assert sum("cache limit" in str(x.message) for x in w) == 1
    assert f.stats()["traces"] == 8 and f.stats()["eager_calls"] == 3


def test_factory_inside_function_falls_back():
    def body(x):
        return x + tapegrad.randn(3)
    f = tapegrad.compile(body)
    a, b = f(tapegrad.zeros(3)), f(tapegrad.zeros(3))
    assert not np.array_equal(a.numpy(), b.numpy())
    assert f.stats()["replays"] == 0


def test_replaced_parameter_retraces():
    m = tapegrad.nn.Linear(2, 2)
    cm = tapegrad.compile(m)
    with tapegrad.no_grad():
        cm(tapegrad.ones(1, 2))
        m.weight = tapegrad.nn.Parameter(tapegrad.zeros(2, 2))
        _eq(cm(tapegrad.ones(1, 2)), m.bias.reshape(1, 2))
    assert cm.stats()["traces"] == 2


def test_running_stats_update_is_not_replayed_wrong():
    m = tapegrad.nn.BatchNorm1d(3)
    cm = tapegrad.compile(m)
    X = tapegrad.randn(5, 3)
    m2 = tapegrad.nn.BatchNorm1d(3)
    for _ in range(3):
        with tapegrad.no_grad():
            _eq(cm(X), m2(X))
    _eq(m.running_mean, m2.running_mean)
    _eq(m.running_var, m2.running_var)


def test_disable_runs_eagerly():
    f = tapegrad.compile(lambda x: x + 1, disable=True)
    f(tapegrad.ones(1))
    f(tapegrad.ones(1))
    assert f.stats()["traces"] == 0


def test_module_hooks_run_eagerly():
    m = tapegrad.nn.Linear(2, 2)
    cm = tapegrad.compile(m)
    seen = []
    m.register_forward_hook(lambda mod, i, o: seen.append(o.shape))
    with tapegrad.no_grad():
        for _ in range(3):
            cm(tapegrad.ones(1, 2))
    assert len(seen) == 3 and cm.stats()["replays"] == 0
    assert "hooks" in cm.stats()["fallbacks"][0]


def test_decorator_with_options_and_the_package_is_callable():
    import tapegrad.compile as package

    @tapegrad.compile(fullgraph=True)
    def f(x):
        return x * 3
    _eq(f(tapegrad.ones(2)), tapegrad.full((2,), 3.0))
    g = package(lambda x: x - 1)
    _eq(g(tapegrad.ones(2)), tapegrad.zeros(2))
    _eq(tapegrad.compile(lambda x: x + 1)(tapegrad.ones(1)), tapegrad.full((1,), 2.0))


def test_module_number_attribute_change_retraces():
    m = tapegrad.nn.LeakyReLU(0.1)
    cm = tapegrad.compile(m)
    x = -tapegrad.ones(2)
    _eq(cm(x), m(x))
    m.negative_slope = 0.5
    _eq(cm(x), tapegrad.full((2,), -0.5))
    assert cm.stats()["traces"] == 2


def test_an_argument_with_another_layout_retraces_and_equals_eager():
    """Note [layout guard]: a transposed argument of the same shape is not replayed on the trace of a
    contiguous one (``contiguous()`` was a no-op there, and the reduction order follows memory)."""
    def f(x):
        y = x.contiguous()
        y.mul_(2)                       # writes into x itself when x was contiguous, into a copy otherwise
        return y.sum(0), y.view(-1)
    g = np.random.default_rng(0)
    a = g.standard_normal((64, 64)).astype(np.float32)
    c = tapegrad.compile(f)
    for arr in (a, np.asfortranarray(a), a, np.asfortranarray(a)):
        xe = tapegrad.tensor(arr.copy()) if arr.flags.c_contiguous else tapegrad.tensor(arr.T.copy()).t()
        xc = tapegrad.tensor(arr.copy()) if arr.flags.c_contiguous else tapegrad.tensor(arr.T.copy()).t()
        want = f(xe)
        got = c(xc)
        for w, gt in zip(want, got):
            np.testing.assert_array_equal(gt.numpy(), w.numpy())
        np.testing.assert_array_equal(xc.numpy(), xe.numpy())
    assert c.stats()["traces"] == 2 and c.stats()["replays"] == 2
