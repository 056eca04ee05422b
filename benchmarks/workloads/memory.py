"""Memory: RSS growth over many training steps, and over forward-only steps with grad mode on.

Model: the 64-32-10 MLP at batch 32 (``frameworks.Trainer``). After warm-up steps and
``gc.collect()`` the resident set size is read from /proc/self/statm; again after the
measured steps and ``gc.collect()``. A tape that leaks (a cycle, a global list, saved
tensors kept after backward) shows up as growth. Target: < 5 MB in all, < 1 KiB per step.
"""
import gc
import os
import resource

import numpy as np

from ..frameworks import Trainer
from ..harness import Row, fixed, guarded

LIMIT_BYTES, LIMIT_PER_STEP = 5 * 2 ** 20, 1024


def rss_bytes():
    """Current resident set size (peak RSS where /proc is unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def growth(step, n_steps, n_warmup):
    for _ in range(n_warmup):
        step()
    gc.collect()
    before = rss_bytes()
    for _ in range(n_steps):
        step()
    gc.collect()
    return rss_bytes() - before


def run(cfg):
    import tapegrad
    n_steps, n_warmup = (300, 50) if cfg.quick else (2000, 200)
    rng = np.random.default_rng(0)
    trainer = guarded(lambda: Trainer(tapegrad, (64, 32, 10), optimizer="sgd", lr=0.01))
    if isinstance(trainer, str):
        row = Row("memory", "training / forward-only", "KiB RSS growth", 1.0)
        row.results["tapegrad"] = trainer
        return [row]
    x = tapegrad.from_numpy(rng.standard_normal((32, 64), dtype=np.float32))
    target = trainer.target(rng.integers(0, 10, 32))

    def forward_only():
        trainer.loss(trainer.model(x), target)

    rows = []
    for case, step in ((f"{n_steps} training steps", lambda: trainer.step(x, target)),
                       (f"{n_steps} forward-only steps, grad on", forward_only)):
        row = Row("memory", case, "KiB RSS growth", 1.0)
        grown = guarded(lambda: growth(step, n_steps, n_warmup))
        if isinstance(grown, str):
            row.results["tapegrad"] = grown
            rows.append(row)
            continue
        per_step = grown / n_steps
        flat = grown < LIMIT_BYTES and per_step < LIMIT_PER_STEP
        row.results["tapegrad"] = fixed(grown / 1024)
        row.note = f"{per_step:.0f} B/step; {'flat' if flat else 'GROWS'} (< 5 MB, < 1 KiB/step)"
        rows.append(row)
    return rows
