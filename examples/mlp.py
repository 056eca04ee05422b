"""Train an MLP classifier on handwritten digits (scikit-learn's 8x8 digits, or MNIST IDX files).

The main demo: an 80/20 split with a fixed seed, minibatches from a
DataLoader, a tqdm bar per epoch, test accuracy after every epoch, a
loss/accuracy curve PNG, and a checkpoint saved with tapegrad.save and
reloaded into a fresh model to show the same accuracy.

    python examples/mlp.py                                   # digits, reaches >= 0.97 test accuracy
    python examples/mlp.py --hidden 256 --activation tanh --optimizer sgd --lr 0.1
    python examples/mlp.py --mnist ~/data/mnist --epochs 5   # train-images-idx3-ubyte[.gz] etc.
    python examples/mlp.py --device cuda                     # the same run on the GPU
    python examples/mlp.py --compile                         # the model's forward/backward under tapegrad.compile
"""
import argparse
import gzip
import os
import struct
import sys
import time

import numpy as np

try:
    import tapegrad as torch
except ImportError:          # running from a clone without `pip install -e .`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import tapegrad as torch
from tapegrad import nn, optim
from tapegrad.utils.data import DataLoader, TensorDataset

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop}
DEFAULT_LR = {"sgd": 0.1, "adam": 2e-3, "adamw": 2e-3, "rmsprop": 1e-3}


# ----------------------------------------------------------------- data
def load_digits(seed):
    """scikit-learn's digits (1797 images of 8x8), pixels scaled to [0, 1], split 80/20 with ``seed``."""
    from sklearn.datasets import load_digits as sk_digits
    d = sk_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = len(x) // 5
    test, train = order[:n_test], order[n_test:]
    return (x[train], y[train]), (x[test], y[test])


def read_idx(path):
    """Read an IDX file (the MNIST format), gzipped or not, as a NumPy array."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":                # gzip magic, whatever the file is called
        data = gzip.decompress(data)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number)")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if data[2] not in dtypes:
        raise ValueError(f"{path}: unknown IDX element type 0x{data[2]:02x}")
    ndim = data[3]
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=dtypes[data[2]], offset=4 + 4 * ndim)
    if arr.size != int(np.prod(shape)):
        raise ValueError(f"{path}: expected {int(np.prod(shape))} values for shape {shape}, found {arr.size}")
    return arr.reshape(shape)


def _find(directory, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        p = os.path.join(directory, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"--mnist: no {stem}[.gz] in {directory}")


def load_mnist(directory):
    """MNIST from its four IDX files, pixels scaled to [0, 1] and flattened."""
    def images(stem):
        a = read_idx(_find(directory, stem))
        return (a.reshape(len(a), -1) / 255.0).astype(np.float32)

    def labels(stem):
        return read_idx(_find(directory, stem)).astype(np.int64)

    return ((images("train-images-idx3-ubyte"), labels("train-labels-idx1-ubyte")),
            (images("t10k-images-idx3-ubyte"), labels("t10k-labels-idx1-ubyte")))


# ----------------------------------------------------------------- model
def make_mlp(n_in, hidden, n_out, activation):
    layers = []
    for h in hidden:
        layers += [nn.Linear(n_in, h), ACTIVATIONS[activation]()]
        n_in = h
    layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


def accuracy(model, x, y, batch_size=1024):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            pred = model(x[i:i + batch_size]).argmax(dim=1)
            correct += int((pred == y[i:i + batch_size]).sum().item())
    model.train()
    return correct / len(x)


def save_curves(history, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    epochs = range(1, len(history["loss"]) + 1)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5))
    a1.plot(epochs, history["loss"], marker="o")
    a1.set_xlabel("epoch")
    a1.set_ylabel("training loss")
    a2.plot(epochs, history["test_acc"], marker="o", color="tab:green")
    a2.set_xlabel("epoch")
    a2.set_ylabel("test accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, nargs="*", default=[128, 64], help="hidden layer sizes (default 128 64)")
    ap.add_argument("--activation", choices=sorted(ACTIVATIONS), default="relu")
    ap.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    ap.add_argument("--lr", type=float, default=None, help="learning rate (default depends on the optimizer)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--mnist", metavar="DIR", help="train on the MNIST IDX files in DIR instead of digits")
    ap.add_argument("--subset", type=int, default=None, metavar="N",
                    help="use only the first N training and N test images (quick runs, e.g. under the CUDA simulator)")
    ap.add_argument("--out", default="runs", help="directory for the curve PNG and the checkpoint (default runs/)")
    ap.add_argument("--no-progress", action="store_true", help="no tqdm bars (one line per epoch instead)")
    ap.add_argument("--compile", action="store_true",
                    help="run the model through tapegrad.compile (its forward and backward replay a captured trace)")
    args = ap.parse_args(argv)
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]

    torch.manual_seed(args.seed)
    (xtr, ytr), (xte, yte) = load_mnist(args.mnist) if args.mnist else load_digits(args.seed)
    if args.subset is not None:
        (xtr, ytr), (xte, yte) = (xtr[:args.subset], ytr[:args.subset]), (xte[:args.subset], yte[:args.subset])
    # Standardize each pixel with the training set's statistics (constant pixels stay 0).
    mean, std = xtr.mean(0), xtr.std(0)
    std[std == 0] = 1.0
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    n_classes = int(max(ytr.max(), yte.max())) + 1
    name = "MNIST" if args.mnist else "digits"
    print(f"{name}: {len(xtr)} training and {len(xte)} test images of {xtr.shape[1]} pixels, {n_classes} classes")

    dev = args.device
    x_train, y_train = torch.tensor(xtr, device=dev), torch.tensor(ytr, device=dev)
    x_test, y_test = torch.tensor(xte, device=dev), torch.tensor(yte, device=dev)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True, seed=args.seed)

    model = make_mlp(xtr.shape[1], args.hidden, n_classes, args.activation).to(dev)
    opt = OPTIMIZERS[args.optimizer](model.parameters(), lr=lr)
    # Annealing the learning rate to zero steadies the last epochs' accuracy.
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()
    # The compiled model is the same module (same parameters, state_dict, train/eval); its first call per
    # batch shape records a trace, later calls replay it, and loss.backward() replays the captured backward.
    net = torch.compile(model) if args.compile else model
    print(model)
    print(f"optimizer: {args.optimizer} (lr={lr}, cosine annealing), batch size {args.batch_size}, {args.epochs} epochs on {dev}")

    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    history = {"loss": [], "test_acc": []}
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        bar = loader if (tqdm is None or args.no_progress) else tqdm(
            loader, desc=f"epoch {epoch:2d}/{args.epochs}", leave=False, unit="batch", mininterval=0.25)
        total, count = 0.0, 0
        for xb, yb in bar:
            opt.zero_grad()
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            count += len(yb)
            if bar is not loader:
                bar.set_postfix(loss=f"{total / count:.4f}", refresh=False)
        sched.step()
        acc = accuracy(net, x_test, y_test)
        history["loss"].append(total / count)
        history["test_acc"].append(acc)
        print(f"epoch {epoch:2d}/{args.epochs}  loss {total / count:.4f}  test accuracy {acc:.4f}")
    elapsed = time.perf_counter() - start
    final = history["test_acc"][-1]
    print(f"final test accuracy: {final:.4f} (training took {elapsed:.1f} s)")
    if args.compile:
        st = net.stats()
        print(f"tapegrad.compile: {st['traces']} traces, {st['replays']} replays, {st['eager_calls']} eager calls"
              + (f"; fell back because: {'; '.join(st['fallbacks'])}" if st["fallbacks"] else ""))

    os.makedirs(args.out, exist_ok=True)
    curve = os.path.join(args.out, "mlp_curves.png")
    save_curves(history, curve)
    ckpt = os.path.join(args.out, "mlp_checkpoint.tg")
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": args.epochs,
                "args": {"hidden": args.hidden, "activation": args.activation}}, ckpt)
    restored = torch.load(ckpt, map_location=dev)
    fresh = make_mlp(xtr.shape[1], restored["args"]["hidden"], n_classes, restored["args"]["activation"]).to(dev)
    fresh.load_state_dict(restored["model"])
    reloaded = accuracy(fresh, x_test, y_test)
    print(f"saved {curve} and {ckpt}; the reloaded checkpoint's test accuracy: {reloaded:.4f}")
    return {"test_acc": final, "reloaded_acc": reloaded, "history": history, "seconds": elapsed,
            "compile_stats": net.stats() if args.compile else None}


if __name__ == "__main__":
    main()
