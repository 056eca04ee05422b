"""Run the CPU benchmark suite: tapegrad vs hand-written NumPy backprop vs PyTorch, one table.

Usage (from the repository root):
    python -m benchmarks                    # every workload, one BLAS/torch thread
    python -m benchmarks --quick            # tiny sizes and repeats (CI smoke run, < ~60 s)
    python -m benchmarks --only overhead,mlp --out results.json
    python -m benchmarks --threads 2        # BLAS, OpenMP and torch all pinned to 2
    python -m benchmarks --growth           # growth curves + PNG plots in benchmarks/plots/
    python benchmarks/run.py ...            # same thing

See ``benchmarks/__init__.py`` for how to read the table.
"""
import argparse
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes/repeats, for CI smoke runs")
    p.add_argument("--out", metavar="FILE", help="also write the results as JSON to FILE")
    p.add_argument("--only", metavar="W1,W2", help="comma-separated workloads: "
                   "overhead, mlp, matmul, chain, digits, memory, lstm, gpt, cnn, compiled (default: all)")
    p.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/torch threads (default 1)")
    p.add_argument("--repeats", type=int, help="timed samples per case (default 7, quick 3)")
    p.add_argument("--warmup", type=int, help="untimed calls before timing (default 2, quick 1)")
    p.add_argument("--min-time", type=float, help="seconds per sample, calls are batched to "
                   "reach it (default 0.05, quick 0.005)")
    p.add_argument("--strict", action="store_true", help="exit 1 if any tapegrad measurement "
                   "failed (CI); by default a failure costs only its cell")
    p.add_argument("--no-torch", action="store_true", help="do not import torch")
    p.add_argument("--growth", action="store_true", help="measure growth curves (depth, batch, "
                   "width) and plot them; runs only those unless --only is also given")
    p.add_argument("--plots", metavar="DIR", default=os.path.join(ROOT, "benchmarks", "plots"),
                   help="where --growth writes its PNGs (default benchmarks/plots/)")
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error(f"--threads must be >= 1, got {args.threads}")
    return args


def _git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def main(argv=None, reexec=None):
    """Entry point; ``reexec`` is the argv to restart with if NumPy was imported too early."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    from . import _threads
    _threads.pin(args.threads, reexec or ["-m", "benchmarks"] + argv)

    import numpy as np
    import tapegrad
    from .frameworks import Config, load_torch
    from .harness import Row, format_table, skipped_notes, write_json
    from .workloads import WORKLOADS

    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in WORKLOADS]
        if unknown:
            sys.exit(f"--only: unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    else:
        names = [] if args.growth else list(WORKLOADS)
    torch, missing = (None, "disabled by --no-torch") if args.no_torch else load_torch(args.threads)
    cfg = Config(quick=args.quick,
                 repeats=args.repeats or (3 if args.quick else 7),
                 warmup=args.warmup if args.warmup is not None else (1 if args.quick else 2),
                 min_time=args.min_time if args.min_time is not None else
                 (0.005 if args.quick else 0.05),
                 threads=args.threads, torch=torch, torch_missing=missing)
    # Freeze everything imported so far (torch's and NumPy's many objects) out of the
    # collector: a full gc.collect() then scans only what the benchmarks allocate, as it
    # would in a program that imports one framework, and per-sample collections stay cheap.
    import gc
    gc.collect()
    gc.freeze()
    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "quick": args.quick,
            "threads": args.threads, "blas": _threads.blas_info(),
            "python": platform.python_version(), "machine": platform.platform(),
            "cpus": os.cpu_count(), "numpy": np.__version__,
            "tapegrad": tapegrad.__version__, "commit": _git_commit(),
            "torch": torch.__version__ if torch is not None else None,
            "loadavg": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            "repeats": cfg.repeats, "warmup": cfg.warmup, "min_time": cfg.min_time}
    print("tapegrad benchmarks: " + ", ".join(f"{k}={v}" for k, v in meta.items()), flush=True)

    rows = []
    for name in names:
        t0 = time.perf_counter()
        try:
            rows.extend(WORKLOADS[name].run(cfg))
        except Exception as e:  # noqa: BLE001  one broken workload must not hide the others
            row = Row(name, "(whole workload)", "-", 1.0)
            row.results["tapegrad"] = f"failed: {type(e).__name__}: {e}"[:200]
            rows.append(row)
        print(f"  {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    if rows:
        if hasattr(os, "getloadavg"):
            print(f"load average: {meta['loadavg']:.2f} at start, {os.getloadavg()[0]:.2f} at end "
                  f"(other processes on {os.cpu_count()} cores make every figure noisier)")
        print()
        print(format_table(rows))
        for line in skipped_notes(rows):
            print(line)
        print("\nCells: median [min-max] over samples; ratios are tapegrad/baseline medians "
              "(< 1: tapegrad faster).")
    growth = None
    if args.growth:
        from . import growth as growth_mod
        growth = growth_mod.run(cfg, args.plots)
    if args.out:
        write_json(args.out, rows, dict(meta, growth=growth))
        print(f"wrote {args.out}")
    failed = [r for r in rows if str(r.results.get("tapegrad", "")).startswith("failed")]
    if args.strict and failed:
        print(f"--strict: {len(failed)} tapegrad measurement(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    from benchmarks.run import main as _main
    sys.exit(_main(reexec=[os.path.abspath(__file__)] + sys.argv[1:]))
