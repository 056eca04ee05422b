"""Forward+backward of ``nn.LSTM(64, 128)`` over 35 steps at batch 20 (a word-level language model's layer).

tapegrad and torch run the same code on the same weights and input: the LSTM's
output sequence and final states feed a sum, then ``backward``; gradients are
reset to None before each step. There is no hand-written NumPy column; the note
gives tapegrad / torch.
"""
import numpy as np

from ..harness import Row, compare

STEPS, BATCH, IN, HIDDEN = 35, 20, 64, 128


def _step(fw, state, x0):
    model = fw.nn.LSTM(IN, HIDDEN)
    model.load_state_dict({k: fw.tensor(v) for k, v in state.items()})
    x = fw.tensor(x0, requires_grad=True)
    params = list(model.parameters())

    def run():
        for p in params:
            p.grad = None
        x.grad = None
        out, (h, c) = model(x)
        (out.sum() + h.sum() + c.sum()).backward()
    return run


def run(cfg):
    import tapegrad
    steps = 5 if cfg.quick else STEPS
    rng = np.random.default_rng(0)
    k = 1 / np.sqrt(HIDDEN)
    state = {}
    for name, shape in (("weight_ih_l0", (4 * HIDDEN, IN)), ("weight_hh_l0", (4 * HIDDEN, HIDDEN)),
                        ("bias_ih_l0", (4 * HIDDEN,)), ("bias_hh_l0", (4 * HIDDEN,))):
        state[name] = rng.uniform(-k, k, shape).astype(np.float32)
    x0 = rng.standard_normal((steps, BATCH, IN), dtype=np.float32)
    timing = dict(repeats=cfg.repeats, warmup=cfg.warmup, min_time=cfg.min_time)
    row = Row("lstm", f"LSTM({IN}, {HIDDEN}) {steps} steps b{BATCH} fwd+bwd", "ms", 1e3)
    row.results = compare({
        "tapegrad": lambda: _step(tapegrad, state, x0),
        "numpy": "no hand-written LSTM",
        "torch": (lambda: _step(cfg.torch, state, x0)) if cfg.torch is not None else cfg.torch_missing,
    }, **timing)
    tg, th = row.value("tapegrad"), row.value("torch")
    if tg is not None and th is not None:
        row.note = f"tapegrad / torch = {tg / th:.2f}"
    return [row]
