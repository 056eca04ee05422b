"""Deep scalar chains: N ops of [y + w, y * w, tanh, exp] on 0-d tensors, then backward.

Reported in µs per op (graph construction, backward, and freeing the graph, which happens
when the timed function returns). The note gives the deepest/shallowest µs/op ratio for
tapegrad: about 1.0 means cost is linear in depth. Nothing here raises the recursion limit:
a recursive engine or a recursive graph teardown fails this workload.
"""
import numpy as np

from .. import handwritten
from ..harness import Row, compare


def _tensor_chain(fw, n_ops):
    x = fw.tensor(0.3, requires_grad=True)
    w = fw.tensor(0.5, requires_grad=True)

    def run():
        x.grad = None
        w.grad = None
        y = x
        for _ in range(n_ops // 4):
            y = ((y + w) * w).tanh().exp()
        y.backward()
    return run


def depths(quick):
    return (1_000, 4_000) if quick else (10_000, 100_000)


def run(cfg):
    import tapegrad
    rows = []
    for n in depths(cfg.quick):
        timing = dict(repeats=cfg.repeats if n <= 10_000 else min(cfg.repeats, 3),
                      warmup=0, min_time=0.0, per=n)  # the calibration call warms up
        row = Row("chain", f"{n:,}-op scalar chain", "µs/op", 1e6)
        x0, w0 = np.float32(0.3), np.float32(0.5)
        row.results = compare({
            "tapegrad": lambda: _tensor_chain(tapegrad, n),
            "numpy": lambda: (lambda: handwritten.chain(x0, w0, n // 4)),
            "torch": (lambda: _tensor_chain(cfg.torch, n)) if cfg.torch is not None
            else cfg.torch_missing,
        }, **timing)
        rows.append(row)
    first, last = rows[0].value("tapegrad"), rows[-1].value("tapegrad")
    if first and last:
        rows[-1].note = f"tapegrad µs/op deepest/shallowest = {last / first:.2f}"
    return rows
