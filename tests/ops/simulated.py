"""Run a snippet on device='cuda' under numba's CUDA simulator, in a child process.

The simulator is chosen when numba is first imported, so a test in the ordinary (CPU) run that wants a
CUDA answer asks a fresh interpreter for it; the snippet prints one JSON line, which comes back decoded.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def json_from_simulated_cuda(expr, imports):
    """``json.loads`` of ``print(json.dumps(expr))`` run after ``imports`` (tests/ops on the path)."""
    code = f"import json, sys; sys.path.insert(0, 'tests/ops'); {imports}; print(json.dumps({expr}))"
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM=os.environ.get("NUMBA_ENABLE_CUDASIM", "1"))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])
