"""A small CNN on scikit-learn's 8x8 handwritten digits: Conv2d, BatchNorm2d, MaxPool2d, Dropout.

    python examples/cnn_digits.py                 # 6 epochs; test accuracy about 0.99
    python examples/cnn_digits.py --epochs 3 --device cuda

Written as a PyTorch program (``import tapegrad as torch``): the same text
runs under PyTorch with ``import torch``.
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
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from tapegrad.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    """conv 1->16 3x3 (same), BN, ReLU, conv 16->32 3x3 (same), BN, ReLU, max-pool 2, dropout, 512->64->10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.drop = nn.Dropout(0.25)
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = self.drop(torch.flatten(x, 1))
        return self.fc2(F.relu(self.fc1(x)))


def load(seed):
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = d.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = len(x) // 5
    return (x[order[n_test:]], y[order[n_test:]]), (x[order[:n_test]], y[order[:n_test]])


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)
    (xtr, ytr), (xte, yte) = load(args.seed)
    dev = torch.device(args.device)
    xtr, ytr, xte, yte = (torch.from_numpy(a).to(dev) for a in (xtr, ytr, xte, yte))
    model = Net().to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs,
                                                steps_per_epoch=(len(xtr) + args.batch_size - 1) // args.batch_size)
    loader = DataLoader(TensorDataset(xtr, ytr), batch_size=args.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(args.seed))
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(xb)
        print(f"epoch {epoch + 1}: train loss {total / len(xtr):.4f}, test accuracy {accuracy(model, xte, yte):.4f}")
    acc = accuracy(model, xte, yte)
    print(f"final test accuracy: {acc:.4f} (training took {time.perf_counter() - start:.1f} s)")
    return {"accuracy": acc}


if __name__ == "__main__":
    main()
