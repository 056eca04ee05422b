"""Fused kernels (Note [what may be fused]): equal to eager within float tolerance, with fusion on and off."""
import copy

import numpy as np
import pytest

import tapegrad
import tapegrad.nn.functional as F


def _chain_run(x, w, depth=5):
    def run():
        x.grad = None
        w.grad = None
        y = x
        for _ in range(depth):
            y = ((y + w) * w).tanh().exp()
        y.sum().backward()
        return y.detach()
    return run


@pytest.mark.parametrize("fusion", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_chain_forward_and_backward_match_eager(fusion, dtype):
    g = np.random.default_rng(0)
    x = tapegrad.tensor(g.uniform(-1, 1, 16).astype(dtype), requires_grad=True)
    w = tapegrad.tensor(g.uniform(0.2, 0.8, 16).astype(dtype), requires_grad=True)
    run = _chain_run(x, w)
    want = run().numpy().copy(), x.grad.numpy().copy(), w.grad.numpy().copy()
    f = tapegrad.compile(run, options={"fusion": fusion})
    tol = 1e-6 if dtype == "float32" else 1e-13
    f()
    assert f.wait_for_kernels()                             # Note [background compile]
    assert f.stats()["fused_kernels"] == (1 if fusion else 0)
    for _ in range(2):
        y = f()
        for got, exp in zip((y, x.grad, w.grad), want):
            np.testing.assert_allclose(got.numpy(), exp, rtol=tol, atol=tol)
    prog = f.program()
    assert ("fused kernel" in prog) is fusion
    assert ("@njit" in prog) is fusion
    if fusion:
        assert prog.count("= fused[") == 1, prog          # forward and backward: one kernel
    assert f.stats()["replays"] == 2


def test_fused_replay_follows_new_input_values():
    x = tapegrad.zeros(8, requires_grad=True)
    w = tapegrad.full((8,), 0.5, requires_grad=True)
    run = _chain_run(x, w, 3)
    f = tapegrad.compile(run)
    f()
    f.wait_for_kernels()
    for v in (0.1, -0.7, 2.0):
        x.data.fill_(v)
        got = f().numpy().copy(), x.grad.numpy().copy(), w.grad.numpy().copy()
        x.grad = None
        w.grad = None
        want = run().numpy(), x.grad.numpy(), w.grad.numpy()
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_training_step_with_relu_and_momentum_fused_matches_eager():
    tapegrad.manual_seed(0)
    m1 = tapegrad.nn.Sequential(tapegrad.nn.Linear(6, 64), tapegrad.nn.Tanh(), tapegrad.nn.Linear(64, 64),
                                tapegrad.nn.Sigmoid(), tapegrad.nn.ReLU(), tapegrad.nn.Linear(64, 3))
    m2 = copy.deepcopy(m1)
    g = np.random.default_rng(1)
    data = [(tapegrad.tensor(g.standard_normal((128, 6)).astype(np.float32)),
             tapegrad.tensor(g.integers(0, 3, 128))) for _ in range(4)]

    def make(m):
        opt = tapegrad.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

        def step(X, y):
            opt.zero_grad()
            loss = F.cross_entropy(m(X), y)
            loss.backward()
            opt.step()
            return loss.detach()
        return step
    eager, comp = make(m1), tapegrad.compile(make(m2))
    for X, y in data:
        comp.wait_for_kernels()
        np.testing.assert_allclose(comp(X, y).numpy(), eager(X, y).numpy(), rtol=1e-5)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(p2.detach().numpy(), p1.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert "fused[" in comp.program()
    assert comp.stats()["fallbacks"] == []


def test_returned_tensors_never_alias_reused_buffers():
    # the result of a fused group is copied out, so the next replay cannot change what the user holds
    x = tapegrad.ones(4)
    f = tapegrad.compile(lambda x: ((x * 2).exp() + 1, (x - 1).tanh() * 3))
    f(x)
    f.wait_for_kernels()
    a, b = f(x)
    a0, b0 = a.numpy().copy(), b.numpy().copy()
    f(x * 5)
    np.testing.assert_array_equal(a.numpy(), a0)
    np.testing.assert_array_equal(b.numpy(), b0)
    assert "fused[" in f.program()


def test_compiled_forward_keeps_its_values_until_its_backward():
    # a compiled forward whose backward runs later: two forwards before one backward (fresh buffers)
    tapegrad.manual_seed(0)
    m = tapegrad.nn.Sequential(tapegrad.nn.Linear(3, 8), tapegrad.nn.Tanh(), tapegrad.nn.Sigmoid())
    cm = tapegrad.compile(copy.deepcopy(m))
    X1, X2 = tapegrad.ones(2, 3), tapegrad.full((2, 3), -2.0)
    for mod in (m, cm):
        (mod(X1).sum() + 0 * mod(X1).sum()).backward()
        for p in mod.parameters():
            p.grad = None
    cm.wait_for_kernels()
    o1, o2 = cm(X1), cm(X2)
    (o1.sum() * 2 + o2.sum()).backward()
    e1, e2 = m(X1), m(X2)
    (e1.sum() * 2 + e2.sum()).backward()
    np.testing.assert_allclose(o1.detach().numpy(), e1.detach().numpy(), rtol=1e-6)
    for p1, p2 in zip(m.parameters(), cm.parameters()):
        np.testing.assert_allclose(p2.grad.numpy(), p1.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_data_dependent_vjp_is_not_fused():
    # prod's VJP branches on the data (zeros): it runs as an ordinary call, and stays right when zeros appear
    x = tapegrad.tensor([1.0, 2.0, 3.0], requires_grad=True)

    def run():
        x.grad = None
        (x * 2).exp().prod().backward()
    f = tapegrad.compile(run)
    f()
    f.wait_for_kernels()
    f()
    with tapegrad.no_grad():
        x[1] = 0.0
    f()
    got = x.grad.numpy().copy()
    run()
    np.testing.assert_allclose(got, x.grad.numpy(), rtol=1e-6)


def test_fusion_option_is_checked():
    with pytest.raises(ValueError, match="fusion"):
        tapegrad.compile(lambda x: x, options={"fusion": "yes"})


def test_replays_run_unfused_until_the_kernels_are_compiled():
    # Note [background compile]: the first replay starts compiling and runs the unfused steps
    x = tapegrad.tensor([0.1, 0.2, 0.3])
    f = tapegrad.compile(lambda x: (x * 3).tanh() - 1)
    want = ((x * 3).tanh() - 1).numpy()
    f(x)
    prog = f._last
    assert not prog.ready
    np.testing.assert_allclose(f(x).numpy(), want, rtol=1e-6)
    assert f.wait_for_kernels() and prog.ready and f.stats()["fusion_errors"] == []
    np.testing.assert_allclose(f(x).numpy(), want, rtol=1e-6)


def test_division_by_zero_and_nan_follow_numpy_in_kernels():
    # numba's default error model raises ZeroDivisionError; the kernels use NumPy's (inf and nan)
    x = tapegrad.tensor([1.0, 0.0, -1.0, 2.0])
    y = tapegrad.tensor([0.0, 0.0, 0.0, float("nan")])
    f = tapegrad.compile(lambda x, y: (x / y).exp() * 2 + tapegrad.maximum(x, y))
    with np.errstate(all="ignore"):
        want = ((x / y).exp() * 2 + tapegrad.maximum(x, y)).numpy()
    f(x, y)
    assert f.wait_for_kernels() and "fused[" in f.program()
    np.testing.assert_array_equal(f(x, y).numpy(), want)
