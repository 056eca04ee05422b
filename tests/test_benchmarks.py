"""Smoke tests of the benchmark suite (``python -m benchmarks``); nothing here checks a timing.

The suite runs in subprocesses, as users run it, with ``--quick`` and ``--strict`` (a tapegrad
failure in any workload exits 1). The hand-written NumPy baselines are checked against finite
differences, since a wrong "floor" would make every ratio meaningless.
"""
import importlib.util
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from benchmarks import handwritten

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = {"overhead", "mlp", "matmul", "chain", "digits", "memory", "lstm", "gpt", "cnn"}
WORKLOADS |= {"compiled"}


def _run(args, tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable] + args + ["--out", str(out)], cwd=ROOT, text=True,
                          capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout, json.loads(out.read_text())


def test_quick_suite_prints_a_table_and_valid_json(tmp_path):
    pytest.importorskip("sklearn")      # the digits workload trains on scikit-learn's data set (examples extra)
    stdout, data = _run(["-m", "benchmarks", "--quick", "--strict"], tmp_path)
    assert "workload" in stdout and "tg/torch" in stdout
    assert data["meta"]["threads"] == 1 and data["meta"]["quick"] is True
    assert {r["workload"] for r in data["rows"]} == WORKLOADS
    for row in data["rows"]:
        if row["case"].startswith("examples/"):
            continue  # the example's own row depends on the example, not on the suite
        tg = row["results"]["tapegrad"]
        assert "median" in tg, row
        assert tg["min"] <= tg["median"] <= tg["max"]
        if row["workload"] != "memory":
            assert tg["median"] > 0
        if row["workload"] not in ("memory", "gpt"):      # gpt has no hand-written NumPy version
            assert row["results"]["numpy"]["median"] > 0
            assert row["ratios"]["tapegrad/numpy"] > 0


def test_overhead_script_with_growth_threads_and_no_torch(tmp_path):
    plots = tmp_path / "plots"
    stdout, data = _run([os.path.join("benchmarks", "overhead.py"), "--quick", "--threads", "2",
                         "--no-torch", "--growth", "--plots", str(plots)], tmp_path)
    meta = data["meta"]
    assert meta["threads"] == 2 and meta["torch"] is None
    if importlib.util.find_spec("threadpoolctl") is not None:
        assert ":2" in meta["blas"]
    assert [r["workload"] for r in data["rows"]] == ["overhead", "overhead"]
    for row in data["rows"]:
        assert "skipped" in row["results"]["torch"]
        assert row["ratios"]["tapegrad/torch"] is None
    assert set(meta["growth"]) == {"depth", "batch", "width"}
    for curve in meta["growth"].values():
        for fit in curve["fits"].values():
            assert math.isfinite(fit["slope"])
        if importlib.util.find_spec("matplotlib") is not None:
            assert os.path.exists(curve["plot"])
    assert "growth exponent" in stdout


def _numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        hi = f()
        x[i] = old - eps
        lo = f()
        x[i] = old
        g[i] = (hi - lo) / (2 * eps)
    return g


def test_handwritten_chain_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    x, w = rng.uniform(-1, 1, 3), rng.uniform(0.2, 0.8, 3)

    def loss():
        y = x
        for _ in range(3):
            y = np.exp(np.tanh((y + w) * w))
        return y.sum()

    gx, gw = handwritten.chain(x, w, 3)
    np.testing.assert_allclose(gx, _numeric_grad(loss, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gw, _numeric_grad(loss, w), rtol=1e-6, atol=1e-8)


def test_handwritten_mlp_gradients_match_finite_differences():
    model = handwritten.MLP((5, 4, 3, 3), seed=1)
    model.params = [p.astype(np.float64) for p in model.params]
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)
    _, grads = model.loss_and_grads(x, y)
    for p, g in zip(model.params, grads):
        np.testing.assert_allclose(g, _numeric_grad(lambda: model.loss_and_grads(x, y)[0], p),
                                   rtol=1e-5, atol=1e-8)


def test_handwritten_adam_matches_the_reference_update():
    model = handwritten.MLP((2, 2), optimizer="adam", lr=0.1)
    p0 = [p.copy() for p in model.params]
    grads = [np.full_like(p, 0.5) for p in model.params]
    model.update([g.copy() for g in grads])
    # After one step Adam moves each weight by lr * g / (|g| + eps'), i.e. by about lr.
    for p, q, g in zip(model.params, p0, grads):
        m_hat, v_hat = g, g * g
        np.testing.assert_allclose(p, q - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8), rtol=1e-6)
