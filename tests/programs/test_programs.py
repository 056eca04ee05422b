"""Every program in tests/programs/ trains under tapegrad, and comparably to PyTorch when it is installed.

Each program runs in its own process (``run.py``), once with ``import torch``
bound to tapegrad and once under torch itself, with the same text. Both must
lower the loss (``final_loss < first_loss * DECREASE``), and tapegrad's final
loss must be within the program's stated ``FACTOR`` of torch's (the two start
from different random weights: the frameworks' generators differ).
"""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
PROGRAMS = sorted(p for p in HERE.glob("*.py") if p.name not in ("run.py", "test_programs.py", "conftest.py")
                  and not p.name.startswith("_"))
DECREASE = 0.9


def _constant(path, name, default):
    """A module-level constant of the program (``FACTOR = 1.5``), read without running it."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
            return ast.literal_eval(node.value)
    return default


def run(framework, path):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    # the tree under test, not whichever tapegrad is installed (run.py's own folder comes first on sys.path)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE.parent.parent), env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, str(HERE / "run.py"), framework, str(path)], capture_output=True,
                          text=True, timeout=300, env=env, cwd=HERE.parent.parent)
    assert proc.returncode == 0, f"{path.name} under {framework} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_trains_under_tapegrad_and_comparably_to_torch(path):
    got = run("tapegrad", path)
    assert got["final_loss"] < got["first_loss"] * DECREASE, got
    if _has_torch():
        want = run("torch", path)
        assert want["final_loss"] < want["first_loss"] * DECREASE, want
        factor = _constant(path, "FACTOR", 1.5)
        assert got["final_loss"] <= want["final_loss"] * factor + _constant(path, "SLACK", 0.0), (got, want)


def _has_torch():
    import importlib.util
    return importlib.util.find_spec("torch") is not None


def test_the_binding_resolves_torch_submodules_to_tapegrad():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import run; run.bind_torch_to_tapegrad(); "
            "import torch, torch.nn.functional as F; from torch.optim import SGD; import tapegrad; "
            "assert torch is tapegrad and F is tapegrad.nn.functional and SGD is tapegrad.optim.SGD; print('ok')")
    out = subprocess.run([sys.executable, "-c", code, str(HERE)], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr
