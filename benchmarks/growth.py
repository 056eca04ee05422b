"""How cost grows: time per step against chain depth, batch size and width (``--growth``).

Curves (each for tapegrad, hand NumPy and torch):
  depth  scalar chain of [add, mul, tanh, exp] then backward, 10 ... 100,000 ops
  batch  SGD step of the 784-256-256-10 MLP, batch 1 ... 4,096
  width  SGD step of the 784-W-W-10 MLP at batch 64, W = 64 ... 4,096
For each curve the fitted growth exponent is the least-squares slope of log(time) on
log(size), over all points and over the last three ("tail"): 1.0 is linear. Per-step
overhead flattens the start of the batch and width curves, so read their tail slope.
A PNG per curve is written to the plots directory when matplotlib is installed.
Each point is the best (minimum) of its samples rather than the median: on a shared 2-core
machine contention only ever adds time, and a fitted slope is easily bent by one slow point.
"""
import os

import numpy as np

from . import handwritten
from .frameworks import Trainer
from .harness import measure
from .workloads.chain import _tensor_chain


def _sizes(quick):
    if quick:
        return {"depth": [10, 100, 1_000], "batch": [1, 16, 64], "width": [64, 128, 256]}
    return {"depth": [10, 100, 1_000, 10_000, 100_000],
            "batch": [1, 4, 16, 64, 256, 1024, 4096],
            "width": [64, 128, 256, 512, 1024, 2048, 4096]}


def _mlp_fns(fw_list, sizes, batch):
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((batch, sizes[0]), dtype=np.float32)
    y0 = rng.integers(0, sizes[-1], batch)
    fns = {}
    for name, fw in fw_list:
        if fw is None:
            hand = handwritten.MLP(sizes)
            fns[name] = lambda hand=hand: hand.step(x0, y0)
        else:
            tr = Trainer(fw, sizes)
            x, t = fw.from_numpy(x0), tr.target(y0)
            fns[name] = lambda tr=tr, x=x, t=t: tr.step(x, t)
    return fns


def _chain_fns(fw_list, n):
    x0, w0 = np.float32(0.3), np.float32(0.5)
    return {name: (lambda: handwritten.chain(x0, w0, n // 4)) if fw is None
            else _tensor_chain(fw, n) for name, fw in fw_list}


def slope(xs, ys):
    """The least-squares slope of log(ys) on log(xs): the growth exponent."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def _plot(curve, xs, times, directory):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print(f"  (no plot for {curve}: matplotlib missing: {e})")
        return None
    os.makedirs(directory, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    for impl, ys in times.items():
        ax.loglog(xs, np.array(ys) * 1e3, marker="o", label=f"{impl} (slope {slope(xs, ys):.2f})")
    ax.set_xlabel(curve)
    ax.set_ylabel("ms per step (best of samples)")
    ax.set_title(f"time per step vs {curve}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    path = os.path.join(directory, f"growth_{curve}.png")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def run(cfg, plots_dir):
    """Measure, print and plot the three curves; returns them as a JSON-able dict."""
    import tapegrad
    fw_list = [("tapegrad", tapegrad), ("numpy", None)]
    if cfg.torch is not None:
        fw_list.append(("torch", cfg.torch))
    timing = dict(repeats=min(cfg.repeats, 3), warmup=1, min_time=cfg.min_time)
    out = {}
    for curve, xs in _sizes(cfg.quick).items():
        times = {name: [] for name, _ in fw_list}
        for x in xs:
            if curve == "depth":
                fns = _chain_fns(fw_list, x)
            elif curve == "batch":
                fns = _mlp_fns(fw_list, (784, 256, 256, 10), x)
            else:
                fns = _mlp_fns(fw_list, (784, x, x, 10), 64)
            for name, fn in fns.items():
                times[name].append(measure(fn, **timing).min)
        print(f"\ngrowth vs {curve}: ms per step (best of {timing['repeats']})")
        print(f"  {curve:>9}  " + "  ".join(f"{n:>10}" for n in times))
        for i, x in enumerate(xs):
            print(f"  {x:>9}  " + "  ".join(f"{times[n][i] * 1e3:>10.4g}" for n in times))
        fits = {n: {"slope": slope(xs, ys), "tail_slope": slope(xs[-3:], ys[-3:])}
                for n, ys in times.items()}
        print("  growth exponent (log-log slope, all / last 3 points): " + ", ".join(
            f"{n} {f['slope']:.2f} / {f['tail_slope']:.2f}" for n, f in fits.items()))
        path = _plot(curve, xs, times, plots_dir)
        if path:
            print(f"  plot: {path}")
        out[curve] = {"sizes": xs, "seconds_per_step": times, "fits": fits, "plot": path}
    return out
