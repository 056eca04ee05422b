"""What installing tapegrad promises: light imports, the extras named in errors, tested floors.

Missing packages are simulated in subprocesses by a meta-path finder that refuses to import them,
so these tests run in any environment.
"""
import os
import re
import subprocess
import sys
import tomllib

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_BLOCKER = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)", name=name)
        return None
sys.meta_path.insert(0, _Block())
"""


def _python(code, blocked=(), **env):
    env = {k: v for k, v in dict(os.environ, **env).items() if v is not None}
    prog = (_BLOCKER.format(blocked=set(blocked)) if blocked else "") + code
    r = subprocess.run([sys.executable, "-c", prog], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout


def _pyproject():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]


def test_import_tapegrad_imports_neither_torch_nor_numba_cuda_nor_hypothesis():
    out = _python("import sys, tapegrad\n"
                  "print(sorted(m for m in ('torch', 'numba.cuda', 'numba_cuda', 'hypothesis') if m in sys.modules))")
    assert out.strip() == "[]"


def test_testing_module_without_hypothesis_names_the_extra():
    out = _python("import tapegrad\n"
                  "try:\n"
                  "    import tapegrad.testing\n"
                  "except ImportError as e:\n"
                  "    print(type(e).__name__, '|', e)\n", blocked=("hypothesis",))
    assert out.startswith("ImportError |"), out
    assert "hypothesis" in out and 'pip install "tapegrad[testing]"' in out, out


def test_cuda_device_without_numba_cuda_says_it_is_not_installed():
    # numba itself still ships a deprecated numba.cuda; only the numba-cuda package (the cuda extra) is missing.
    out = _python("import tapegrad\n"
                  "print(tapegrad.cuda.is_available())\n"
                  "try:\n"
                  "    tapegrad.zeros(2, device='cuda')\n"
                  "except RuntimeError as e:\n"
                  "    print(e)\n", blocked=("numba_cuda",), NUMBA_ENABLE_CUDASIM=None)
    available, message = out.strip().split("\n", 1)
    assert available == "False"
    assert "numba-cuda" in message and "not installed" in message, message
    assert 'pip install "tapegrad[cuda]"' in message and "no NVIDIA GPU" not in message, message


def test_the_test_extra_brings_the_torch_oracle_cpu_build():
    pin = [r for r in _pyproject()["optional-dependencies"]["test"] if r.startswith("torch")]
    assert pin == ["torch==2.13.0"]
    if os.environ.get("CI") == "true":
        import torch                # CI installs the test extra: the parity tests must not skip there
    else:
        torch = pytest.importorskip("torch")
    assert torch.__version__.split("+")[0] == "2.13.0"
    assert torch.version.cuda is None, "the CPU build of torch is expected, not a CUDA one"


def _floor(req):
    """``(name, version)`` of a ``name[extra]>=version`` requirement, or None without a floor."""
    m = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*>=\s*([0-9.]+)", req)
    return (m.group(1).lower(), m.group(3)) if m else None


def _release(v):
    parts = [int(p) for p in v.split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def test_declared_floors_are_the_versions_ci_tests():
    project = _pyproject()
    extras = project["optional-dependencies"]
    reqs = project["dependencies"] + [r for extra in ("testing", "test", "examples", "cuda", "distributed", "onnx")
                                          for r in extras[extra]]
    floors = dict(f for f in map(_floor, reqs) if f)
    pins = {}
    with open(os.path.join(ROOT, ".ci", "constraints-floor.txt")) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                name, version = line.split("==")
                pins[name.strip().lower()] = version.strip()
    assert {"numpy", "numba", "safetensors", "hypothesis", "pytest", "numba-cuda", "scikit-learn"} <= set(floors)
    assert set(pins) == set(floors)
    assert {n: _release(v) for n, v in floors.items()} == {n: _release(v) for n, v in pins.items()}
    with open(os.path.join(ROOT, ".ci", "run")) as f:
        assert "constraints-floor.txt" in f.read()


def test_license_metadata():
    project = _pyproject()
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    with open(os.path.join(ROOT, "LICENSE")) as f:
        text = f.read()
    assert text.startswith("MIT License") and "the tapegrad authors" in text
    assert not any(c.startswith("License ::") for c in project["classifiers"])   # PEP 639: the expression only
