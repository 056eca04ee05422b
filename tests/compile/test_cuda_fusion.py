"""Fusion on CUDA: elementwise runs become one ``@cuda.jit`` kernel (Note [fused kernels on CUDA]),
counted with the launch counter (Note [launch counter] in tapegrad/cuda/_nb.py).

The kernels run under numba's simulator: when this process has neither a GPU nor the simulator,
``test_under_simulator`` reruns this file with ``NUMBA_ENABLE_CUDASIM=1``.
"""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import tapegrad
import tapegrad.nn as nn
import tapegrad.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")
_HAS_NUMBA_CUDA = importlib.util.find_spec("numba_cuda") is not None
HERE = _HAS_NUMBA_CUDA and (SIMULATED or tapegrad.cuda.is_available())
needs_kernels = pytest.mark.skipif(not HERE, reason="no GPU and not under the simulator "
                                                    "(test_under_simulator runs this file there)")
if HERE and SIMULATED:
    sys.setswitchinterval(5e-4)         # as tests/cuda/conftest.py: simulated barriers poll the GIL


def _launches(fn, *args):
    a = tapegrad.cuda.launch_count()
    r = fn(*args)
    return r, tapegrad.cuda.launch_count() - a


def _chain(x, w):
    y = ((x * w).exp() + 1).tanh() * x - w.sigmoid()
    y.sum().backward()
    return y.detach()


def _leaves(seed):
    g = np.random.default_rng(seed)
    x = tapegrad.tensor(g.standard_normal((4, 5)).astype(np.float32), device="cuda", requires_grad=True)
    w = tapegrad.tensor(g.standard_normal((4, 5)).astype(np.float32), device="cuda", requires_grad=True)
    return x, w


@needs_kernels
def test_launch_counter_counts_each_kernel():
    x = tapegrad.ones(3, device="cuda")
    _, n = _launches(lambda: (x * 2).exp())
    assert n == 2
    _, n = _launches(lambda: x.shape)
    assert n == 0


@needs_kernels
def test_elementwise_chain_is_one_cuda_kernel_and_equals_eager():
    c = tapegrad.compile(_chain)
    c(*_leaves(0))
    assert c.wait_for_kernels()
    assert c.stats()["fused_kernels"] == 1
    assert "cuda_fused[" in c.program() and "cuda.grid(1)" in c.program()
    for seed in (1, 2):         # replays after the values change
        xe, we = _leaves(seed)
        ye, n_eager = _launches(_chain, xe, we)
        xc, wc = _leaves(seed)
        yc, n_comp = _launches(c, xc, wc)
        for a, b in ((ye, yc), (xe.grad, xc.grad), (we.grad, wc.grad)):
            np.testing.assert_allclose(b.cpu().numpy(), a.cpu().numpy(), rtol=1e-5, atol=1e-6)
        # eager: one launch per elementwise op and VJP term; compiled: one fused kernel (+ the .grad copies)
        assert n_comp * 4 <= n_eager, (n_comp, n_eager)
    assert c.stats()["replays"] == 2


@needs_kernels
def test_fused_cuda_kernel_keeps_nan_outside_the_domain_as_eager():
    def f(x):
        return ((x.sqrt() + x.log()) * 2).exp() - x.log1p()
    x = tapegrad.tensor([[-1.0, 0.0, 0.5, -2.0], [3.0, -0.5, 1.0, 2.0]], device="cuda")
    c = tapegrad.compile(f)
    c(x)
    assert c.wait_for_kernels() and c.stats()["fused_kernels"] == 1
    got, want = c(x).cpu().numpy(), f(x).cpu().numpy()
    assert np.isnan(want).any()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def _mlp(seed):
    tapegrad.manual_seed(seed)
    m = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3)).to("cuda")
    opt = tapegrad.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

    def step(X, y):
        opt.zero_grad()
        loss = F.cross_entropy(m(X), y)
        loss.backward()
        opt.step()
        return loss.detach()
    return m, step


@needs_kernels
def test_compiled_mlp_step_on_cuda_equals_eager():
    g = np.random.default_rng(0)
    X = tapegrad.tensor(g.standard_normal((5, 6)).astype(np.float32), device="cuda")
    y = tapegrad.tensor([0, 1, 2, 1, 0], device="cuda")
    me, se = _mlp(0)
    mc, sc = _mlp(0)
    c = tapegrad.compile(sc)
    for i in range(4):
        le, n_eager = _launches(se, X, y)
        lc, n_comp = _launches(c, X, y)
        c.wait_for_kernels()            # both traces' (the first step, then with momentum buffers) kernels
        np.testing.assert_allclose(lc.cpu().numpy(), le.cpu().numpy(), rtol=1e-5, atol=1e-6)
    assert c.stats()["replays"] >= 2
    for pe, pc in zip(me.parameters(), mc.parameters()):
        np.testing.assert_allclose(pc.detach().cpu().numpy(), pe.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)
    assert n_comp <= n_eager, (n_comp, n_eager)
    # Eager: 6 for the linear layers (matmul, bias add), 2 activations, 3 cross-entropy (its rows kernel, sum,
    # mean), the gradient seed, 6 for the cross-entropy VJP (the mean's count: !=, sum, maximum, cast, divide;
    # its rows kernel), 8 matmuls and 3 bias sums for the linear VJPs, 5 for the activations' VJPs, 6 SGD updates
    # (one kernel per parameter). Compiled: no seed, and each activation VJP is one fused kernel.
    assert n_eager <= 37 and n_comp <= 33 and n_comp * 10 <= n_eager * 9, (n_comp, n_eager)
    assert c.stats()["fused_kernels"] >= 2


@pytest.mark.long
@pytest.mark.skipif(HERE, reason="the kernels run in this process: the tests above run here")
@pytest.mark.skipif(not _HAS_NUMBA_CUDA, reason="the cuda extra (numba-cuda) is not installed")
def test_under_simulator():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--no-header", "-rs",
                        os.path.relpath(__file__, ROOT)], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, f"simulated run failed:\n{r.stdout[-8000:]}\n{r.stderr[-4000:]}"
    assert "4 passed" in r.stdout and "failed" not in r.stdout, r.stdout[-4000:]
