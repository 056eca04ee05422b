"""examples/ddp_mlp.py on 2 ranks follows the one-process run: the same accuracy on a tiny budget."""
import importlib.util
import os
import re

import pytest

from ._mpirun import ROOT, mpirun

SCRIPT = os.path.join(ROOT, "examples", "ddp_mlp.py")
ARGS = ["--epochs", "1", "--hidden", "32", "--batch-size", "32"]


def test_ddp_mlp_two_ranks_reach_the_one_process_accuracy(tmp_path, capsys):
    pytest.importorskip("sklearn")
    r = mpirun(SCRIPT, *ARGS, "--out", tmp_path / "two", timeout=90)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "2 rank(s), global batch 32 (16 per rank)" in r.stdout, r.stdout
    two = [float(v) for v in re.findall(r"test accuracy (\d\.\d+)", r.stdout)]
    two_loss = re.findall(r"loss (\d\.\d+)", r.stdout)
    assert "reloaded on every rank" in r.stdout

    spec = importlib.util.spec_from_file_location("example_ddp_mlp", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.main([*ARGS, "--out", str(tmp_path / "one")])          # one process: a group of one
    assert res["world"] == 1 and res["reloaded_acc"] == res["test_acc"]
    assert res["test_acc"] > 0.7
    one_loss = re.findall(r"loss (\d\.\d+)", capsys.readouterr().out)
    # The same global batches and the same updates: the same losses (to the 4 printed digits) and accuracy.
    assert len(two_loss) == 1 and two_loss == one_loss, (two_loss, one_loss)
    assert abs(two[-2] - res["test_acc"]) <= 1 / 359, (two, res)
