"""Forward+backward of ``nn.LSTM(64, 128)`` over 35 steps at batch 20 (a word-level language model's layer).

tapegrad and torch run the same code on the same weights and input: the LSTM's
output sequence and final states feed a sum, then ``backward``; gradients are
reset to None before each step. The "numpy (hand)" column is ``_hand_step``: the
same layer's forward and backpropagation through time written directly in NumPy
(the floor for any NumPy-based autograd); the note gives tapegrad / torch.
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


def _hand_step(state, x0):
    """Forward and BPTT of the same LSTM and loss in plain NumPy (gates i, f, g, o as PyTorch)."""
    w_ih, w_hh = state["weight_ih_l0"], state["weight_hh_l0"]
    b = state["bias_ih_l0"] + state["bias_hh_l0"]
    T, B, _ = x0.shape
    H = w_hh.shape[1]
    w_hh_t = np.ascontiguousarray(w_hh.T)

    def run():
        xp = (x0.reshape(T * B, -1) @ w_ih.T + b).reshape(T, B, 4 * H)
        h, c = np.zeros((B, H), np.float32), np.zeros((B, H), np.float32)
        acts, cs, tcs, hs = [], [c], [], [h]
        for t in range(T):
            a = xp[t] + h @ w_hh_t
            a[:, :2 * H] = 0.5 * np.tanh(0.5 * a[:, :2 * H]) + 0.5
            a[:, 3 * H:] = 0.5 * np.tanh(0.5 * a[:, 3 * H:]) + 0.5
            np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])
            c = a[:, H:2 * H] * c + a[:, :H] * a[:, 2 * H:3 * H]
            tc = np.tanh(c)
            h = a[:, 3 * H:] * tc
            acts.append(a), cs.append(c), tcs.append(tc), hs.append(h)
        # loss = sum(out) + sum(h_T) + sum(c_T): d out_t = 1, plus 1 on h_T and c_T
        dh, dc = np.ones((B, H), np.float32), np.ones((B, H), np.float32)
        dpre = np.empty((T, B, 4 * H), np.float32)
        for t in range(T - 1, -1, -1):
            a, tc = acts[t], tcs[t]
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            dh += 1.0
            dc += dh * o * (1 - tc * tc)
            d = dpre[t]
            d[:, :H] = dc * g * i * (1 - i)
            d[:, H:2 * H] = dc * cs[t] * f * (1 - f)
            d[:, 2 * H:3 * H] = dc * i * (1 - g * g)
            d[:, 3 * H:] = dh * tc * o * (1 - o)
            dc = dc * f
            dh = d @ w_hh
        flat = dpre.reshape(T * B, 4 * H)
        grads = (flat.T @ x0.reshape(T * B, -1), flat.T @ np.stack(hs[:-1]).reshape(T * B, H), flat.sum(0),
                 (flat @ w_ih).reshape(x0.shape))
        return grads
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
        "numpy": lambda: _hand_step(state, x0),
        "torch": (lambda: _step(cfg.torch, state, x0)) if cfg.torch is not None else cfg.torch_missing,
    }, **timing)
    tg, th = row.value("tapegrad"), row.value("torch")
    if tg is not None and th is not None:
        row.note = f"tapegrad / torch = {tg / th:.2f}"
    return [row]
