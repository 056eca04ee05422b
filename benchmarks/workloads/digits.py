"""The digits training run: an MLP on scikit-learn's 8x8 handwritten digits.

Mirrors the defaults of ``examples/mlp.py`` (80/20 split with seed 0, pixels standardised,
64-128-64-10 ReLU MLP, Adam lr 2e-3, batch 32, 20 epochs, ``loss.item()`` every step; the
example's cosine learning-rate schedule is left out, it costs nothing measurable). The same
loop runs on tapegrad and torch through ``frameworks.Trainer`` and on ``handwritten.MLP``;
each column is the time of a whole training run with the data in memory, and the note gives
each test accuracy, which should agree. The example itself cannot run on torch (it uses
tapegrad's DataLoader seed and checkpoint format), so when it exists an extra tapegrad-only
row runs it in a subprocess and reports the training time it prints, its accuracy, and the
wall time including start-up, plots and checkpoint.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

from ..frameworks import Trainer
from ..handwritten import MLP as HandMLP
from ..harness import Row, compare, fixed

SIZES = (64, 128, 64, 10)
BATCH, LR = 32, 2e-3
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "mlp.py")


def load_split(seed=0):
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    perm = np.random.default_rng(seed).permutation(len(x))
    te, tr = perm[:len(x) // 5], perm[len(x) // 5:]
    mean, std = x[tr].mean(0), x[tr].std(0)
    std[std == 0] = 1.0
    x = (x - mean) / std
    return x[tr], d.target[tr], x[te], d.target[te]


def _batches(n, epochs, seed=1):
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        perm = rng.permutation(n)
        for i in range(0, n, BATCH):
            yield perm[i:i + BATCH]


def _train_tensor(fw, data, epochs, acc):
    xtr, ytr, xte, yte = data
    trainer = Trainer(fw, SIZES, optimizer="adam", lr=LR)
    for idx in _batches(len(xtr), epochs):
        trainer.step(fw.from_numpy(xtr[idx]), trainer.target(ytr[idx])).item()
    acc[fw.__name__] = float((trainer.predict(fw.from_numpy(xte)) == yte).mean())


def _train_hand(data, epochs, acc):
    xtr, ytr, xte, yte = data
    model = HandMLP(SIZES, optimizer="adam", lr=LR)
    for idx in _batches(len(xtr), epochs):
        model.step(xtr[idx], ytr[idx])
    acc["numpy"] = float((model.predict(xte) == yte).mean())


def _example_row(cfg):
    row = Row("digits", "examples/mlp.py (tapegrad only)", "s", 1.0)
    args = [sys.executable, EXAMPLE, "--no-progress"] + (["--epochs", "1"] if cfg.quick else [])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [ROOT] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    with tempfile.TemporaryDirectory() as scratch:  # the example's plots/checkpoints land here
        t0 = time.perf_counter()
        proc = subprocess.run(args + ["--out", scratch], capture_output=True, text=True,
                              timeout=600, cwd=scratch, env=env)
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        row.results["tapegrad"] = f"examples/mlp.py exited {proc.returncode}: {tail[0]}"
        return row
    took = re.search(r"training took ([\d.]+) s", proc.stdout)
    acc = re.search(r"final test accuracy: ([\d.]+)", proc.stdout)
    row.results["tapegrad"] = fixed(float(took.group(1)) if took else wall)
    row.note = (f"{'training time it prints' if took else 'wall time'}; test acc "
                f"{acc.group(1) if acc else '?'}; {wall:.1f} s wall with start-up, plot, checkpoint")
    return row


def run(cfg):
    import tapegrad
    try:
        data = load_split()
    except ImportError as e:
        row = Row("digits", "training run", "s", 1.0)
        row.results["tapegrad"] = f"scikit-learn missing ({e})"
        return [row]
    epochs = 2 if cfg.quick else 20
    timing = dict(repeats=1 if cfg.quick else 3, warmup=0, min_time=0.0)
    acc = {}
    row = Row("digits", f"{SIZES} adam b{BATCH} {epochs} epochs", "s", 1.0)
    row.results = compare({
        "tapegrad": lambda: (lambda: _train_tensor(tapegrad, data, epochs, acc)),
        "numpy": lambda: (lambda: _train_hand(data, epochs, acc)),
        "torch": (lambda: (lambda: _train_tensor(cfg.torch, data, epochs, acc)))
        if cfg.torch is not None else cfg.torch_missing,
    }, **timing)
    row.note = "test acc " + ", ".join(f"{k} {v:.3f}" for k, v in acc.items())
    rows = [row]
    if os.path.exists(EXAMPLE):
        rows.append(_example_row(cfg))
    else:
        print("digits: examples/mlp.py not there yet; skipping its end-to-end row", file=sys.stderr)
    return rows
