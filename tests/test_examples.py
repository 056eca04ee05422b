"""Smoke tests: every example runs end to end on a tiny budget and reports sensible numbers."""
import gzip
import importlib.util
import os
import struct

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", os.path.join(EXAMPLES, f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_linear_regression_both_fits_agree(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    res = _load("linear_regression").main(["--plot", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "raw tensors" in out and "nn + optim" in out and "closed form" in out
    assert res["raw"] == pytest.approx(res["nn"], abs=1e-4)
    b_ls, w_ls = res["lstsq"]
    assert res["raw"][1] == pytest.approx(w_ls, abs=0.05)      # w converges; b still approaching
    assert abs(res["raw"][0] - b_ls) < abs(15.0 - b_ls)
    assert sorted(os.listdir(tmp_path)) == ["linreg_cost.png", "linreg_fit.png"]


def test_mlp_digits_tiny_budget_and_checkpoint(tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    res = _load("mlp").main(["--epochs", "3", "--hidden", "32", "--optimizer", "adamw", "--activation", "tanh",
                             "--batch-size", "64", "--out", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert "final test accuracy" in out and "reloaded checkpoint" in out
    assert res["test_acc"] > 0.8
    assert res["reloaded_acc"] == res["test_acc"]
    assert {"mlp_curves.png", "mlp_checkpoint.tg"} <= set(os.listdir(tmp_path))


def _write_idx(path, array, gz=False):
    path = str(path) + (".gz" if gz else "")
    codes = {np.dtype(np.uint8): 0x08}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    opener = gzip.open if gz else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())


def test_mlp_reads_mnist_idx_files(tmp_path):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    data = tmp_path / "mnist"
    data.mkdir()
    for split, n in (("train", 60), ("t10k", 20)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = np.zeros((n, 6, 6), np.uint8)
        images[np.arange(n), labels % 6, labels // 2] = 255       # a learnable pixel per class
        _write_idx(data / f"{split}-images-idx3-ubyte", images, gz=(split == "train"))
        _write_idx(data / f"{split}-labels-idx1-ubyte", labels)
    mlp = _load("mlp")
    np.testing.assert_array_equal(mlp.read_idx(str(data / "t10k-labels-idx1-ubyte")).shape, (20,))
    res = mlp.main(["--mnist", str(data), "--epochs", "2", "--hidden", "16", "--out", str(tmp_path / "o"),
                    "--no-progress"])
    assert 0.0 <= res["test_acc"] <= 1.0 and res["reloaded_acc"] == res["test_acc"]
    (tmp_path / "bad").write_bytes(b"\x08\x03\x00\x00")
    with pytest.raises(ValueError, match="not an IDX file"):
        mlp.read_idx(str(tmp_path / "bad"))
    with pytest.raises(FileNotFoundError, match="no train-images"):
        mlp.load_mnist(str(tmp_path))


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_rnn_adding_tiny_budget(cell, capsys):
    res = _load("rnn_adding").main(["--cell", cell, "--steps", "20", "--hidden", "8", "--min-len", "2",
                                    "--max-len", "5", "--batch-size", "16", "--eval-size", "64"])
    out = capsys.readouterr().out
    assert "test MSE" in out and "baseline" in out
    assert np.isfinite(res["test_mse"])


def test_rnn_adding_beats_baseline_on_short_sequences():
    res = _load("rnn_adding").main(["--steps", "150", "--hidden", "16", "--min-len", "2", "--max-len", "4",
                                    "--batch-size", "32", "--eval-size", "200"])
    assert res["test_mse"] < 0.5 * (1 / 6)


def test_custom_function(capsys):
    pytest.importorskip("hypothesis")
    res = _load("custom_function").main(["--examples", "5"])
    out = capsys.readouterr().out
    assert res["gradcheck"] and res["property_examples"] == 5
    assert "100.0" in out and "inf" in out


def test_cnn_digits_tiny_budget(capsys):
    pytest.importorskip("sklearn")
    res = _load("cnn_digits").main(["--epochs", "2"])
    out = capsys.readouterr().out
    assert "epoch 2" in out and "final test accuracy" in out
    assert res["accuracy"] > 0.85


def test_char_transformer_learns_and_samples(capsys):
    res = _load("char_transformer").main(["--steps", "60", "--sample", "20"])
    out = capsys.readouterr().out
    assert "sample:" in out
    assert res["final_loss"] < res["first_loss"] * 0.8


def test_mlp_compiled_trains_to_the_eager_accuracy(tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    args = ["--epochs", "2", "--hidden", "32", "--no-progress"]
    eager = _load("mlp").main(args + ["--out", str(tmp_path / "eager")])
    comp = _load("mlp").main(args + ["--out", str(tmp_path / "compiled"), "--compile"])
    out = capsys.readouterr().out
    assert "tapegrad.compile: 3 traces" in out          # the training batch, the last short batch, evaluation
    assert comp["history"] == eager["history"] and comp["test_acc"] > 0.8
    assert comp["reloaded_acc"] == comp["test_acc"]
    st = comp["compile_stats"]
    assert st["replays"] > 50 and st["eager_calls"] == 0 and st["fallbacks"] == [], st


def test_rnn_adding_compiled_has_one_trace_per_length_and_trains_as_eager(capsys):
    args = ["--steps", "30", "--hidden", "8", "--min-len", "2", "--max-len", "4", "--batch-size", "16",
            "--eval-size", "64"]
    eager = _load("rnn_adding").main(args + ["--same-length-batches"])
    comp = _load("rnn_adding").main(args + ["--compile"])
    assert "tapegrad.compile: 3 sequence lengths, 3 traces" in capsys.readouterr().out
    assert comp["test_mse"] == eager["test_mse"] and np.isfinite(comp["test_mse"])
    st = comp["compile_stats"]
    assert sorted(st) == [2, 3, 4]
    assert all(s["traces"] == 1 and s["eager_calls"] == 0 and s["fallbacks"] == [] for s in st.values()), st
    assert sum(s["replays"] for s in st.values()) == 30 - 3


def test_compiled_vs_eager_prints_the_three_runs(capsys):
    pytest.importorskip("sklearn")
    res = _load("compiled_vs_eager").main(["--epochs", "2", "--hidden", "32"])
    out = capsys.readouterr().out
    assert "tapegrad eager" in out and "tapegrad.compile" in out and "time ratios" in out
    eager, comp = res["tapegrad eager"], res["tapegrad.compile"]
    assert comp["accuracy"] == eager["accuracy"] > 0.8              # the replay is the eager run
    assert res["compile_stats"]["replays"] > 50 and res["compile_stats"]["fallbacks"] == []
    torch_rows = [k for k in res if k.startswith("torch eager")]
    if importlib.util.find_spec("torch") is not None:
        assert len(torch_rows) == 1 and "torch eager" in out
        assert abs(res[torch_rows[0]]["accuracy"] - eager["accuracy"]) < 0.03
