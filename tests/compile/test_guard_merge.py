"""Note [fast guards]: the rewritten condition forms still fail when the value they stand for changes.

Each test first checks that the generated check really uses the form (so the test exercises it), then changes
the guarded value and expects a retrace: dropping the condition would replay the stale trace instead.
"""
import math

import numpy as np
import pytest

import tapegrad
from tapegrad.compile import guards as _guards
from test_guard_cost import _check_retraces


def _source(c):
    return c._fast[0][0].source


def _retraces(c, call, change, expect):
    """test_guard_cost's check that ``change`` retraces, and then that the new trace replays."""
    _check_retraces(c, call, change, expect)
    n = c.stats()["traces"]
    call()
    assert c.stats()["traces"] == n, "the new trace replays"


# ----------------------------------------------------------------- globals: `k not in g` and `g[k] is v`
def test_a_global_absent_when_traced_then_defined_retraces():
    ns = {}
    exec("def f(x):\n    return x * (SCALE if 'SCALE' in globals() else 1.0)\n", ns)   # noqa: S102
    c = tapegrad.compile(ns["f"])
    x = tapegrad.ones(2)
    c(x)
    assert "'SCALE' not in K" in _source(c)
    _retraces(c, lambda: c(x), lambda: ns.update(SCALE=4.0), lambda: [4.0, 4.0])


def test_a_global_rebound_or_deleted_retraces():
    ns = {"W": tapegrad.tensor([2.0, 2.0])}
    exec("def f(x):\n    return x * W\n", ns)   # noqa: S102
    c = tapegrad.compile(ns["f"])
    x = tapegrad.ones(2)
    c(x)
    assert "['W'] is K" in _source(c)
    _retraces(c, lambda: c(x), lambda: ns.update(W=tapegrad.tensor([5.0, 5.0])), lambda: [5.0, 5.0])
    c(x)
    del ns["W"]                     # the KeyError of the check's `g['W']` fails it: the call runs eagerly
    with pytest.raises(NameError):
        c(x)


def test_a_global_in_a_dict_subclass_keeps_the_get_form():
    class G(dict):
        pass
    ns = G(K=3.0, __builtins__=__builtins__)
    f = type(lambda: 0)(compile("lambda x: x * K", "<t>", "eval").co_consts[0], ns)
    c = tapegrad.compile(f)
    x = tapegrad.ones(2)
    c(x)
    assert ".get('K', MISSING)" in _source(c)
    _retraces(c, lambda: c(x), lambda: ns.update(K=6.0), lambda: [6.0, 6.0])


# ----------------------------------------------------------------- numbers and strs: identity first, then type and ==
class _Cfg:
    pass


@pytest.mark.parametrize("before,after", [(0.5, 0.25), (2.5, 2), (10 ** 6, 10 ** 6 + 1), ("a", "b"), (0.5, True)],
                         ids=["float", "float->int", "big-int", "str", "float->bool"])
def test_a_number_or_str_attribute_changed_retraces(before, after):
    cfg = _Cfg()
    cfg.v = before

    def f(x):
        v = cfg.v
        return x * (len(v) if isinstance(v, str) else v)
    c = tapegrad.compile(f)
    x = tapegrad.ones(2)
    c(x)
    assert "(v := K" in _source(c)
    scale = len(after) if isinstance(after, str) else after
    _retraces(c, lambda: c(x), lambda: setattr(cfg, "v", after), lambda: [scale, scale])


def test_an_equal_number_that_is_another_object_still_replays(monkeypatch):
    cfg = _Cfg()
    cfg.v = float("1.5")
    c = tapegrad.compile(lambda x: x * cfg.v)
    x = tapegrad.ones(2)
    c(x)
    c(x)
    calls = [0]
    real = _guards.key
    monkeypatch.setattr(_guards, "key", lambda *a: (calls.__setitem__(0, calls[0] + 1), real(*a))[1])
    cfg.v = float("1.5") + 0.0      # equal value, another object: the type-and-== half of the condition
    np.testing.assert_allclose(c(x).numpy(), [1.5, 1.5])
    assert calls[0] == 0 and c.stats()["traces"] == 1


def test_the_same_nan_object_replays_on_the_fast_path(monkeypatch):
    cfg = _Cfg()
    cfg.v = float("nan")
    c = tapegrad.compile(lambda x: x + (0.0 if math.isnan(cfg.v) else 1.0))
    x = tapegrad.ones(2)
    c(x)
    calls = [0]
    real = _guards.key

    def counting(*a):
        calls[0] += 1
        return real(*a)
    monkeypatch.setattr(_guards, "key", counting)
    c(x)
    c(x)
    assert calls[0] == 0 and c.stats()["traces"] == 1
    cfg.v = 3.0
    c(x)
    assert c.stats()["traces"] == 2


def test_a_number_argument_changed_retraces():
    c = tapegrad.compile(lambda x, s: x * s)
    x = tapegrad.ones(2)
    s = [0.5]
    c(x, s[0])
    assert "(v := args[1])" in _source(c)
    _retraces(c, lambda: c(x, s[0]), lambda: s.__setitem__(0, 0.75), lambda: [0.75, 0.75])


# ----------------------------------------------------------------- optimizer state: `S[p] is st`
def _sgd(momentum=0.9):
    tapegrad.manual_seed(0)
    model = tapegrad.nn.Linear(3, 2)
    opt = tapegrad.optim.SGD(model.parameters(), lr=0.1, momentum=momentum)
    x = tapegrad.ones(4, 3)

    def step():
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        opt.step()
        return loss.detach()
    return model, opt, step


def test_an_optimizer_state_entry_replaced_retraces():
    model, opt, step = _sgd()
    c = tapegrad.compile(step)
    for _ in range(3):
        c()
    src = _source(c)
    assert "MISSING) is" not in src.split("state is")[1], "state entries are read as S[p]"
    n = c.stats()["traces"]
    p = model.weight
    opt.state[p] = {"momentum_buffer": None}       # the first-step rule again for this parameter
    c()
    assert c.stats()["traces"] == n + 1


# ----------------------------------------------------------------- optimizer reads: `D[k]`, `k not in D`, tuples
def test_a_recorded_lr_read_changed_retraces():
    model, opt, step = _sgd(momentum=0.0)

    def fn():
        loss = step()
        return loss * opt.param_groups[0]["lr"]
    c = tapegrad.compile(fn)
    c()
    c()
    c()
    assert "['lr']) is K" in _source(c)
    before = c.stats()["traces"]
    opt.param_groups[0]["lr"] = 0.05
    r = c()
    assert c.stats()["traces"] == before + 1
    assert r.requires_grad is False


def test_a_recorded_absent_key_that_appears_retraces():
    model, opt, step = _sgd(momentum=0.0)

    def fn():
        loss = step()
        return loss * opt.param_groups[0].get("scale", 1.0)
    c = tapegrad.compile(fn)
    c()
    c()
    c()
    assert "'scale' not in K" in _source(c)
    n = c.stats()["traces"]
    opt.param_groups[0]["scale"] = 3.0
    c()
    assert c.stats()["traces"] == n + 1


def test_a_recorded_tuple_read_changed_retraces():
    tapegrad.manual_seed(0)
    model = tapegrad.nn.Linear(3, 2)
    opt = tapegrad.optim.Adam(model.parameters(), lr=0.1, betas=(0.9, 0.999))
    x = tapegrad.ones(4, 3)

    def fn():
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        opt.step()
        return loss.detach() * opt.param_groups[0]["betas"][0]
    c = tapegrad.compile(fn)
    c()
    c()
    c()
    assert "or SAME(v, K" in _source(c)
    n = c.stats()["traces"]
    opt.param_groups[0]["betas"] = (0.9, 0.999)        # an equal new tuple: SAME passes, no retrace
    c()
    assert c.stats()["traces"] == n
    opt.param_groups[0]["betas"] = (0.5, 0.999)
    c()
    assert c.stats()["traces"] == n + 1


def test_inert_module_tables_are_not_guarded_but_hooks_still_are():
    """Note [inert module attributes]: state_dict bookkeeping and the hook flag tables do not change a
    traced call (no retrace when they change), while a hook added with ``with_kwargs`` still runs."""
    import tapegrad
    m = tapegrad.nn.Linear(3, 2)

    def f(x):
        return m(x).sum()
    c = tapegrad.compile(f)
    x = tapegrad.randn(4, 3)
    c(x)
    c(x)
    m._non_persistent.add("nothing")                # in place: never affected the guards
    m._non_persistent = set()                       # rebound: no longer guarded
    m._load_state_dict_pre_hooks = type(m._load_state_dict_pre_hooks)()
    before = c.stats()["guard_failures"]
    c(x)
    assert c.stats()["guard_failures"] == before
    calls = []
    m.register_forward_hook(lambda mod, args, kwargs, out: calls.append(1), with_kwargs=True)
    got, want = c(x), f(x)
    assert calls == [1, 1]
    assert float(got) == float(want)
