"""Note [generated replay]: the generated replay function does exactly what ``replay.execute`` does.

Each comparison runs one captured program twice on equal fresh inputs: once through its generated
function, once through ``execute`` (swapped in as the program's function), and compares results,
gradients, versions and the number of copies ``.grad`` hand-over made, to the bit.
"""
import traceback

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tapegrad
from tapegrad import backend as B
from tapegrad.compile import codegen
from tapegrad.compile.replay import execute, _rebuild
from op_db import draw_case, load_all
from test_op_db_compile import _body, _leaves     # the same forward+backward function as the harness

SPECS = load_all()


def _interpreter(prog):
    """``prog``'s replay through ``execute`` (the steps it would run now)."""
    def run(flat):
        vals = prog.template.copy()
        execute(prog.steps if prog.ready else prog.plain, vals, flat)
        return _rebuild(prog.result, vals, flat)
    return run


class _CountCopies:
    """Counts the CPU backend's copies (``.grad`` hand-over copies exactly when a value has other holders)."""

    def __init__(self, mp):
        self.n = 0
        orig = B.CPU_BACKEND.copy

        def copy(a):
            self.n += 1
            return orig(a)
        mp.setattr(B.CPU_BACKEND, "copy", copy)


def _run_both(cf, make_args, seed=7):
    """Replay ``cf``'s latest program generated, then interpreted, each on fresh ``make_args()``.

    Returns ``[(result, args, copies, versions)]`` for the generated and the interpreted replay.
    """
    with pytest.MonkeyPatch.context() as mp:
        return _run_both_counted(cf, make_args, seed, _CountCopies(mp))


def _run_both_counted(cf, make_args, seed, counter):
    prog = cf._last
    out = []
    for mode in ("generated", "interpreted"):
        args = make_args()
        if mode == "interpreted":
            generated, prog.fn = prog.fn, _interpreter(prog)
        counter.n = 0
        tapegrad.manual_seed(seed)
        try:
            r = cf(*args)
        finally:
            if mode == "interpreted":
                prog.fn = generated
        assert cf._last is prog
        if mode == "generated":
            assert prog.fn is not None and prog.source is not None
        out.append((r, args, counter.n, _versions(args)))
    return out


def _versions(args):
    return [(a._version[0], None if a.grad is None else a.grad._version[0]) for a in args
            if isinstance(a, tapegrad.Tensor)]


def _flat(x):
    if isinstance(x, tapegrad.Tensor):
        return [x]
    if isinstance(x, dict):
        return [t for v in x.values() for t in _flat(v)]
    if isinstance(x, (list, tuple)):
        return [t for v in x for t in _flat(v)]
    return [x]


def _assert_same(got, want, msg=""):
    g, w = _flat(got), _flat(want)
    assert len(g) == len(w), msg
    for a, b in zip(g, w):
        if isinstance(b, tapegrad.Tensor):
            assert isinstance(a, tapegrad.Tensor) and a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape), msg
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=msg)
        else:
            assert a == b or (a != a and b != b), msg


def _compare(runs, msg=""):
    (r1, a1, c1, v1), (r2, a2, c2, v2) = runs
    _assert_same(r1, r2, msg)
    for x, y in zip(a1, a2):
        if isinstance(x, tapegrad.Tensor):
            assert (x.grad is None) == (y.grad is None), msg
            if x.grad is not None:
                _assert_same(x.grad, y.grad, msg)
    assert c1 == c2, f"{msg}: .grad hand-over copied {c1} times generated, {c2} times interpreted"
    assert v1 == v2, msg


# ---------------------------------------------------------------- the op database


COMPARED = {}


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
@settings(max_examples=1, deadline=None)
@given(data=st.data())
def test_generated_replay_equals_execute_over_the_op_database(spec, data):
    dtype = "float64" if "float64" in spec.dtypes else spec.dtypes[0]
    ts, _, kwargs = draw_case(data, spec, getattr(tapegrad, dtype))
    compared = 0
    for fusion in (False, True):
        cf = tapegrad.compile(_body(spec, kwargs), options={"fusion": fusion})
        tapegrad.manual_seed(7)
        cf(*_leaves(ts, 1.0))                       # the trace
        if cf._last is None:                        # fell back to eager: nothing is replayed
            assert cf.stats()["fallbacks"], spec.name
            continue
        assert cf._last.source is None              # generated on the first replay, not by the trace
        if fusion:
            cf.wait_for_kernels()
        _compare(_run_both(cf, lambda: _leaves(ts, 0.75)), f"{spec.name} fusion={fusion}")
        compared += 1
    COMPARED[spec.name] = compared


def test_most_specs_were_compared():
    """Guards the harness itself: it must compare replays, not only fallbacks (run after the specs)."""
    if len(COMPARED) < len(SPECS):
        pytest.skip("needs the whole harness in this session")
    assert sum(v == 2 for v in COMPARED.values()) > 0.6 * len(SPECS), COMPARED


# ---------------------------------------------------------------- programs


def _chain(n, fusion, shape=(4,)):
    g = np.random.default_rng(0)
    x0, w0 = g.uniform(-1, 1, shape), g.uniform(0.2, 0.8, shape)

    def make():
        return tapegrad.tensor(x0, requires_grad=True), tapegrad.tensor(w0, requires_grad=True)

    def run(x, w):
        y = x
        for _ in range(n):
            y = (y + w).tanh() * w
        y.sum().backward()
        return y.detach()
    return make, run, tapegrad.compile(run, options={"fusion": fusion})


def test_a_program_of_more_than_2000_steps_replays_as_eager():
    make, run, f = _chain(400, fusion=False)
    f(*make())
    prog = f._last
    assert len(prog.steps) > 2000
    want_args = make()
    want = run(*want_args)
    for _ in range(2):
        args = make()
        np.testing.assert_array_equal(f(*args).numpy(), want.numpy())
        for a, b in zip(args, want_args):
            np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    assert prog.source.count("\n") > 2000


def test_a_long_program_equals_execute():
    make, run, f = _chain(60, fusion=False)
    f(*make())
    _compare(_run_both(f, make))


def test_fused_kernels_with_fixed_buffers_are_called_inline():
    make, run, f = _chain(8, fusion=True, shape=(3, 5))
    f(*make())
    assert f.wait_for_kernels() and f._last.kernels
    _compare(_run_both(f, make))
    src = f._last.source
    assert "fused_" in src and "(vals)" not in src, src      # no slot list: kernels read locals
    np.testing.assert_allclose(f(*make()).numpy(), run(*make()).numpy(), rtol=1e-12)


def test_gradients_handed_to_two_leaves_never_alias():
    # add's VJP returns its incoming gradient for both inputs: the first leaf must get a copy (the array
    # has another holder), the second may take it. A reference the replay lost or kept too long shows here.
    c = tapegrad.tensor([1.0, 2.0, 3.0])

    def make():
        return tapegrad.tensor([0.5, -1.0, 2.0], requires_grad=True), tapegrad.tensor([1.5, 0.0, 1.0],
                                                                                      requires_grad=True)

    def step(x, y):
        ((x + y) * c).sum().backward()
        return x.grad, y.grad
    f = tapegrad.compile(step, options={"fusion": False})
    f(*make())
    runs = _run_both(f, make)
    _compare(runs)
    for _, (x, y), _, _ in runs:
        assert not np.shares_memory(x.grad.numpy(), y.grad.numpy())
        x.grad.add_(1.0)
        np.testing.assert_array_equal(y.grad.numpy(), [1.0, 2.0, 3.0])


def test_a_compiled_forward_with_fused_kernels_equals_execute():
    # Note [compiled backward]: the result's backward reads the forward's values from the slot list,
    # and its kernels take fresh buffers (the slot protocol)
    tapegrad.manual_seed(0)
    m = tapegrad.nn.Sequential(tapegrad.nn.Linear(3, 8), tapegrad.nn.Tanh(), tapegrad.nn.Sigmoid())
    cm = tapegrad.compile(m)
    X = tapegrad.full((2, 3), -0.5)
    cm(X)
    cm.wait_for_kernels()
    f = cm._compiled
    prog = f._last
    assert prog.kernels and prog.result[0] == "grad"
    outs = []
    for mode in ("generated", "interpreted"):
        for p in m.parameters():
            p.grad = None
        if mode == "interpreted":
            generated, prog.fn = prog.fn, _interpreter(prog)
        o = cm(X)
        if mode == "interpreted":
            prog.fn = generated
        (o * o).sum().backward()
        outs.append((o.detach().numpy().copy(), [p.grad.numpy().copy() for p in m.parameters()]))
    assert "vals" in prog.source
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    for a, b in zip(outs[0][1], outs[1][1]):
        np.testing.assert_array_equal(a, b)


def test_a_replayed_step_that_raises_raises_as_execute_and_restores_numpy_state():
    # values are not guarded: a replayed forward can fail on them, and must fail as execute does
    f = tapegrad.compile(lambda a: tapegrad.linalg.cholesky(a) * 2)
    a = tapegrad.eye(3) * 2
    f(a)
    f(a)
    prog = f._last
    errors, tracebacks = [], []
    old = np.seterr(all="warn")
    try:
        for fn in (prog.fn, _interpreter(prog)):
            prog.fn = fn
            with pytest.raises(Exception) as e:
                f(-a)
            errors.append((type(e.value), str(e.value)))
            tracebacks.append("".join(traceback.format_exception(e.value)))
            assert np.geterr()["divide"] == "warn"     # Note [quiet NumPy] is undone on the way out
    finally:
        np.seterr(**old)
    assert errors[0] == errors[1]
    assert "cholesky" in errors[0][1]
    assert "v1 = linalg_cholesky_" in tracebacks[0]     # the generated statement, through linecache


def test_programs_that_differ_only_in_shapes_share_compiled_code():
    def f(x):
        y = (x * 2).exp()
        y.sum().backward()
        return y.detach()
    cf = tapegrad.compile(f, options={"fusion": False})
    progs = []
    for n in (3, 5):
        for _ in range(2):
            cf(tapegrad.ones(n, requires_grad=True))
        progs.append(cf._last)
    assert progs[0] is not progs[1]
    assert progs[0].fn.__code__ is progs[1].fn.__code__


def test_literals_rebuild_exactly_and_everything_else_is_bound():
    for v in (0, -3, 2.5, -0.0, True, None, "mean"):
        assert codegen._inline(v) and eval(repr(v)) == v and type(eval(repr(v))) is type(v)
    for v in (float("nan"), float("inf"), np.float32(1.0), (1, 2), [1]):
        assert not codegen._inline(v)
