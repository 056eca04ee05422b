"""The lecture's comparison: one MLP trained eagerly, under tapegrad.compile and (when installed) in PyTorch.

The lecture notes tapegrad grew from timed the same MLP on the same data as
hand-written NumPy (8.02 s) and as a Theano compiled batch update (4.93 s),
with identical accuracy. Here the three runs share the data (scikit-learn's
digits, split and standardized as in examples/mlp.py), the initial weights,
the order of the minibatches and the optimizer (SGD with momentum), and the
script prints their training times and test accuracies side by side:

    tapegrad eager     every op dispatched, promoted and recorded on the tape
    tapegrad.compile   the whole step (zero_grad, forward, backward, SGD update)
                       captured on its first call and replayed on the others
    torch eager        the same program in PyTorch (skipped when it is absent)

The compiled replay runs the same backend calls as the eager run, so its
accuracy is the eager one to the bit.

    python examples/compiled_vs_eager.py
    python examples/compiled_vs_eager.py --epochs 30 --hidden 256 256
"""
import argparse
import os
import sys
import time

import numpy as np

try:
    import tapegrad
except ImportError:          # running from a clone without `pip install -e .`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import tapegrad
import tapegrad.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp import load_digits  # noqa: E402  (the digits split of examples/mlp.py)


def standardized_digits(seed):
    (xtr, ytr), (xte, yte) = load_digits(seed)
    mean, std = xtr.mean(0), xtr.std(0)
    std[std == 0] = 1.0
    return ((xtr - mean) / std, ytr), ((xte - mean) / std, yte)


def initial_weights(sizes, seed):
    """PyTorch's default Linear initialisation, drawn once with NumPy so every run starts alike."""
    g = np.random.default_rng(seed)
    out = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(n_in)
        out.append((g.uniform(-bound, bound, (n_out, n_in)).astype(np.float32),
                    g.uniform(-bound, bound, n_out).astype(np.float32)))
    return out


def batch_order(n, batch_size, epochs, seed):
    g = np.random.default_rng(seed)
    return [[p[i:i + batch_size] for i in range(0, n, batch_size)] for p in (g.permutation(n) for _ in range(epochs))]


def train_tapegrad(data, weights, order, lr, momentum, compiled):
    """Train with tapegrad, eagerly or with the whole step compiled; returns (seconds, accuracy, stats)."""
    (xtr, ytr), (xte, yte) = data
    layers = []
    for w, b in weights:
        lin = tapegrad.nn.Linear(w.shape[1], w.shape[0])
        with tapegrad.no_grad():
            lin.weight.copy_(tapegrad.tensor(w))
            lin.bias.copy_(tapegrad.tensor(b))
        layers += [lin, tapegrad.nn.ReLU()]
    model = tapegrad.nn.Sequential(*layers[:-1])
    opt = tapegrad.optim.SGD(model.parameters(), lr=lr, momentum=momentum)

    def step(xb, yb):
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.detach()
    run = tapegrad.compile(step) if compiled else step
    x, y = tapegrad.tensor(xtr), tapegrad.tensor(ytr)
    start = time.perf_counter()
    first = None
    for epoch in order:
        for idx in epoch:
            t0 = time.perf_counter()
            run(x[idx], y[idx])
            if first is None:
                first = time.perf_counter() - t0
    seconds = time.perf_counter() - start
    with tapegrad.no_grad():
        acc = float((model(tapegrad.tensor(xte)).argmax(1) == tapegrad.tensor(yte)).float().mean().item())
    stats = run.stats() if compiled else None
    if stats is not None:
        stats["first_call_s"] = first
    return seconds, acc, stats


def train_torch(data, weights, order, lr, momentum):
    """The same run in PyTorch eager mode; None when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)        # as the benchmarks: one thread, like the NumPy calls of small shapes
    (xtr, ytr), (xte, yte) = data
    layers = []
    for w, b in weights:
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    x, y = torch.from_numpy(xtr), torch.from_numpy(ytr)
    start = time.perf_counter()
    for epoch in order:
        for idx in epoch:
            i = torch.from_numpy(idx)
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[i]), y[i])
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        acc = float((model(torch.from_numpy(xte)).argmax(1) == torch.from_numpy(yte)).float().mean())
    return seconds, acc, torch.get_num_threads()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, nargs="*", default=[128, 64], help="hidden layer sizes (default 128 64)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch run even when it is installed")
    args = ap.parse_args(argv)

    data = standardized_digits(args.seed)
    (xtr, ytr), (xte, _) = data
    sizes = [xtr.shape[1]] + list(args.hidden) + [int(ytr.max()) + 1]
    weights = initial_weights(sizes, args.seed)
    order = batch_order(len(xtr), args.batch_size, args.epochs, args.seed)
    print(f"digits: {len(xtr)} training and {len(xte)} test images; MLP {'-'.join(map(str, sizes))} (ReLU), "
          f"SGD lr {args.lr} momentum {args.momentum}, batch {args.batch_size}, {args.epochs} epochs, "
          f"{sum(map(len, order))} steps")

    rows = {"tapegrad eager": train_tapegrad(data, weights, order, args.lr, args.momentum, False),
            "tapegrad.compile": train_tapegrad(data, weights, order, args.lr, args.momentum, True)}
    if not args.no_torch:
        r = train_torch(data, weights, order, args.lr, args.momentum)
        if r is not None:
            rows[f"torch eager ({r[2]} thread)"] = r
    print(f"{'':26s}{'time (s)':>10s}{'test accuracy':>16s}")
    for name, (secs, acc, _) in rows.items():
        print(f"{name:26s}{secs:10.2f}{acc:16.4f}")
    eager, comp = rows["tapegrad eager"], rows["tapegrad.compile"]
    st = comp[2]
    print(f"tapegrad.compile: first call (trace) {st['first_call_s'] * 1e3:.1f} ms; {st['traces']} traces, "
          f"{st['replays']} replays, {st['eager_calls']} eager calls"
          + (f"; fell back because: {'; '.join(st['fallbacks'])}" if st["fallbacks"] else ""))
    ratios = [f"compiled / eager {comp[0] / eager[0]:.2f}x"]
    ratios += [f"compiled / {n} {comp[0] / r[0]:.2f}x" for n, r in rows.items() if n.startswith("torch")]
    print("time ratios: " + ", ".join(ratios))
    return {name: {"seconds": r[0], "accuracy": r[1]} for name, r in rows.items()} | {"compile_stats": st}


if __name__ == "__main__":
    main()
