"""Peak memory of saving and loading a checkpoint: tapegrad vs torch.load vs safetensors.numpy.

Each measurement runs in a fresh child process that imports its framework,
notes its peak RSS (``ru_maxrss``) as the baseline, does one save or load, and
reports its peak RSS again (``VmHWM`` from /proc where there is one, else
``ru_maxrss``). The table prints the peak, the peak over the
baseline, and both as ratios to the checkpoint's size; torch is measured when
it is installed. ``safetensors.torch.load_file`` returns tensors backed by a
memory map whose pages are not read yet, so its figure is not a full load.

Usage (from the repository root):
    python benchmarks/checkpoint.py              # a 512 MiB state dict of 8 float32 tensors
    python benchmarks/checkpoint.py --mib 64 --tensors 4 --no-torch
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_CHILD = r"""
import json, resource, sys, time
what, path, mib, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
import numpy as np
if what.startswith("torch"):
    import torch
else:
    import tapegrad
if what in ("safetensors.numpy.load_file", "safetensors.torch.load_file"):
    import safetensors.numpy, safetensors.torch

def peak():
    # VmHWM starts afresh at exec; ru_maxrss keeps the forking parent's peak on Linux.
    try:
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)

def state_dict(make):
    per = (mib << 20) // n // 4
    rng = np.random.default_rng(0)
    return {f"layer{i}.weight": make(rng.standard_normal(per, dtype=np.float32)) for i in range(n)}

base = peak()
t = time.perf_counter()
if what == "tapegrad.save (build + save)":
    tapegrad.save(state_dict(tapegrad.from_numpy), path)
elif what == "torch.save (build + save)":
    torch.save(state_dict(torch.from_numpy), path)
elif what == "tapegrad.load":
    sd = tapegrad.load(path)
    assert sum(v.numel() for v in sd.values()) * 4 >= (mib << 20) - 64
elif what == "torch.load":
    sd = torch.load(path, weights_only=True)
elif what == "safetensors.numpy.load_file":
    sd = safetensors.numpy.load_file(path)
elif what == "safetensors.torch.load_file":
    sd = safetensors.torch.load_file(path)
print(json.dumps({"base": base, "peak": peak(), "seconds": time.perf_counter() - t}))
"""


def measure(what, path, args):
    r = subprocess.run([sys.executable, "-c", _CHILD, what, path, str(args.mib), str(args.tensors)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        return None, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"
    return json.loads(r.stdout.strip().splitlines()[-1]), None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mib", type=int, default=512, help="checkpoint size in MiB (default 512)")
    p.add_argument("--tensors", type=int, default=8, help="tensors in the state dict (default 8)")
    p.add_argument("--no-torch", action="store_true", help="do not measure torch")
    args = p.parse_args(argv)
    import importlib.util
    have_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    mib = 1 << 20
    with tempfile.TemporaryDirectory(prefix="tapegrad-ckpt-bench-") as tmp:
        tg, pt = os.path.join(tmp, "ckpt.tg"), os.path.join(tmp, "ckpt.pt")
        plan = [("tapegrad.save (build + save)", tg), ("tapegrad.load", tg),
                ("safetensors.numpy.load_file", tg)]
        if have_torch:
            plan += [("safetensors.torch.load_file", tg),     # lazy: mmap-backed tensors, pages not yet read
                     ("torch.save (build + save)", pt), ("torch.load", pt)]
        print(f"checkpoint: {args.tensors} float32 tensors, {args.mib} MiB in all; peak RSS of a fresh child "
              f"process (baseline = after its imports)\n")
        print(f"{'what':32s} {'file MiB':>9s} {'peak MiB':>9s} {'over base':>10s} {'peak/size':>10s} "
              f"{'over/size':>10s} {'seconds':>8s}")
        results = {}
        for what, path in plan:
            r, err = measure(what, path, args)
            if r is None:
                print(f"{what:32s} failed: {err}")
                continue
            size = os.path.getsize(path)
            over = r["peak"] - r["base"]
            results[what] = dict(r, size=size)
            print(f"{what:32s} {size / mib:9.1f} {r['peak'] / mib:9.1f} {over / mib:10.1f} "
                  f"{r['peak'] / size:10.2f} {over / size:10.2f} {r['seconds']:8.2f}")
        if "tapegrad.load" in results and "torch.load" in results:
            a, b = results["tapegrad.load"], results["torch.load"]
            print(f"\ntapegrad.load / torch.load: peak {a['peak'] / b['peak']:.2f}x, "
                  f"over baseline {(a['peak'] - a['base']) / max(b['peak'] - b['base'], 1):.2f}x")
    return results


if __name__ == "__main__":
    main()
