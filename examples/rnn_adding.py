"""The adding problem: a recurrent net must add the two marked numbers of a variable-length sequence.

Each step of a sequence is a pair (value ~ U(0, 1), marker in {0, 1}); exactly
two steps are marked and the target is the sum of their values. Always
predicting the mean (1.0) scores an MSE of 1/6 = 0.167, the baseline to beat.

Sequences in a batch have different lengths. They are sorted longest first,
and at time t the cell runs only on the sequences that are still going
(``h[:active]``): an ordinary Python loop whose tape is different for every
batch. That is all a dynamic tape needs; no padding, masks or packing API.

    python examples/rnn_adding.py                      # LSTMCell, lengths 5..20
    python examples/rnn_adding.py --cell rnn --steps 200 --max-len 12
    python examples/rnn_adding.py --device cuda
    python examples/rnn_adding.py --compile            # tapegrad.compile: one trace per sequence length

Under ``--compile`` every batch holds sequences of one length (drawn per batch), and the model is
compiled once per length: each length's forward and backward are captured on its first batch and
replayed on the later ones (``--same-length-batches`` trains on the same batches eagerly).
"""
import argparse
import os
import sys
import time

import numpy as np

try:
    import tapegrad as torch
except ImportError:          # running from a clone without `pip install -e .`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import tapegrad as torch
from tapegrad import nn, optim

BASELINE = 1 / 6


def make_batch(rng, batch_size, min_len, max_len, same_length=False):
    """Sequences sorted longest first: (list of (n, 2) float32 arrays per time step..., lengths, targets).

    With ``same_length`` every sequence of the batch has one length, drawn in ``min_len..max_len``."""
    if same_length:
        lengths = np.full(batch_size, rng.integers(min_len, max_len + 1))
    else:
        lengths = np.sort(rng.integers(min_len, max_len + 1, batch_size))[::-1]
    values = rng.random((batch_size, max_len)).astype(np.float32)
    markers = np.zeros((batch_size, max_len), np.float32)
    for i, n in enumerate(lengths):
        a, b = rng.choice(n, 2, replace=False)
        markers[i, a] = markers[i, b] = 1.0
    targets = (values * markers).sum(1, keepdims=True).astype(np.float32)
    x = np.stack([values, markers], axis=2)               # (batch, max_len, 2)
    return x, lengths, targets


class AddingModel(nn.Module):
    def __init__(self, cell, hidden):
        super().__init__()
        self.lstm = cell == "lstm"
        self.cell = nn.LSTMCell(2, hidden) if self.lstm else nn.RNNCell(2, hidden)
        self.head = nn.Linear(hidden, 1)
        self.hidden = hidden

    def forward(self, x, lengths, state=None):
        """``lengths``: an array or a tuple of ints (longest first); ``state``: the initial (h, c), zeros if None."""
        n = x.shape[0]
        lengths = np.asarray(lengths)
        if state is None:
            state = (torch.zeros(n, self.hidden, device=x.device), torch.zeros(n, self.hidden, device=x.device))
        h, c = state
        for t in range(int(lengths[0])):
            active = int((lengths > t).sum())            # sequences still running at step t
            xt = x[:active, t]
            if self.lstm:
                h_new, c_new = self.cell(xt, (h[:active], c[:active]))
                c = torch.cat([c_new, c[active:]]) if active < n else c_new
            else:
                h_new = self.cell(xt, h[:active])
            h = torch.cat([h_new, h[active:]]) if active < n else h_new
        return self.head(h)


def evaluate(model, rng, n, min_len, max_len, device="cpu"):
    x, lengths, y = make_batch(rng, n, min_len, max_len)
    with torch.no_grad():
        pred = model(torch.tensor(x, device=device), lengths)
    return float(((pred - torch.tensor(y, device=device)) ** 2).mean().item())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", choices=["lstm", "rnn"], default="lstm")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--steps", type=int, default=600, help="training batches")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--min-len", type=int, default=5)
    ap.add_argument("--max-len", type=int, default=20)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--eval-size", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--compile", action="store_true",
                    help="tapegrad.compile the model, one trace per sequence length (implies --same-length-batches)")
    ap.add_argument("--same-length-batches", action="store_true",
                    help="every batch holds sequences of one length (the batches --compile trains on)")
    args = ap.parse_args(argv)
    same = args.same_length_batches or args.compile
    if not 2 <= args.min_len <= args.max_len:
        ap.error("need 2 <= --min-len <= --max-len")

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    dev = args.device
    model = AddingModel(args.cell, args.hidden).to(dev)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps)
    loss_fn = nn.MSELoss()
    print(f"adding problem: {args.cell.upper()} cell, hidden {args.hidden}, sequence lengths "
          f"{args.min_len}..{args.max_len}, {args.steps} batches of {args.batch_size} on {dev}; "
          f"baseline MSE {BASELINE:.3f}")
    compiled = {}             # sequence length -> the model compiled for it (its own trace)
    start = time.perf_counter()
    running = None
    report = max(1, args.steps // 10)
    for step in range(1, args.steps + 1):
        x, lengths, y = make_batch(rng, args.batch_size, args.min_len, args.max_len, same)
        opt.zero_grad()
        if args.compile:
            # Python ints (guarded by value) instead of an array, and the initial state made outside
            # the compiled call: a tensor made inside it could not be replayed.
            n = int(lengths[0])
            if n not in compiled:
                compiled[n] = torch.compile(model)
            zeros = torch.zeros(len(lengths), args.hidden, device=dev)
            pred = compiled[n](torch.tensor(x, device=dev), tuple(int(v) for v in lengths), (zeros, zeros))
        else:
            pred = model(torch.tensor(x, device=dev), lengths)
        loss = loss_fn(pred, torch.tensor(y, device=dev))
        loss.backward()
        opt.step()
        sched.step()
        running = loss.item() if running is None else 0.9 * running + 0.1 * loss.item()
        if step % report == 0 or step == args.steps:
            print(f"step {step:5d}/{args.steps}  train MSE {running:.4f}  ({time.perf_counter() - start:.1f} s)")
    if args.compile:
        st = [c.stats() for c in compiled.values()]
        fallbacks = sorted({r for s in st for r in s["fallbacks"]})
        print(f"tapegrad.compile: {len(compiled)} sequence lengths, {sum(s['traces'] for s in st)} traces, "
              f"{sum(s['replays'] for s in st)} replays, {sum(s['eager_calls'] for s in st)} eager calls"
              + (f"; fell back because: {'; '.join(fallbacks)}" if fallbacks else ""))
    mse = evaluate(model, np.random.default_rng(args.seed + 1), args.eval_size, args.min_len, args.max_len, dev)
    verdict = "beats" if mse < BASELINE else "does not beat"
    print(f"test MSE on {args.eval_size} new sequences: {mse:.4f}; {verdict} the baseline {BASELINE:.3f} "
          f"({mse / BASELINE:.1%} of it)")
    return {"test_mse": mse, "seconds": time.perf_counter() - start,
            "compile_stats": {n: c.stats() for n, c in compiled.items()} if args.compile else None}


if __name__ == "__main__":
    main()
