"""What keeps the fused kernels' compile time down: no timings, the shape of the generated code.

Notes [kernel size] (compile/plan.py), [uniform lines] (compile/symbolic.py) and
[math in CPU kernels] (compile/kernels.py).
"""
import math
import re

import numba
import numpy as np

import tapegrad
from tapegrad.compile import kernels, plan


def _chain(x, w, depth):
    def run():
        x.grad = None
        w.grad = None
        y = x
        for _ in range(depth):
            y = ((y + w) * w).tanh().exp()
        y.sum().backward()
    return run


def _traced(shape, depth, dtype="float32"):
    """A compiled chain after its first call: traced and planned; its kernels are built but not compiled."""
    g = np.random.default_rng(0)
    x = tapegrad.tensor(g.uniform(-1, 1, shape).astype(dtype), requires_grad=True)
    w = tapegrad.tensor(g.uniform(0.2, 0.8, shape).astype(dtype), requires_grad=True)
    run = _chain(x, w, depth)
    f = tapegrad.compile(run)
    f()
    return f, run, (x, w)


def _sources(f):
    text = f.program()
    return [part.split("\n", 1)[1] for part in text.split("# fused kernel ")[1:]]


def _loop(src):
    """The lines of a CPU kernel's loop body."""
    return [ln.strip() for ln in src.split("for i in range(n):\n", 1)[1].splitlines() if ln.strip()]


def test_a_long_chain_is_one_kernel():
    # 200 ops forward and backward, all elementwise on one shape: one function, not one per 64 steps
    # (every cut costs a kernel's fixed compile time and a store and load per value crossing it)
    f, _, _ = _traced((16,), 50)
    assert f.stats()["fused_kernels"] == 1, f.program()
    steps = [int(n) for n in re.findall(r"= fused\[(\d+) steps", f.program())]
    assert len(steps) == 1 and steps[0] > 400, steps
    src, = _sources(f)
    assert src.count("OUT[") == 2           # only x.grad's and w.grad's contributions leave the kernel


def test_runs_longer_than_the_bound_are_split():
    f, _, _ = _traced((16,), 50)
    n = int(re.search(r"= fused\[(\d+) steps", f.program()).group(1))
    old = plan.MAX_STEPS
    try:
        plan.MAX_STEPS = n // 2 + 1
        g, _, _ = _traced((16,), 50)
    finally:
        plan.MAX_STEPS = old
    steps = [int(s) for s in re.findall(r"= fused\[(\d+) steps", g.program())]
    assert steps == [n // 2 + 1, n - n // 2 - 1], steps


def test_one_element_chain_computes_before_its_loop():
    # Note [uniform lines]: LLVM spent seconds hoisting such a chain out of the loop itself
    f, run, (x, w) = _traced((1,), 20)
    src, = _sources(f)
    loop = _loop(src)
    assert loop and all(ln.startswith("OUT[") for ln in loop), loop
    assert "math.tanh(" in src.split("for i in range(n):")[0]
    assert f.wait_for_kernels()
    f()
    got = x.grad.numpy().copy(), w.grad.numpy().copy()
    run()
    np.testing.assert_allclose(got[0], x.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(got[1], w.grad.numpy(), rtol=1e-5)


def test_uniform_lines_of_a_wide_group_run_once():
    # pow's VJP tests and decrements the one-element exponent: once per call, not once per element
    x = tapegrad.tensor(np.linspace(0.1, 2, 16, dtype=np.float32), requires_grad=True)
    s = tapegrad.tensor(np.array([1.5], dtype=np.float32))

    def run():
        x.grad = None
        ((x ** s).exp() * x).sum().backward()
    f = tapegrad.compile(run)
    f()
    src, = _sources(f)
    before = [ln.strip() for ln in src.split("for i in range(n):")[0].splitlines()]
    hoisted = [ln for ln in before if re.match(r"t\d+ = ", ln)]
    per_index = {ln.split(" = ")[0] for ln in _loop(src) if ln.endswith("[i]")}     # the loads at index i
    assert hoisted and per_index, src
    for ln in hoisted:                      # nothing before the loop reads a value that varies with i
        assert not set(re.findall(r"\bi\d+\b", ln)) & per_index, src
    assert f.wait_for_kernels()
    f()
    got = x.grad.numpy().copy()
    run()
    np.testing.assert_allclose(got, x.grad.numpy(), rtol=1e-6)


def test_cpu_kernels_call_math_not_numpy_ufuncs():
    f, _, _ = _traced((16,), 5)
    src, = _sources(f)
    assert "math.tanh(" in src and "math.exp(" in src
    assert "np.tanh(" not in src and "np.exp(" not in src


def test_math_and_numpy_functions_agree_bitwise_in_numba():
    # Note [math in CPU kernels]: the substitution must not change a bit, for both float types
    names = [a[3:-1] for a, _ in kernels._MATH]
    body = "\n".join(f"        o[{j}, i] = {{}}.{nm}(x[i])" for j, nm in enumerate(names))
    ns = {"math": math, "np": np}
    for mod in ("np", "math"):
        exec(f"def k_{mod}(x, o):\n    for i in range(x.size):\n" + body.format(*[mod] * len(names)), ns)
    rng = np.random.default_rng(0)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, 1.0, 1e-40, 1e30, -1e30, 88.7, 89.0, 710.0, -710.0]
    for dt in (np.float32, np.float64):
        x = np.concatenate([rng.standard_normal(2000) * 10, rng.uniform(-1e-3, 1e-3, 200), special]).astype(dt)
        outs = []
        for mod in ("np", "math"):
            o = np.empty((len(names), x.size), dt)
            numba.njit(error_model="numpy")(ns[f"k_{mod}"])(x, o)
            outs.append(o)
        for j, nm in enumerate(names):
            assert np.array_equal(outs[0][j].view(f"u{x.itemsize}"), outs[1][j].view(f"u{x.itemsize}")), (dt, nm)
    # and the math functions keep the argument's float type (a float64 result would change the next steps)
    exec("def r(v):\n    return (" + ", ".join(f"math.{nm}(v)" for nm in names) + ",)", ns)
    r = numba.njit(ns["r"])
    for t in (np.float32, np.float64):
        r(t(0.5))
    assert [set(map(str, sig.return_type)) for sig in r.nopython_signatures] == [{"float32"}, {"float64"}]
