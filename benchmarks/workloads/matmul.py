"""Forward+backward of one N x N @ N x N float32 matmul, against the BLAS limit.

The "numpy (hand)" column is the BLAS limit: the three bare matmuls (C = A B, dA = G B^T,
dB = A^T G) timed in the same run. The note gives tapegrad's GFLOP/s (6 N^3 flops per step)
and its share of the BLAS limit; grads are reset to None before each step, as
``zero_grad(set_to_none=True)`` would.
"""
import numpy as np

from .. import handwritten
from ..harness import Row, compare


def _step(fw, a0, b0, g0):
    a = fw.tensor(a0, requires_grad=True)
    b = fw.tensor(b0, requires_grad=True)
    g = fw.tensor(g0)

    def run():
        a.grad = None
        b.grad = None
        (a @ b).backward(g)
    return run


def run(cfg):
    import tapegrad
    n = 256 if cfg.quick else 1024
    rng = np.random.default_rng(0)
    a0, b0, g0 = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(3))
    timing = dict(repeats=cfg.repeats, warmup=cfg.warmup, min_time=cfg.min_time)
    row = Row("matmul", f"{n}x{n} @ {n}x{n} fwd+bwd", "ms", 1e3)
    row.results = compare({
        "tapegrad": lambda: _step(tapegrad, a0, b0, g0),
        "numpy": lambda: (lambda: handwritten.matmul(a0, b0, g0)),
        "torch": (lambda: _step(cfg.torch, a0, b0, g0)) if cfg.torch is not None
        else cfg.torch_missing,
    }, **timing)
    flops = 6 * n ** 3
    tg, blas = row.value("tapegrad"), row.value("numpy")
    if tg is None:
        return [row]
    tg, blas = tg / 1e3, blas / 1e3
    row.note = (f"{flops / tg / 1e9:.0f} GFLOP/s = {100 * blas / tg:.0f}% of BLAS limit "
                f"({flops / blas / 1e9:.0f} GFLOP/s)")
    return [row]
