"""The saved structure's nesting limit, counted the same for dicts, lists and tuples, and entries the reader
does not recognize (a hand-made safetensors file; tapegrad's writer never produces them)."""
import io
import json
import struct

import pytest

import tapegrad
from tapegrad.utils.serialization import CheckpointError
from tapegrad.utils.serialization._source import LIMITS


def _nest(kind, levels):
    x = 1.5
    for _ in range(levels):
        x = {"k": x} if kind == "dict" else [x] if kind == "list" else (x,)
    return x


@pytest.mark.parametrize("kind", ["dict", "list", "tuple"])
def test_nesting_up_to_the_limit_round_trips_and_one_more_level_is_refused(kind):
    limit = LIMITS["depth"]
    obj = _nest(kind, limit)
    buf = io.BytesIO()
    tapegrad.save(obj, buf)
    buf.seek(0)
    assert tapegrad.load(buf) == obj
    with pytest.raises(ValueError, match=f"nested deeper than {limit} levels"):
        tapegrad.save(_nest(kind, limit + 1), io.BytesIO())


def test_a_tensor_at_the_nesting_limit_round_trips():
    limit = LIMITS["depth"]
    obj = [tapegrad.arange(3.0)]
    for _ in range(limit - 1):
        obj = [obj]
    buf = io.BytesIO()
    tapegrad.save(obj, buf)
    buf.seek(0)
    back = tapegrad.load(buf)
    for _ in range(limit):
        back = back[0]
    assert back.tolist() == [0.0, 1.0, 2.0]


def _checkpoint(root):
    structure = json.dumps({"format": "tapegrad-checkpoint", "version": 2, "root": root})
    header = json.dumps({"__metadata__": {"tapegrad": structure}}).encode()
    return io.BytesIO(struct.pack("<Q", len(header)) + header)


@pytest.mark.parametrize("entry", [
    {"bogus": 1},
    {},
    [1, 2],
    {"float": "1.5"},
    {"list": 5},
    {"tuple": "ab"},
    {"ndarray ": 0},
])
def test_unrecognized_structure_entries_are_refused(entry):
    with pytest.raises(CheckpointError, match="unrecognized entry .* in the structure"):
        tapegrad.load(_checkpoint({"list": [1, entry]}))
    with pytest.raises(CheckpointError, match="unrecognized entry .* in the structure"):
        tapegrad.load(_checkpoint(entry))


def test_recognized_entries_in_a_hand_made_structure_load():
    root = {"dict": [["a", {"list": [1, {"float": "nan"}, {"tuple": [True, None]}]}], [2, "s"]]}
    back = tapegrad.load(_checkpoint(root))
    assert back["a"][0] == 1 and back["a"][1] != back["a"][1] and back["a"][2] == (True, None) and back[2] == "s"


def _nested_entry(kind, levels):
    x = 1
    for _ in range(levels):
        x = {"dict": [["k", x]]} if kind == "dict" else {kind: [x]}
    return x


@pytest.mark.parametrize("kind", ["dict", "list", "tuple"])
def test_the_reader_refuses_structures_nested_past_its_limit(kind):
    # the reader allows one level more than the writer produces, and no more
    limit = LIMITS["depth"]
    back = tapegrad.load(_checkpoint(_nested_entry(kind, limit + 1)))
    for _ in range(limit + 1):
        back = back["k"] if kind == "dict" else back[0]
    assert back == 1
    with pytest.raises(CheckpointError, match=f"nesting deeper than {limit} levels"):
        tapegrad.load(_checkpoint(_nested_entry(kind, limit + 2)))
