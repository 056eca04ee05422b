"""One AdamW training step of a small GPT: 2 pre-norm blocks, d_model 128, 4 heads, context 64, batch 16, vocab 65.

The model is written once against the torch API (token and position embeddings, per block LayerNorm,
a packed qkv Linear, causal ``scaled_dot_product_attention``, an output Linear, LayerNorm and a
4x ReLU MLP, residuals; a final LayerNorm and an untied head; cross-entropy over the next tokens),
and runs on tapegrad and on torch eager with the same initial weights (torch's, copied), so the note
can show both first losses. The MLP's ReLU is that of the character-level GPT these sizes come from
(vocab 65: tiny Shakespeare); ``ACTIVATION = "gelu"`` gives nanoGPT's. There is no hand-written NumPy
version.
"""
import numpy as np

from ..harness import Row, compare

VOCAB, D_MODEL, HEADS, CONTEXT, BATCH, LAYERS, LR = 65, 128, 4, 64, 16, 2, 1e-3
ACTIVATION = "relu"


def build(fw, n_layers=LAYERS, d=D_MODEL, heads=HEADS, context=CONTEXT, vocab=VOCAB):
    """A GPT module class of framework ``fw`` (tapegrad or torch), instantiated."""
    nn, F = fw.nn, fw.nn.functional
    act = getattr(F, ACTIVATION)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(d)
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)
            self.ln2 = nn.LayerNorm(d)
            self.fc = nn.Linear(d, 4 * d)
            self.out = nn.Linear(4 * d, d)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
            q, k, v = (t.view(B, T, heads, C // heads).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(B, T, C))
            return x + self.out(act(self.fc(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(vocab, d)
            self.pos = nn.Embedding(context, d)
            self.blocks = nn.ModuleList([Block() for _ in range(n_layers)])
            self.ln_f = nn.LayerNorm(d)
            self.head = nn.Linear(d, vocab, bias=False)

        def forward(self, idx, targets):
            T = idx.shape[1]
            x = self.tok(idx) + self.pos(fw.arange(T))
            for block in self.blocks:
                x = block(x)
            logits = self.head(self.ln_f(x))
            return F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))

    return GPT()


def _step(fw, state, x0, y0, first):
    model = build(fw)
    model.load_state_dict({k: fw.tensor(v.copy()) for k, v in state.items()})
    opt = fw.optim.AdamW(model.parameters(), lr=LR)
    x, y = fw.tensor(x0), fw.tensor(y0)

    def step():
        opt.zero_grad()
        loss = model(x, y)
        loss.backward()
        opt.step()
        return loss
    first[fw.__name__] = float(step().item())
    return step


def run(cfg):
    import tapegrad
    rng = np.random.default_rng(0)
    x0 = rng.integers(0, VOCAB, (BATCH, CONTEXT))
    y0 = rng.integers(0, VOCAB, (BATCH, CONTEXT))
    row = Row("gpt", f"{LAYERS}-layer GPT d{D_MODEL} h{HEADS} T{CONTEXT} b{BATCH}, AdamW step", "ms", 1e3)
    if cfg.torch is not None:
        cfg.torch.manual_seed(0)
        state = {k: v.detach().numpy().copy() for k, v in build(cfg.torch).state_dict().items()}
    else:
        tapegrad.manual_seed(0)
        state = {k: v.detach().numpy().copy() for k, v in build(tapegrad).state_dict().items()}
    first = {}
    timing = dict(repeats=cfg.repeats, warmup=cfg.warmup, min_time=cfg.min_time)
    row.results = compare({
        "tapegrad": lambda: _step(tapegrad, state, x0, y0, first),
        "numpy": "no hand-written NumPy GPT",
        "torch": (lambda: _step(cfg.torch, state, x0, y0, first)) if cfg.torch is not None else cfg.torch_missing,
    }, **timing)
    row.note = "first loss " + ", ".join(f"{k} {v:.4f}" for k, v in first.items())
    return [row]
