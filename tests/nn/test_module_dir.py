"""dir(module) lists its parameters, buffers and submodules by name, as in PyTorch (the oracle)."""
import importlib

import pytest


def _lib(name):
    return pytest.importorskip("torch") if name == "torch" else importlib.import_module(name)


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
def test_dir_lists_parameters_buffers_and_submodules(lib_name):
    lib = _lib(lib_name)
    m = lib.nn.Module()
    m.register_parameter("my_weight", lib.nn.Parameter(lib.ones(2)))
    m.register_buffer("my_stats", lib.zeros(2))
    m.register_buffer("my_scratch", lib.zeros(1), persistent=False)
    m.my_block = lib.nn.Linear(2, 2)
    names = dir(m)
    for n in ("my_weight", "my_stats", "my_scratch", "my_block", "forward", "state_dict"):
        assert n in names
    assert names == sorted(names) and len(names) == len(set(names))
    assert "weight" in dir(m.my_block) and "bias" in dir(m.my_block)
