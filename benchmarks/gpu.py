"""Issue 5 GPU benchmark: tapegrad's numba.cuda kernels against PyTorch/cuBLAS on the same GPU.

Prints, side by side and as ratios measured in the same run:
  * matmul float32 TFLOP/s at 1024^3 .. 8192^3 vs torch (cuBLAS SGEMM, TF32 off);
  * elementwise (add) and reduction (sum) GB/s at 1M .. 256M elements vs the device-to-device copy rate;
  * an MLP training step (784-1024-1024-10, batch 1024, SGD) vs torch CUDA and vs tapegrad on the CPU.
Targets (issue 5): matmul >= 40% of cuBLAS at 4096^3; elementwise >= 75% of copy at >= 16M; MLP >= 20x CPU.

Usage: python benchmarks/gpu.py [--quick]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer sizes and repetitions")
    p.add_argument("--reps", type=int, default=None, help="timed repetitions per measurement")
    return p.parse_args(argv)


def _timeit(fn, sync, reps):
    fn()
    sync()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None):
    args = parse_args(argv)
    import tapegrad
    if not tapegrad.cuda.is_available():
        print("benchmarks/gpu.py: CUDA is not available here (no NVIDIA GPU with a working driver); "
              "nothing to measure.", file=sys.stderr)
        return 2
    try:
        import torch
        has_torch = torch.cuda.is_available()
    except ImportError:
        torch, has_torch = None, False
    if has_torch:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    reps = args.reps or (3 if args.quick else 10)
    tsync, csync = tapegrad.cuda.synchronize, (torch.cuda.synchronize if has_torch else (lambda: None))

    print("== matmul float32 (TFLOP/s)")
    for n in ((1024, 4096) if args.quick else (1024, 2048, 4096, 8192)):
        a, b = tapegrad.randn(n, n, device="cuda"), tapegrad.randn(n, n, device="cuda")
        t = _timeit(lambda: a @ b, tsync, reps)
        ours = 2 * n ** 3 / t / 1e12
        line = f"  {n}^3  tapegrad {ours:7.2f}"
        if has_torch:
            ta, tb = torch.randn(n, n, device="cuda"), torch.randn(n, n, device="cuda")
            theirs = 2 * n ** 3 / _timeit(lambda: ta @ tb, csync, reps) / 1e12
            line += f"  cuBLAS {theirs:7.2f}  ratio {ours / theirs:5.2f}"
        print(line)

    print("== elementwise add / sum (GB/s, bytes read + written) vs device-to-device copy")
    for m in ((1, 16) if args.quick else (1, 4, 16, 64, 256)):
        n = m * 1 << 20
        x, y = tapegrad.randn(n, device="cuda"), tapegrad.randn(n, device="cuda")
        copy = 2 * 4 * n / _timeit(lambda: x.clone(), tsync, reps) / 1e9
        add = 3 * 4 * n / _timeit(lambda: x + y, tsync, reps) / 1e9
        red = 4 * n / _timeit(lambda: x.sum(), tsync, reps) / 1e9
        print(f"  {m:4d}M  copy {copy:8.1f}  add {add:8.1f} ({add / copy:4.2f})  sum {red:8.1f} ({red / copy:4.2f})")

    print("== MLP 784-1024-1024-10, batch 1024, one SGD step (ms)")
    import numpy as np

    def tg_step(device):
        rng = np.random.default_rng(0)
        ws = [tapegrad.tensor(rng.normal(0, 0.03, s).astype(np.float32), device=device, requires_grad=True)
              for s in ((784, 1024), (1024, 1024), (1024, 10))]
        X = tapegrad.tensor(rng.normal(size=(1024, 784)).astype(np.float32), device=device)
        Y = tapegrad.tensor(rng.integers(0, 10, 1024), device=device)

        def step():
            h = X
            for i, w in enumerate(ws):
                h = h @ w
                if i < 2:
                    h = h * (h > 0)
            loss = tapegrad.nn.functional.cross_entropy(h, Y)
            loss.backward()
            with tapegrad.no_grad():
                for w in ws:
                    w -= 0.01 * w.grad
                    w.grad = None
        return step
    gpu = _timeit(tg_step("cuda"), tsync, reps)
    cpu = _timeit(tg_step("cpu"), lambda: None, max(1, reps // 3))
    line = f"  tapegrad cuda {gpu * 1e3:8.2f}  tapegrad cpu {cpu * 1e3:8.2f}  speedup {cpu / gpu:6.1f}x"
    if has_torch:
        tw = [torch.randn(*s, device="cuda", requires_grad=True) for s in ((784, 1024), (1024, 1024), (1024, 10))]
        TX, TY = torch.randn(1024, 784, device="cuda"), torch.randint(0, 10, (1024,), device="cuda")

        def torch_step():
            h = torch.relu(TX @ tw[0])
            h = torch.relu(h @ tw[1])
            loss = torch.nn.functional.cross_entropy(h @ tw[2], TY)
            loss.backward()
            with torch.no_grad():
                for w in tw:
                    w -= 0.01 * w.grad
                    w.grad = None
        tt = _timeit(torch_step, csync, reps)
        line += f"  torch cuda {tt * 1e3:8.2f}  (tapegrad/torch {gpu / tt:5.2f}x slower)"
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
