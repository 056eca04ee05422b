"""Eager semantics under tapegrad.compile that tests/compile/test_guards.py and test_patterns.py leave out.

Each test runs the same program eagerly and compiled and compares them to the bit, call by call:
hyperparameters changed between or inside calls, ``training`` flags of submodules, dropout in a
training step, closures over numbers and tensors, ``.grad`` reset between calls, several
``backward()`` calls before one optimizer step, data-dependent Python (graph break or guard, never
a wrong replay; ``fullgraph=True`` names the user's line) and the trace cache limit.
"""
import inspect
import warnings

import numpy as np
import pytest

import tapegrad
import tapegrad.nn.functional as F
from tapegrad.compile.tracer import GraphBreak


def _same(a, b, what=""):
    np.testing.assert_array_equal(np.asarray(a.detach().numpy()), np.asarray(b.detach().numpy()), err_msg=what)


def _mlp(seed=0, p=0.5):
    tapegrad.manual_seed(seed)
    return tapegrad.nn.Sequential(tapegrad.nn.Linear(6, 8), tapegrad.nn.ReLU(), tapegrad.nn.Dropout(p),
                                  tapegrad.nn.Linear(8, 3))


def _batches(n, seed=1):
    g = np.random.default_rng(seed)
    return [(tapegrad.tensor(g.standard_normal((5, 6)).astype(np.float32)), tapegrad.tensor(g.integers(0, 3, 5)))
            for _ in range(n)]


# ----------------------------------------------------------------- hyperparameters

def test_scheduler_step_inside_the_compiled_step():
    # sched.step() changes lr on every call: the replayed optimizer step must never use a stale lr.
    def run(compiled):
        tapegrad.manual_seed(0)
        m = tapegrad.nn.Linear(3, 2)
        opt = tapegrad.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        sched = tapegrad.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        X, y = tapegrad.ones(4, 3), tapegrad.tensor([0, 1, 0, 1])

        def step():
            opt.zero_grad()
            loss = F.cross_entropy(m(X), y)
            loss.backward()
            opt.step()
            sched.step()
            return loss.detach()
        f = tapegrad.compile(step) if compiled else step
        return [f() for _ in range(5)], m, opt
    (l1, m1, o1), (l2, m2, o2) = run(False), run(True)
    for a, b in zip(l1, l2):
        _same(a, b)
    _same(m1.weight, m2.weight)
    assert o1.param_groups[0]["lr"] == o2.param_groups[0]["lr"] == 0.1 * 0.5 ** 5


def test_lr_assigned_in_the_param_group_takes_effect_in_a_replayed_optimizer_step():
    def run(compiled):
        m = _mlp(p=0.0)
        opt = tapegrad.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

        def step(X, y):
            opt.zero_grad()
            F.cross_entropy(m(X), y).backward()
            opt.step()
        f = tapegrad.compile(step) if compiled else step
        for i, (X, y) in enumerate(_batches(5)):
            opt.param_groups[0]["lr"] = 0.1 / (i + 1)
            f(X, y)
        return m, f
    (m1, _), (m2, f) = run(False), run(True)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        _same(p1, p2)
    assert f.stats()["replays"] >= 3


def test_lr_read_from_the_param_group_by_the_function_is_not_baked_in():
    def run(compiled):
        w = tapegrad.tensor([1.0, 2.0], requires_grad=True)
        opt = tapegrad.optim.SGD([w], lr=0.5)

        def step(x):
            w.grad = None
            (w * x).sum().backward()
            with tapegrad.no_grad():
                w.sub_(opt.param_groups[0]["lr"] * w.grad)
        f = tapegrad.compile(step) if compiled else step
        for _ in range(4):
            f(tapegrad.ones(2))
            opt.param_groups[0]["lr"] *= 0.1
        return w
    _same(run(True), run(False))


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop"])
def test_whole_step_with_an_optimizer_counting_steps_replays(name):
    def run(compiled):
        m = _mlp(p=0.0)
        opt = getattr(tapegrad.optim, name)(m.parameters(), lr=1e-2)

        def step(X, y):
            opt.zero_grad()
            F.cross_entropy(m(X), y).backward()
            opt.step()
        f = tapegrad.compile(step) if compiled else step
        for X, y in _batches(5):
            f(X, y)
        return m, f
    (m1, _), (m2, f) = run(False), run(True)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        _same(p1, p2)
    assert f.stats()["replays"] >= 3, f.stats()


# ----------------------------------------------------------------- training flags and dropout

def test_eval_of_one_submodule_in_a_compiled_function_retraces_and_train_replays_again():
    m = _mlp()
    m2 = _mlp()
    X = _batches(1)[0][0]
    f = tapegrad.compile(lambda x: m(x).detach())
    tapegrad.manual_seed(5)
    got = [f(X), f(X)]
    m[2].eval()                                  # only the dropout's flag changes
    got += [f(X), f(X)]
    m[2].train()
    got += [f(X)]
    tapegrad.manual_seed(5)
    want = [m2(X).detach(), m2(X).detach()]
    m2[2].eval()
    want += [m2(X).detach(), m2(X).detach()]
    m2[2].train()
    want += [m2(X).detach()]
    for i, (a, b) in enumerate(zip(got, want)):
        _same(a, b, f"call {i}")
    _same(got[2], got[3])
    assert not np.array_equal(got[0].numpy(), got[1].numpy())
    s = f.stats()
    assert (s["traces"], s["replays"]) == (2, 3), s      # back in training mode: the first trace replays


def test_dropout_in_a_training_step_draws_the_eager_stream_and_backward_uses_the_same_mask():
    def run(compiled):
        m = _mlp()
        opt = tapegrad.optim.SGD(m.parameters(), lr=0.1)

        def step(X, y):
            opt.zero_grad()
            loss = F.cross_entropy(m(X), y)
            loss.backward()
            opt.step()
            return loss.detach()
        f = tapegrad.compile(step) if compiled else step
        tapegrad.manual_seed(42)
        X, y = _batches(1)[0]
        losses = [f(X, y) for _ in range(5)]       # the same batch: only the masks differ
        return losses, m, f
    (l1, m1, _), (l2, m2, f) = run(False), run(True)
    for a, b in zip(l1, l2):
        _same(a, b)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        _same(p1, p2)
    assert f.stats()["replays"] >= 3
    assert len({float(v) for v in l2}) > 1


def test_functional_dropout_gradients_follow_each_replays_mask():
    def run(compiled):
        w = tapegrad.ones(8, requires_grad=True)

        def f(x):
            w.grad = None
            F.dropout(w * x, 0.5, training=True).sum().backward()
        g = tapegrad.compile(f) if compiled else f
        tapegrad.manual_seed(3)
        out = []
        for _ in range(4):
            g(tapegrad.ones(8))
            out.append(w.grad.clone())
        return out, g
    (a, _), (b, g) = run(False), run(True)
    for x, y in zip(a, b):
        _same(x, y)
    assert not np.array_equal(b[1].numpy(), b[2].numpy())
    assert g.stats()["replays"] == 2            # the first call sees w.grad None, the second a tensor


# ----------------------------------------------------------------- closures

def test_closure_over_a_number_that_changes():
    def make():
        k = 2.0

        def f(x):
            return x * k

        def set_k(v):
            nonlocal k
            k = v
        return f, set_k
    f, set_k = make()
    cf = tapegrad.compile(f)
    for k in (2.0, 2.0, 5.0, 5.0, 2.0):
        set_k(k)
        _same(cf(tapegrad.ones(2)), tapegrad.full((2,), k))
    assert cf.stats()["traces"] == 2 and cf.stats()["replays"] == 3


def test_closure_over_a_tensor_changed_in_place_or_rebound_between_calls():
    c = tapegrad.tensor([1.0, 2.0])
    w = tapegrad.tensor([0.5, -0.5], requires_grad=True)

    def f(x):
        w.grad = None
        loss = (w * c * x).sum()
        loss.backward()
        return loss.detach()
    cf = tapegrad.compile(f)
    for step in range(6):
        if step == 2:
            c.mul_(3.0)                                 # same tensor, new values: read live at replay
        if step == 4:
            c = tapegrad.tensor([-1.0, 4.0])            # another tensor in the cell: a new guard key
        x = tapegrad.tensor([1.0, float(step)])
        got, got_grad = cf(x), w.grad.clone()
        _same(got, (w * c * x).sum())
        _same(got_grad, c * x)
    s = cf.stats()
    assert s["traces"] == 3 and s["replays"] >= 3, s


@pytest.mark.parametrize("where", ["global dict", "closure dict", "module dict attribute",
                                   "list attribute of an object"])
def test_number_inside_a_captured_container_is_not_baked_in(where):
    class Holder:
        pass
    h = Holder()
    h.scales = [2.0]
    m = tapegrad.nn.Identity()
    m.cfg = {"scale": 2.0}
    cfg = {"scale": 2.0}
    fn, box, k = {"global dict": (lambda x: x * CFG["scale"], CFG, "scale"),
                  "closure dict": (lambda x: x * cfg["scale"], cfg, "scale"),
                  "module dict attribute": (lambda x: m(x) * m.cfg["scale"], m.cfg, "scale"),
                  "list attribute of an object": (lambda x: x * h.scales[0], h.scales, 0)}[where]
    cf = tapegrad.compile(fn)
    for v in (2.0, 2.0, 5.0):
        box[k] = v
        _same(cf(tapegrad.ones(2)), tapegrad.full((2,), v), f"{where} = {v}")


CFG = {"scale": 2.0}


# ----------------------------------------------------------------- .grad and gradient accumulation

@pytest.mark.parametrize("fusion", [False, True])
def test_grad_reset_outside_between_calls_sets_then_adds_as_eager(fusion):
    # (w * x).tanh() fuses into one kernel whose tanh may differ from NumPy's in the last bit, and whether a
    # given call runs fused depends on when the background compile ends: fused runs compare within rounding.
    w0 = np.array([0.3, -0.7, 1.1], np.float32)
    xs = [tapegrad.tensor(np.float32([1, 2, 3]) * (i + 1)) for i in range(7)]
    resets = {3: "none", 5: "zero"}             # before call i: w.grad = None / zero_grad(set_to_none=False)
    runs = []
    for compiled in (False, True):
        w = tapegrad.tensor(w0, requires_grad=True)
        opt = tapegrad.optim.SGD([w], lr=0.1)

        def f(x):
            loss = (w * x).tanh().sum()
            loss.backward()
            return loss.detach()
        cf = tapegrad.compile(f, options={"fusion": fusion}) if compiled else f
        seen = []
        for i, x in enumerate(xs):
            if resets.get(i) == "none":
                w.grad = None
            elif resets.get(i) == "zero":
                opt.zero_grad(set_to_none=False)
            cf(x)
            seen.append(w.grad.clone())
        runs.append(seen)
    for i, (a, b) in enumerate(zip(*runs)):
        if fusion:
            np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-6, atol=1e-7, err_msg=f"after call {i}")
        else:
            _same(b, a, f"after call {i}")
    assert cf.stats()["replays"] >= 4


def test_several_backward_calls_before_one_optimizer_step():
    data = _batches(8)
    runs = []
    for compiled in (False, True):
        m = _mlp(p=0.0)
        opt = tapegrad.optim.Adam(m.parameters(), lr=1e-2)

        def micro(X, y):
            loss = F.cross_entropy(m(X), y) / 4
            loss.backward()
            return loss.detach()
        f = tapegrad.compile(micro) if compiled else micro
        losses = []
        for i in range(0, 8, 4):
            opt.zero_grad()
            for X, y in data[i:i + 4]:          # gradients accumulate over four compiled calls
                losses.append(f(X, y))
            opt.step()
        runs.append((m, losses, f))
    (m1, l1, _), (m2, l2, f) = runs
    for a, b in zip(l1, l2):
        _same(a, b)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        _same(p1, p2)
    assert f.stats()["replays"] >= 5


def test_accumulation_loop_and_step_inside_one_compiled_call():
    data = _batches(6)
    runs = []
    for compiled in (False, True):
        m = _mlp(p=0.0)
        opt = tapegrad.optim.SGD(m.parameters(), lr=0.1, momentum=0.5)

        def step(batches):
            opt.zero_grad()
            for X, y in batches:
                F.cross_entropy(m(X), y).backward()
            opt.step()
        f = tapegrad.compile(step) if compiled else step
        for i in range(0, 6, 2):
            f(data[i:i + 2])
        runs.append((m, f))
    (m1, _), (m2, f) = runs
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        _same(p1, p2)
    assert f.stats()["replays"] >= 1 and f.stats()["fallbacks"] == []


# ----------------------------------------------------------------- data-dependent Python

def _line_of(fn, text):
    """``file:line`` of the line of ``fn``'s source that contains ``text``."""
    lines, first = inspect.getsourcelines(fn)
    n = next(i for i, line in enumerate(lines) if text in line)
    return f"{inspect.getsourcefile(fn)}:{first + n}"


READS = {                                                   # each reads tensor data on the host
    "bool": lambda x: bool(x.sum() > 0),
    "if": lambda x: True if x.sum() > 0 else False,
    "float": lambda x: float(x.sum()) > 0,
    "int": lambda x: int(x.sum().floor()) > 0,
    "item": lambda x: x.sum().item() > 0,
    "tolist": lambda x: x.tolist()[0] > 0,
    "numpy": lambda x: x.detach().numpy()[0] > 0,
}
SIGNS = ([1.0, 2.0], [1.0, 2.0], [-1.0, -2.0], [-1.0, -2.0], [1.0, 2.0])     # the branch flips


@pytest.mark.parametrize("read", READS.values(), ids=list(READS))
def test_data_dependent_branch_is_never_replayed_wrong(read):
    w = tapegrad.tensor([0.5, 2.0], requires_grad=True)

    def body(x):
        w.grad = None
        y = (w * x).exp() if read(x) else (w * x).sin()
        y.sum().backward()
        return y.detach()
    cf = tapegrad.compile(body)
    for v in SIGNS:
        got, got_grad = cf(tapegrad.tensor(v)), w.grad.clone()
        want = body(tapegrad.tensor(v))
        _same(got, want, str(v))
        _same(got_grad, w.grad, str(v))
    s = cf.stats()
    assert s["replays"] == 0 and s["fallbacks"] and "data-dependent" in s["fallbacks"][0], s


@pytest.mark.parametrize("name", list(READS))
def test_fullgraph_names_the_line_of_the_read(name):
    read = READS[name]
    cf = tapegrad.compile(lambda x: x * 2 if read(x) else x, fullgraph=True)
    with pytest.raises(GraphBreak, match="fullgraph=True") as e:
        cf(tapegrad.ones(2))
    assert _line_of(read, f'"{name}": lambda') in str(e.value)


def test_fullgraph_names_the_line_of_a_tensor_made_inside_the_function():
    def body(x):
        noise = tapegrad.rand(2)
        return x + noise                                    # USED
    cf = tapegrad.compile(body, fullgraph=True)
    with pytest.raises(GraphBreak) as e:
        cf(tapegrad.ones(2))
    assert _line_of(body, "# USED") in str(e.value)


def test_index_by_a_zero_dim_tensor_is_a_host_read():
    # x[i] with a 0-d integer tensor i reads i on the host: the trace must not bake in the index.
    w = tapegrad.tensor([1.0, 2.0, 3.0], requires_grad=True)

    def body(x):
        w.grad = None
        y = (w * x)[x.argmax()] * 2
        y.backward()
        return y.detach()
    cf = tapegrad.compile(body)
    for v in ([3.0, 1.0, 2.0], [3.0, 1.0, 2.0], [1.0, 3.0, 2.0], [1.0, 2.0, 3.0]):
        got, got_grad = cf(tapegrad.tensor(v)), w.grad.clone()
        _same(got, body(tapegrad.tensor(v)), str(v))
        _same(got_grad, w.grad, str(v))
    with pytest.raises(GraphBreak, match="test_semantics.py"):
        tapegrad.compile(body, fullgraph=True)(tapegrad.ones(3))


def test_mask_with_a_data_dependent_count_is_never_replayed_wrong():
    # x[x > 0] has as many elements as x has positive ones: its shape depends on the data.
    w = tapegrad.ones(3, requires_grad=True)

    def body(x):
        w.grad = None
        loss = (w * x)[x > 0].mean()
        loss.backward()
        return loss.detach()
    cf = tapegrad.compile(body)
    for v in ([1.0, -1.0, -1.0], [1.0, -1.0, -1.0], [1.0, 2.0, 3.0], [-1.0, 2.0, 4.0]):
        got, got_grad = cf(tapegrad.tensor(v)), w.grad.clone()
        _same(got, body(tapegrad.tensor(v)), str(v))
        _same(got_grad, w.grad, str(v))


@pytest.mark.parametrize("count", [
    "len(nonzero)", "len(nonzero as_tuple)", "len(argwhere)", "len(unique)", "len(where)",
    "masked_select numel"])
def test_shape_of_a_data_dependent_result_is_not_baked_in(count):
    take = {"len(nonzero)": lambda x: len(x.nonzero()),
            "len(nonzero as_tuple)": lambda x: len(x.nonzero(as_tuple=True)[0]),
            "len(argwhere)": lambda x: len(tapegrad.argwhere(x)),
            "len(unique)": lambda x: len(tapegrad.unique(x)),
            "len(where)": lambda x: len(tapegrad.where(x > 0)[0]),
            "masked_select numel": lambda x: x.masked_select(x > 0).numel()}[count]

    def body(x):
        return x * take(x)
    cf = tapegrad.compile(body)
    for v in ([1.0, 0.0, -1.0], [1.0, 0.0, -1.0], [1.0, 2.0, 3.0]):
        _same(cf(tapegrad.tensor(v)), body(tapegrad.tensor(v)), str(v))


# ----------------------------------------------------------------- the trace cache limit

def test_cache_limit_warning_points_at_the_call_and_cached_traces_still_replay():
    def add_one(x):
        return x + 1
    cf = tapegrad.compile(add_one)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for n in range(1, 11):
            _same(cf(tapegrad.ones(n)), tapegrad.full((n,), 2.0))      # CALL
        for n in range(1, 11):                                         # the 8 cached shapes replay
            _same(cf(tapegrad.full((n,), 3.0)), tapegrad.full((n,), 4.0))
    warned = [x for x in w if "cache limit" in str(x.message)]
    assert len(warned) == 1
    assert "add_one" in str(warned[0].message)
    assert f"{warned[0].filename}:{warned[0].lineno}" == _line_of(
        test_cache_limit_warning_points_at_the_call_and_cached_traces_still_replay, "# CALL")
    s = cf.stats()
    assert (s["traces"], s["replays"], s["eager_calls"], s["cached"]) == (8, 8, 4, 8), s
    assert "cache limit reached" in s["fallbacks"]


# ----------------------------------------------------------------- random draws

@pytest.mark.parametrize("draw", ["rand never read", "randn_ fill never read", "manual_seed"])
def test_a_random_draw_the_trace_does_not_record_keeps_the_eager_stream(draw):
    # Note [recorded draws]: a replay may skip no draw (nor a reseed): the stream after each call is the eager one
    scratch = tapegrad.zeros(3)

    def body(x):
        if draw == "rand never read":
            tapegrad.rand(3)
        elif draw == "randn_ fill never read":
            scratch.normal_()
        else:
            tapegrad.manual_seed(7)
        return x * 2
    runs = []
    for compiled in (False, True):
        tapegrad.manual_seed(0)
        f = tapegrad.compile(body) if compiled else body
        runs.append([(f(tapegrad.ones(2)), tapegrad.rand(2)) for _ in range(3)])
    for i, ((a, ra), (b, rb)) in enumerate(zip(*runs)):
        _same(b, a, f"call {i}")
        _same(rb, ra, f"the stream after call {i}")


def test_dropout_draws_still_replay():
    m = _mlp(p=0.5)
    X = _batches(1)[0][0]
    f = tapegrad.compile(lambda x: m(x).detach())
    for _ in range(3):
        f(X)
    assert f.stats()["replays"] == 2, f.stats()


def test_cache_limit_warning_of_a_compiled_module_points_at_the_call():
    cm = tapegrad.compile(tapegrad.nn.Linear(3, 2))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for n in range(1, 11):
            cm(tapegrad.ones(n, 3))                                    # MODULE CALL
    warned = [x for x in w if "cache limit" in str(x.message)]
    assert len(warned) == 1
    assert f"{warned[0].filename}:{warned[0].lineno}" == _line_of(
        test_cache_limit_warning_of_a_compiled_module_points_at_the_call, "# MODULE CALL")


def test_the_submodules_of_tapegrad_compile_import():
    import subprocess
    import sys
    # a fresh interpreter: `tapegrad.compile` is first reached as an attribute, then a submodule is imported
    code = ("import tapegrad, inspect; tapegrad.compile; import tapegrad.compile.api as a; "
            "from tapegrad.compile import guards; assert a.compile is tapegrad.compile.compile; "
            "assert tapegrad.compile(lambda x: x + 1)(tapegrad.ones(1)).item() == 2.0; "
            "assert 'fullgraph' in str(inspect.signature(tapegrad.compile))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
