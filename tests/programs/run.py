"""Run one program of tests/programs under tapegrad (bound to ``import torch``) or under PyTorch.

    python tests/programs/run.py tapegrad tests/programs/mlp_regression.py
    python tests/programs/run.py torch tests/programs/mlp_regression.py

A program is an ordinary PyTorch-style script written for this project: it
imports ``torch`` and defines ``main()``, which trains something and returns a
dict of plain numbers (at least ``first_loss`` and ``final_loss``). This
runner prints that dict as one JSON line, the last line of its output.

Under "tapegrad", a finder on ``sys.meta_path`` answers every ``torch`` and
``torch.<sub>`` import with the same module of ``tapegrad``, so the program's
text runs unchanged: a missing name fails as it would for a user.
"""
import importlib
import importlib.abc
import importlib.util
import json
import pathlib
import runpy
import sys


class TorchIsTapegrad(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolve ``torch`` to ``tapegrad`` and ``torch.x.y`` to ``tapegrad.x.y``."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        return importlib.import_module("tapegrad" + spec.name[len("torch"):])

    def exec_module(self, module):
        pass                           # already executed: it is tapegrad's own module


def bind_torch_to_tapegrad():
    """Make ``import torch`` (and its submodules) import tapegrad from now on in this process."""
    sys.meta_path.insert(0, TorchIsTapegrad())


def main(argv):
    framework, path = argv
    # the tapegrad of this checkout, not whichever one is installed (a worktree, a fresh clone)
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
    if framework == "tapegrad":
        bind_torch_to_tapegrad()
    elif framework != "torch":
        raise SystemExit(f"framework must be 'tapegrad' or 'torch', not {framework!r}")
    result = runpy.run_path(path, run_name="program")["main"]()
    print(json.dumps({k: float(v) for k, v in result.items()}))


if __name__ == "__main__":
    main(sys.argv[1:])
