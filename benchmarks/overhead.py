"""Per-op overhead of the tape (issue 2's figure), runnable alone.

Usage (from the repository root):
    python benchmarks/overhead.py [--threads N] [--quick] [--out FILE]

Prints µs per op for forward+backward of a 200-op chain of add/mul/tanh/exp on shapes (1,)
and (16,), for tapegrad, the same chain differentiated by hand in NumPy, and PyTorch when it
is installed, with the ratios tapegrad/baseline from the same run (< 1: tapegrad faster).
This is ``python -m benchmarks --only overhead`` (see ``benchmarks/workloads/overhead.py``).
"""
import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks.run import main
    sys.exit(main(["--only", "overhead"] + sys.argv[1:],
                  reexec=[os.path.abspath(__file__)] + sys.argv[1:]))
