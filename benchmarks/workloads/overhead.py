"""Per-op overhead: forward+backward of a 200-op chain of add/mul/tanh/exp, in µs per op.

The chain is 50 x [y + w, y * w, tanh, exp] starting from x, then ``.sum().backward()``;
x and w both require grad (w is used 100 times, so its gradient accumulates). On tiny shapes
this measures what the tape adds to each op: dispatch, recording, and the backward sweep.
"""
import numpy as np

from .. import handwritten
from ..harness import Row, compare

N_OPS = 200
SHAPES = ((1,), (16,))


def _tensor_chain(fw, x, w):
    def run():
        x.grad = None
        w.grad = None
        y = x
        for _ in range(N_OPS // 4):
            y = ((y + w) * w).tanh().exp()
        y.sum().backward()
    return run


def run(cfg):
    import tapegrad
    rows = []
    timing = dict(repeats=cfg.repeats, warmup=cfg.warmup, min_time=cfg.min_time, per=N_OPS)
    for shape in SHAPES:
        rng = np.random.default_rng(0)
        x0 = rng.uniform(-1, 1, shape).astype(np.float32)
        w0 = rng.uniform(0.2, 0.8, shape).astype(np.float32)
        row = Row("overhead", f"{N_OPS}-op chain {shape}", "µs/op", 1e6)

        def build(fw):
            return _tensor_chain(fw, fw.tensor(x0, requires_grad=True),
                                 fw.tensor(w0, requires_grad=True))
        row.results = compare({
            "tapegrad": lambda: build(tapegrad),
            "numpy": lambda: (lambda: handwritten.chain(x0, w0, N_OPS // 4)),
            "torch": (lambda: build(cfg.torch)) if cfg.torch is not None else cfg.torch_missing,
        }, **timing)
        rows.append(row)
    return rows
