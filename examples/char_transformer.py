"""A character-level transformer language model trained on a text shipped with the repository.

    python examples/char_transformer.py                   # 400 steps, about 30 s
    python examples/char_transformer.py --steps 50 --sample 100

A decoder-only model (token and position embeddings, ``nn.TransformerEncoder``
with a causal mask and pre-norm layers, a linear head) learns to predict the
next character of ``examples/data/tape.txt``; it prints the loss and then a
sample generated from the trained model. Written as a PyTorch program.
"""
import argparse
import math
import os
import sys
import time

try:
    import tapegrad as torch
except ImportError:          # running from a clone without `pip install -e .`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import tapegrad as torch
import tapegrad.nn as nn
import tapegrad.nn.functional as F

TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "tape.txt")


class CharTransformer(nn.Module):
    def __init__(self, vocab, context, dim=64, heads=4, layers=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(context, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=4 * dim, dropout=0.1, batch_first=True,
                                           norm_first=True, activation="gelu")
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(t, device=idx.device))
        mask = nn.Transformer.generate_square_subsequent_mask(t, device=idx.device)
        return self.head(self.norm(self.blocks(x, mask=mask, is_causal=True)))


def batches(data, context, batch, generator):
    while True:
        starts = torch.randint(0, len(data) - context - 1, (batch,), generator=generator)
        x = torch.stack([data[s:s + context] for s in starts.tolist()])
        y = torch.stack([data[s + 1:s + context + 1] for s in starts.tolist()])
        yield x, y


def sample(model, start, n, context, generator):
    model.eval()
    idx = start
    with torch.no_grad():
        for _ in range(n):
            logits = model(idx[:, -context:])[:, -1]
            nxt = torch.multinomial(F.softmax(logits, dim=-1), 1, generator=generator)
            idx = torch.cat([idx, nxt], dim=1)
    return idx[0].tolist()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--context", type=int, default=48)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--sample", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)
    text = open(TEXT, encoding="utf-8").read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    model = CharTransformer(len(chars), args.context)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.steps)
    gen = torch.Generator().manual_seed(args.seed)
    stream = batches(data, args.context, args.batch_size, gen)
    start = time.perf_counter()
    first = last = None
    model.train()
    for step in range(1, args.steps + 1):
        x, y = next(stream)
        loss = F.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        first = loss.item() if first is None else first
        last = loss.item()
        if step % 100 == 0 or step == args.steps:
            print(f"step {step}: loss {last:.4f} (uniform guess: {math.log(len(chars)):.4f})")
    print(f"trained {args.steps} steps in {time.perf_counter() - start:.1f} s")
    out = sample(model, data[:args.context].unsqueeze(0), args.sample, args.context, gen)
    print("sample:", "".join(chars[i] for i in out[args.context:]))
    return {"first_loss": first, "final_loss": last}


if __name__ == "__main__":
    main()
