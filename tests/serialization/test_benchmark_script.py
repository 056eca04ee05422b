"""benchmarks/checkpoint.py runs end to end at a tiny size (the figures themselves are not asserted)."""
import os
import subprocess
import sys


def test_checkpoint_benchmark_prints_its_table():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    r = subprocess.run([sys.executable, "benchmarks/checkpoint.py", "--mib", "2", "--tensors", "2", "--no-torch"],
                       cwd=root, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    for what in ("tapegrad.save (build + save)", "tapegrad.load", "safetensors.numpy.load_file"):
        line = next(l for l in r.stdout.splitlines() if l.startswith(what))
        assert "failed" not in line and float(line.split()[-6]) == 2.0, line
