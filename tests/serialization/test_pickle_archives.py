"""Whole modules, optimizers and other objects: tapegrad's pickle archives and the weights-only safety model."""
import collections
import io
import pickle
import zipfile

import numpy as np
import pytest

import tapegrad
import tapegrad.serialization as ts
from tapegrad.utils.serialization import CheckpointError, WeightsOnlyError


@pytest.fixture(autouse=True)
def _no_user_globals():
    ts.clear_safe_globals()
    yield
    ts.clear_safe_globals()


def _saved(obj, **kw):
    buf = io.BytesIO()
    tapegrad.save(obj, buf, **kw)
    buf.seek(0)
    return buf


def _model():
    tapegrad.manual_seed(0)
    return tapegrad.nn.Sequential(tapegrad.nn.Linear(3, 4), tapegrad.nn.Tanh(), tapegrad.nn.Linear(4, 2)).double()


def _step(model, opt, x, y):
    opt.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    return loss.item()


def test_state_dicts_are_still_written_as_safetensors():
    buf = _saved(_model().state_dict())
    assert buf.getvalue()[8:9] == b"{" and not zipfile.is_zipfile(buf)


def test_a_module_and_its_optimizer_round_trip_and_keep_training_identically():
    model = _model()
    opt = tapegrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = tapegrad.randn(8, 3, dtype=tapegrad.float64), tapegrad.randn(8, 2, dtype=tapegrad.float64)
    _step(model, opt, x, y)
    buf = _saved({"model": model, "opt": opt, "epoch": 1})
    assert zipfile.is_zipfile(buf)
    buf.seek(0)
    got = tapegrad.load(buf, weights_only=False)
    m2, o2 = got["model"], got["opt"]
    assert type(m2) is tapegrad.nn.Sequential and got["epoch"] == 1
    assert o2.param_groups[0]["params"][0] is m2[0].weight          # shared parameters stay shared
    assert isinstance(m2[0].weight, tapegrad.nn.Parameter) and m2[0].weight.requires_grad
    for _ in range(3):
        assert _step(model, opt, x, y) == _step(m2, o2, x, y)
    np.testing.assert_array_equal(model[2].weight.detach().numpy(), m2[2].weight.detach().numpy())


def test_the_default_load_refuses_a_module_naming_its_class():
    buf = _saved(_model())
    with pytest.raises(WeightsOnlyError, match=r"refuses the global tapegrad\.nn\.modules\.container\.Sequential.*"
                                               r"add_safe_globals.*weights_only=False") as e:
        tapegrad.load(buf)
    assert isinstance(e.value, CheckpointError) and isinstance(e.value, pickle.UnpicklingError)
    buf.seek(0)
    with pytest.raises(WeightsOnlyError):
        tapegrad.load(buf, weights_only=None)


def test_allow_listed_classes_load_under_weights_only():
    from tapegrad.nn.modules.activation import Tanh
    from tapegrad.nn.modules.container import Sequential
    from tapegrad.nn.modules.linear import Linear
    model = _model()
    buf = _saved(model)
    with ts.safe_globals([Sequential, Linear]):
        with pytest.raises(WeightsOnlyError, match="activation.Tanh"):
            tapegrad.load(buf)
        assert ts.get_safe_globals() == [Sequential, Linear]
    assert ts.get_safe_globals() == []
    ts.add_safe_globals([Sequential, Linear, (Tanh, "tapegrad.nn.modules.activation.Tanh")])
    buf.seek(0)
    m2 = tapegrad.load(buf)
    x = tapegrad.randn(2, 3, dtype=tapegrad.float64)
    np.testing.assert_array_equal(m2(x).detach().numpy(), model(x).detach().numpy())
    ts.clear_safe_globals()
    buf.seek(0)
    with pytest.raises(WeightsOnlyError):
        tapegrad.load(buf)


def test_builtin_containers_dtypes_devices_and_sizes_load_under_weights_only():
    t = tapegrad.arange(6.0).reshape(2, 3)
    obj = {"od": collections.OrderedDict(a=t), "cnt": collections.Counter("aab"), "ba": bytearray(b"xy"),
           "set": {1, 2}, "fs": frozenset({3}), "c": 1 + 2j,
           "dtype": tapegrad.float16, "device": tapegrad.device("cpu"), "size": t.shape, "bytes": b"\x00\xff",
           "slice": slice(1, 2), "again": t, "arr": np.arange(3, dtype=np.int16)}
    got = tapegrad.load(_saved(obj))
    assert got["again"] is got["od"]["a"] and type(got["od"]) is collections.OrderedDict
    assert got["cnt"] == collections.Counter("aab") and type(got["cnt"]) is collections.Counter
    assert got["ba"] == bytearray(b"xy")
    assert got["dtype"] is tapegrad.float16 and got["device"] == tapegrad.device("cpu")
    assert type(got["size"]) is type(t.shape) and got["size"] == (2, 3)
    assert (got["set"], got["fs"], got["c"], got["bytes"], got["slice"]) == ({1, 2}, frozenset({3}), 1 + 2j,
                                                                            b"\x00\xff", slice(1, 2))
    assert got["arr"].dtype == np.int16 and got["arr"].tolist() == [0, 1, 2]
    np.testing.assert_array_equal(got["again"].numpy(), t.numpy())


def test_arbitrary_picklable_objects_need_weights_only_false_or_an_allow_list():
    obj = collections.ChainMap({"a": 1})
    buf = _saved(obj)
    with pytest.raises(WeightsOnlyError, match="collections.ChainMap"):
        tapegrad.load(buf)
    buf.seek(0)
    assert tapegrad.load(buf, weights_only=False) == obj


def test_add_safe_globals_checks_its_argument():
    with pytest.raises(TypeError, match="expected a list"):
        ts.add_safe_globals(collections.Counter)
    with pytest.raises(TypeError, match=r"\(object, 'module.name'\)"):
        ts.add_safe_globals([(collections.Counter, 3)])
    with pytest.raises(TypeError, match="weights_only must be True, False or None"):
        tapegrad.load(_saved({"a": 1}), weights_only="yes")


def test_map_location_applies_to_pickle_archives(tmp_path):
    model = _model()
    tapegrad.save(model, tmp_path / "m.pt")
    m2 = tapegrad.load(tmp_path / "m.pt", map_location="cpu", weights_only=False)
    assert m2[0].weight.device == tapegrad.device("cpu")
    assert (tmp_path / "m.pt").stat().st_size > 0 and [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_the_pickle_size_limit_applies(monkeypatch):
    from tapegrad.utils.serialization import LIMITS
    buf = _saved({"m": _model(), "log": "x" * 5000})
    monkeypatch.setitem(LIMITS, "pickle_bytes", 4096)
    with pytest.raises(CheckpointError, match=r"the pickle takes \d+ bytes, more than the limit of 4096"):
        tapegrad.load(buf, weights_only=False)


def test_compressed_pickle_members_are_refused():
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", pickle.dumps({"a": 1}, protocol=2))
    raw.seek(0)
    with pytest.raises(CheckpointError, match="member 'archive/data.pkl' is compressed"):
        tapegrad.load(raw)


def test_big_endian_torch_archives_are_byte_swapped():
    from .crafted_pickles import _archive, _pkl, _storage, _view
    pkl = _pkl(_view(_storage("0", 3, "DoubleStorage"), 0, (3,), (1,)))
    buf = io.BytesIO()
    _archive(buf, pkl, [("0", np.array([1.5, -2.0, 3.25], ">f8").tobytes())], byteorder="big")
    buf.seek(0)
    got = tapegrad.load(buf)
    assert got.dtype is tapegrad.float64 and got.tolist() == [1.5, -2.0, 3.25]


def test_copying_or_pickling_a_device_leaves_the_cached_devices_alone():
    import copy
    cuda = tapegrad.device("cuda")
    assert copy.deepcopy(cuda) is cuda and pickle.loads(pickle.dumps(cuda)) is cuda
    assert tapegrad.device("cpu").type == "cpu"        # (copying once rebuilt it by setting attributes on cpu's)
