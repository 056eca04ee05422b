"""ParameterList, ParameterDict and DataParallel against PyTorch: registration, names, indexing, repr, state_dict."""
import numpy as np
import pytest

import tapegrad
from tapegrad import nn

torch = pytest.importorskip("torch")


def _names(m):
    return [(k, tuple(v.shape), type(v).__name__) for k, v in m.named_parameters()]


def _build_list(T):
    pl = T.nn.ParameterList([T.zeros(2, 3), T.nn.Parameter(T.ones(4))])
    pl.append(T.zeros(1))
    pl.extend([T.ones(2)])
    pl += [T.zeros(5)]
    pl[0] = T.ones(2, 3)
    pl.append("not a tensor")
    return pl


def test_parameter_list_matches_torch():
    ours, theirs = _build_list(tapegrad), _build_list(torch)
    assert _names(ours) == _names(theirs)
    assert len(ours) == len(theirs) == 6
    assert [tuple(p.shape) for p in ours[1:5:2]] == [tuple(p.shape) for p in theirs[1:5:2]] == [(4,), (2,)]
    assert type(ours[1:3]) is nn.ParameterList and ours[-2] is ours[4]
    assert ours[5] == "not a tensor"
    assert repr(ours).replace("tapegrad", "torch") == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for T, pl in ((tapegrad, ours), (torch, theirs)):
        with pytest.raises(IndexError, match="index 6 is out of range"):
            pl[6]
        with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable"):
            pl.extend(T.ones(2))
        with pytest.raises(RuntimeError, match="ParameterList should not be called"):
            pl()
    assert "0" not in dir(ours)


def test_parameter_list_trains_inside_a_module():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([nn.Parameter(tapegrad.full((2,), float(i + 1))) for i in range(3)])

        def forward(self, x):
            for w in self.ws:
                x = x * w
            return x.sum()

    net = Net()
    net(tapegrad.ones(2)).backward()
    assert [p.grad.tolist() for p in net.parameters()] == [[6.0, 6.0], [3.0, 3.0], [2.0, 2.0]]
    assert [k for k, _ in net.named_parameters()] == ["ws.0", "ws.1", "ws.2"]


def _build_dict(T):
    pd = T.nn.ParameterDict({"b": T.zeros(2), "a": T.nn.Parameter(T.ones(3, 1, dtype=T.float64))})
    pd.update([("z", T.zeros(1)), ("c", T.ones(2))])
    pd["m"] = T.zeros(2, 2)
    pd.setdefault("s", T.zeros(4))
    pd.setdefault("a", T.zeros(9))
    return pd


def test_parameter_dict_matches_torch():
    ours, theirs = _build_dict(tapegrad), _build_dict(torch)
    assert list(ours.keys()) == list(theirs.keys()) == ["a", "b", "z", "c", "m", "s"]
    assert _names(ours) == _names(theirs)
    assert repr(ours).replace("tapegrad", "torch") == repr(theirs)
    for pd in (ours, theirs):
        assert pd.pop("z").shape == (1,) and "z" not in pd
        assert pd.popitem()[0] == "s"
        assert pd.get("nope", 7) == 7
        del pd["m"]
    assert list(ours.keys()) == list(theirs.keys())
    assert list((ours | nn.ParameterDict({"q": tapegrad.ones(1)})).keys()) == ["a", "b", "c", "q"]
    assert list(ours.copy().keys()) == list(ours.keys()) and ours.copy()["a"] is ours["a"]
    for T, pd in ((tapegrad, ours), (torch, theirs)):
        pd.clear()
        assert len(pd) == 0 and list(pd.parameters()) == []
        with pytest.raises(TypeError, match="cannot be used as a key as it is not a string"):
            pd[1] = T.ones(1)
        with pytest.raises(ValueError, match="has length 3; 2 is required"):
            pd.update([("a", T.ones(1), 3)])
    assert list(ours.keys()) == []          # a refused key leaves nothing behind (torch keeps it in _keys)


def test_data_parallel_is_the_module_on_one_device():
    lin = nn.Linear(3, 2)
    tlin = torch.nn.Linear(3, 2)
    dp, tdp = nn.DataParallel(lin), torch.nn.DataParallel(tlin)
    assert dp.module is lin and isinstance(dp, nn.parallel.DataParallel)
    assert list(dp.state_dict()) == list(tdp.state_dict()) == ["module.weight", "module.bias"]
    assert [k for k, _ in dp.named_parameters()] == [k for k, _ in tdp.named_parameters()]
    x = tapegrad.tensor(np.arange(6.0).reshape(2, 3), dtype=tapegrad.float32)
    np.testing.assert_array_equal(np.array(dp(x).tolist()), np.array(lin(x).tolist()))
    dp(x).sum().backward()
    assert lin.weight.grad.tolist() == [[3.0, 5.0, 7.0]] * 2
    fresh = nn.DataParallel(nn.Linear(3, 2))
    fresh.load_state_dict(dp.state_dict())
    assert fresh.module.weight.tolist() == lin.weight.tolist()
    assert repr(dp) == repr(tdp)
    with pytest.raises(TypeError, match="module must be an nn.Module"):
        nn.DataParallel(lambda x: x)
