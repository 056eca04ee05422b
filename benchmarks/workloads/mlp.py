"""One training step of an MLP (forward, cross-entropy, backward, optimizer update).

Cases: 784-256-256-10 at batch 128 and 64-32-10 at batch 32, each with SGD (lr 0.01) and
Adam (lr 1e-3). tapegrad and torch run the same ``frameworks.Trainer`` code; the hand
NumPy column is ``handwritten.MLP``. The note says which tapegrad path was used
(nn/optim, or the raw-tensor fallback while those are missing).
"""
import numpy as np

from ..frameworks import Trainer
from ..handwritten import MLP as HandMLP
from ..harness import Row, compare

CASES = (((784, 256, 256, 10), 128), ((64, 32, 10), 32))
LR = {"sgd": 0.01, "adam": 1e-3}


def _tensor_step(fw, sizes, opt, x0, y0):
    trainer = Trainer(fw, sizes, optimizer=opt, lr=LR[opt])
    x, target = fw.from_numpy(x0), trainer.target(y0)
    return (lambda: trainer.step(x, target)), trainer.path


def _builder(fw, sizes, opt, x0, y0, paths):
    def build():
        fn, paths[fw.__name__] = _tensor_step(fw, sizes, opt, x0, y0)
        return fn
    return build


def run(cfg):
    import tapegrad
    rows = []
    timing = dict(repeats=cfg.repeats, warmup=cfg.warmup, min_time=cfg.min_time)
    for sizes, batch in CASES:
        rng = np.random.default_rng(0)
        x0 = rng.standard_normal((batch, sizes[0]), dtype=np.float32)
        y0 = rng.integers(0, sizes[-1], batch)
        for opt in ("sgd", "adam"):
            name = "-".join(map(str, sizes))
            row = Row("mlp", f"{name} b{batch} {opt}", "ms", 1e3)
            paths = {}
            hand = HandMLP(sizes, optimizer=opt, lr=LR[opt])
            row.results = compare({
                "tapegrad": _builder(tapegrad, sizes, opt, x0, y0, paths),
                "numpy": lambda: (lambda: hand.step(x0, y0)),
                "torch": _builder(cfg.torch, sizes, opt, x0, y0, paths) if cfg.torch is not None
                else cfg.torch_missing,
            }, **timing)
            row.note = f"tapegrad: {paths.get('tapegrad', '?')}"
            rows.append(row)
    return rows
