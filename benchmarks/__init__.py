"""tapegrad's CPU benchmark suite (issue 4): tapegrad vs hand-written NumPy vs PyTorch.

Run from the repository root::

    python -m benchmarks                 # the full table, BLAS and torch pinned to 1 thread
    python -m benchmarks --quick         # CI smoke run (tiny sizes, under ~60 s)
    python -m benchmarks --only overhead,mlp --out results.json
    python -m benchmarks --growth        # time vs depth/batch/width, log-log slopes, PNGs
    python benchmarks/overhead.py        # issue 2's per-op figure alone

Reading the table: every row is "lower is better" (µs/op, ms/step, s/run, KiB of RSS growth).
Each cell is the median over the samples, with [min-max]; ``tg/numpy`` and ``tg/torch`` are
tapegrad's median divided by that baseline's median, measured in the same run, so a ratio
below 1 means tapegrad is faster. "numpy (hand)" is the same math differentiated by hand in
NumPy (``benchmarks/handwritten.py``), the floor for any NumPy-based autograd; in the matmul
row it is the BLAS limit (the three bare matmuls). PyTorch is optional and imported lazily.
Compare figures only within one run: the machine's load changes absolute times.
"""
