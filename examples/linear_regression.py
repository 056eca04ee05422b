"""Univariate linear regression, twice: with raw tensors, then with nn.Linear + MSELoss + optim.SGD.

The textbook fit y = 10 + 5x + noise (sigma = 3) on 10 points x ~ U(-10, 10),
starting from b = 15, w = 2, learning rate 0.01, 200 iterations of gradient
descent. Both versions do the same arithmetic, so they print the same b and w;
the closed-form least-squares solution is printed beside them.

    python examples/linear_regression.py            # prints the fits
    python examples/linear_regression.py --plot     # also saves runs/linreg_fit.png, runs/linreg_cost.png
"""
import argparse
import os
import sys

import numpy as np

try:
    import tapegrad as torch
except ImportError:          # running from a clone without `pip install -e .`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import tapegrad as torch
from tapegrad import nn, optim


def make_data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-10, 10, n).astype(np.float32)
    y = (10 + 5 * x + rng.normal(0, 3, n)).astype(np.float32)
    return x, y


def fit_raw(x, y, b0, w0, lr, iters):
    """Gradient descent with tensors, .backward() and no_grad updates."""
    b = torch.tensor(b0, requires_grad=True)
    w = torch.tensor(w0, requires_grad=True)
    costs = []
    for _ in range(iters):
        cost = ((b + w * x - y) ** 2).mean()
        cost.backward()
        with torch.no_grad():
            b.sub_(lr * b.grad)
            w.sub_(lr * w.grad)
        b.grad = None
        w.grad = None
        costs.append(cost.item())
    return b.item(), w.item(), costs


def fit_nn(x, y, b0, w0, lr, iters):
    """The same fit with nn.Linear, nn.MSELoss and optim.SGD."""
    model = nn.Linear(1, 1)
    nn.init.constant_(model.weight, w0)
    nn.init.constant_(model.bias, b0)
    loss_fn = nn.MSELoss()
    opt = optim.SGD(model.parameters(), lr=lr)
    inputs, targets = x.reshape(-1, 1), y.reshape(-1, 1)
    costs = []
    for _ in range(iters):
        opt.zero_grad()
        cost = loss_fn(model(inputs), targets)
        cost.backward()
        opt.step()
        costs.append(cost.item())
    return model.bias.item(), model.weight.item(), costs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=10)
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--plot", action="store_true", help="save the fit and the cost curve as PNGs")
    ap.add_argument("--out", default="runs", help="directory for the PNGs (default: runs/)")
    args = ap.parse_args(argv)

    xn, yn = make_data(args.points, args.seed)
    x, y = torch.tensor(xn), torch.tensor(yn)
    b_raw, w_raw, costs_raw = fit_raw(x, y, 15.0, 2.0, args.lr, args.iters)
    print(f"raw tensors : b = {b_raw:.4f}, w = {w_raw:.4f}, cost = {costs_raw[-1]:.4f} "
          f"(initial cost {costs_raw[0]:.2f})")
    b_nn, w_nn, costs_nn = fit_nn(x, y, 15.0, 2.0, args.lr, args.iters)
    print(f"nn + optim  : b = {b_nn:.4f}, w = {w_nn:.4f}, cost = {costs_nn[-1]:.4f}")
    A = np.stack([np.ones_like(xn, dtype=np.float64), xn.astype(np.float64)], axis=1)
    (b_ls, w_ls), *_ = np.linalg.lstsq(A, yn.astype(np.float64), rcond=None)
    cost_ls = float(np.mean((b_ls + w_ls * xn - yn) ** 2))
    print(f"closed form : b = {b_ls:.4f}, w = {w_ls:.4f}, cost = {cost_ls:.4f}")
    print(f"max |raw - nn| difference in (b, w): {max(abs(b_raw - b_nn), abs(w_raw - w_nn)):.2e}")

    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        os.makedirs(args.out, exist_ok=True)
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.scatter(xn, yn, label="data")
        grid = np.linspace(-10, 10, 50)
        ax.plot(grid, b_raw + w_raw * grid, label=f"gradient descent: {b_raw:.2f} + {w_raw:.2f}x")
        ax.plot(grid, b_ls + w_ls * grid, "--", label=f"least squares: {b_ls:.2f} + {w_ls:.2f}x")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.legend()
        fit_path = os.path.join(args.out, "linreg_fit.png")
        fig.savefig(fit_path, dpi=100, bbox_inches="tight")
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.plot(costs_raw, label="raw tensors")
        ax.plot(costs_nn, "--", label="nn + optim")
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel("cost (MSE)")
        ax.legend()
        cost_path = os.path.join(args.out, "linreg_cost.png")
        fig.savefig(cost_path, dpi=100, bbox_inches="tight")
        print(f"saved {fit_path} and {cost_path}")
    return {"raw": (b_raw, w_raw), "nn": (b_nn, w_nn), "lstsq": (b_ls, w_ls), "cost": costs_raw[-1]}


if __name__ == "__main__":
    main()
