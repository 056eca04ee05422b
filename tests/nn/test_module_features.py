"""Module features beyond hooks, against PyTorch: lookups by path, traversal flags, casts, load_state_dict(assign)."""
import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")


def _net(T):
    inner = T.nn.Linear(2, 3)
    net = T.nn.Sequential(inner, T.nn.ReLU(), T.nn.Sequential(inner, T.nn.Linear(3, 1)))
    net[2][1].register_buffer("count", T.zeros(1, dtype=T.int64))
    net[2][1].register_buffer("scratch", T.zeros(2), persistent=False)
    return net


@pytest.mark.parametrize("T", [tapegrad, torch], ids=["tapegrad", "torch"])
def test_get_parameter_buffer_submodule(T):
    net = _net(T)
    assert net.get_parameter("2.1.weight") is net[2][1].weight
    assert net.get_buffer("2.1.count") is net[2][1].count
    assert net.get_submodule("2.0") is net[0]
    with pytest.raises(AttributeError, match="`count` is not an nn.Parameter"):
        net.get_parameter("2.1.count")
    with pytest.raises(AttributeError, match="`weight` is not a buffer"):
        net.get_buffer("2.1.weight")
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        net.get_parameter("0.nope")
    with pytest.raises(AttributeError):
        net.get_buffer("9.count")


def test_traversal_flags_match_torch():
    ours, theirs = _net(tapegrad), _net(torch)

    def names(m):
        return ([n for n, _ in m.named_modules(prefix="net")],
                [n for n, _ in m.named_modules(remove_duplicate=False)],
                [n for n, _ in m.named_parameters(prefix="p", remove_duplicate=False)],
                [n for n, _ in m.named_parameters(recurse=False)],
                [n for n, _ in m[2].named_parameters(prefix="x")],
                [n for n, _ in m.named_buffers()],
                list(m.state_dict()))

    assert names(ours) == names(theirs)
    memo = set()
    assert [n for n, _ in ours.named_modules(memo=memo)][:2] == ["", "0"]
    assert len(memo) == 5


def test_type_half_float_double_and_share_memory():
    for T in (tapegrad, torch):
        net = _net(T)
        assert net.half().get_parameter("0.weight").dtype == T.float16
        assert net.get_buffer("2.1.count").dtype == T.int64
        assert net.double()[0].bias.dtype == T.float64
        assert net.float()[0].bias.dtype == T.float32
        net.type(T.float64)
        assert net[0].weight.dtype == T.float64 and net.get_buffer("2.1.count").dtype == T.float64
        net.type("torch.FloatTensor")
        assert net[0].weight.dtype == T.float32
        assert net.share_memory() is net
    with pytest.raises(TypeError, match="Module.type: invalid type"):
        tapegrad.nn.Linear(1, 1).type("torch.NoSuchTensor")


def test_load_state_dict_assign_takes_the_tensors_and_returns_incompatible_keys():
    from tapegrad.nn.modules.module import _IncompatibleKeys
    for T in (tapegrad, torch):
        lin = T.nn.Linear(2, 2)
        lin.bias.requires_grad_(False)
        w, b = T.full((2, 2), 3.0), T.zeros(2)
        res = lin.load_state_dict({"weight": w, "bias": b, "extra": w}, strict=False, assign=True)
        assert (res.missing_keys, res.unexpected_keys) == ([], ["extra"])
        assert type(res).__name__ == "_IncompatibleKeys"
        assert isinstance(lin.weight, T.nn.Parameter) and lin.weight.requires_grad
        assert not lin.bias.requires_grad
        w.fill_(5.0)                                   # the module holds w's storage, not a copy
        assert lin.weight.sum().item() == 20.0
        assert repr(lin.load_state_dict(lin.state_dict())) == "<All keys matched successfully>"
    assert isinstance(res, tuple) and _IncompatibleKeys._fields == ("missing_keys", "unexpected_keys")


def test_non_persistent_buffers_are_left_out_of_state_dict_and_loading():
    for T in (tapegrad, torch):
        net = _net(T)
        assert "2.1.scratch" not in net.state_dict()
        assert "2.1.count" in net.state_dict()
        with pytest.raises(RuntimeError, match='Unexpected key.*"2.1.scratch"'):
            net.load_state_dict(dict(net.state_dict(), **{"2.1.scratch": T.zeros(2)}))


def test_requires_grad_and_apply_order_match_torch():
    def run(T):
        seen = []
        net = _net(T).requires_grad_(False)
        net.apply(lambda m: seen.append(type(m).__name__))
        return seen, [p.requires_grad for p in net.parameters()]

    assert run(tapegrad) == run(torch)
    assert not any(np.array(run(tapegrad)[1]))
