"""Runs tests/cuda under numba's CUDA simulator in its own process (the env var is read at numba import)."""
import os
import subprocess
import sys


def test_cuda_suite_under_simulator():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    r = subprocess.run([sys.executable, "-m", "pytest", "tests/cuda", "-q", "-x", "-p", "no:cacheprovider",
                        "--no-header"], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"simulated CUDA suite failed:\n{r.stdout[-8000:]}\n{r.stderr[-4000:]}"


def test_import_tapegrad_does_not_import_numba_cuda():
    code = "import sys, tapegrad; print('numba.cuda' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"
