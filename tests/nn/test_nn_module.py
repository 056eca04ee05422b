"""nn.Module semantics: registration, traversal, modes, grads, state dicts, devices, repr."""
import numpy as np
import pytest

import tapegrad
from tapegrad import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2)
        self.register_buffer("steps", tapegrad.zeros(1))
        self.register_buffer("scratch", tapegrad.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def test_registration_and_traversal_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert list(net.children())[0] is net.fc1
    assert len(list(net.modules())) == 4
    assert isinstance(net.fc1.weight, nn.Parameter)


def test_shared_parameters_and_modules_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.modules())) == 2


def test_reassignment_and_deletion():
    m = nn.Module()
    m.w = nn.Parameter(tapegrad.ones(2))
    m.w = None
    assert list(m.named_parameters()) == []
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'w'"):
        m.w = tapegrad.ones(2)
    m.sub = nn.Linear(1, 1)
    del m.sub
    assert list(m.children()) == []
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        m.nope


def test_assign_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_register_buffer_errors():
    m = nn.Module()
    with pytest.raises(KeyError, match="without '.'"):
        m.register_buffer("a.b", tapegrad.zeros(1))
    with pytest.raises(TypeError, match="Tensor or None"):
        m.register_buffer("a", 3)


def test_call_runs_forward_and_missing_forward_raises():
    net = Net()
    assert net(tapegrad.ones(5, 3)).shape == (5, 2)
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def test_train_eval_recursive():
    net = Net()
    assert net.training and net.fc1.training
    assert net.eval() is net
    assert not net.training and not net.fc1.training
    net.train()
    assert net.fc2.training


def test_zero_grad_none_and_zeros():
    net = Net()
    net(tapegrad.ones(2, 3)).sum().backward()
    assert net.fc1.weight.grad is not None
    g = net.fc1.weight.grad
    net.zero_grad(set_to_none=False)
    assert net.fc1.weight.grad is g and float(g.abs().sum()) == 0.0
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_apply_visits_children_first():
    seen = []
    Net().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Net"]


def test_state_dict_round_trip_in_place():
    a, b = Net(), Net()
    sd = a.state_dict()
    # PyTorch's order: a module's own parameters and buffers, then its children's
    assert list(sd) == ["steps", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert not sd["fc1.weight"].requires_grad
    w_before = b.fc1.weight
    res = b.load_state_dict(sd)
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert b.fc1.weight is w_before
    np.testing.assert_array_equal(b.fc1.weight.detach().numpy(), a.fc1.weight.detach().numpy())
    # the state dict shares storage with the module
    assert np.shares_memory(sd["fc1.weight"].numpy(), a.fc1.weight.detach().numpy())


def test_load_state_dict_errors_leave_module_untouched():
    a, b = Net(), Net()
    before = {k: v.numpy().copy() for k, v in b.state_dict().items()}
    sd = dict(a.state_dict())
    sd.pop("fc2.bias")
    sd["extra"] = tapegrad.zeros(1)
    sd["fc1.weight"] = tapegrad.zeros(5, 5)
    with pytest.raises(RuntimeError) as e:
        b.load_state_dict(sd)
    msg = str(e.value)
    assert 'Missing key(s) in state_dict: "fc2.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra"' in msg
    assert "size mismatch for fc1.weight: copying a param with shape (5, 5)" in msg
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_load_state_dict_non_strict_reports_keys_and_casts_dtype():
    a, b = Net(), Net()
    sd = {k: v.double() for k, v in a.state_dict().items() if k != "steps"}
    sd["extra"] = tapegrad.zeros(1)
    res = b.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["steps"] and res.unexpected_keys == ["extra"]
    assert b.fc1.weight.dtype == tapegrad.float32
    np.testing.assert_allclose(b.fc1.weight.detach().numpy(), a.fc1.weight.detach().numpy())


def test_to_keeps_parameter_identity_and_optimizer_works():
    net = Net()
    opt = tapegrad.optim.SGD(net.parameters(), lr=0.1)
    w = net.fc1.weight
    net.to(tapegrad.float64)
    assert net.fc1.weight is w and w.dtype == tapegrad.float64 and net.steps.dtype == tapegrad.float64
    net(tapegrad.ones(2, 3, dtype=tapegrad.float64)).sum().backward()
    before = w.detach().numpy().copy()
    opt.step()
    assert not np.array_equal(before, w.detach().numpy())
    assert net.cpu() is net and net.float().fc2.bias.dtype == tapegrad.float32
    with pytest.raises(TypeError, match="floating point"):
        net.to(tapegrad.int64)


@pytest.mark.parametrize("args", [("float64",), ("cpu", "float64"), ("tensor64",), ("cpu",)])
def test_to_arguments_parse_like_torch(args):
    # Tensor.to and Module.to share parse_to_args (tapegrad/_device.py): a dtype, a device, or a tensor to match.
    torch = pytest.importorskip("torch")

    def run(lib):
        conv = {"float64": lib.float64, "cpu": "cpu", "tensor64": lib.ones(1, dtype=lib.float64)}
        a = [conv[x] for x in args]
        lin = lib.nn.Linear(2, 2)
        return str(lib.ones(2).to(*a).dtype).split(".")[-1], str(lin.to(*a).weight.dtype).split(".")[-1]

    assert run(tapegrad) == run(torch)


def test_repr_matches_pytorch_layout():
    net = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Tanh(), nn.Dropout(0.1)))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): Tanh()\n"
        "    (1): Dropout(p=0.1, inplace=False)\n"
        "  )\n"
        ")")


def test_requires_grad_and_deepcopy():
    import copy
    net = Net().requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    clone = copy.deepcopy(net)
    assert clone.fc1.weight is not net.fc1.weight
    np.testing.assert_array_equal(clone.fc1.weight.numpy(), net.fc1.weight.numpy())


def test_parameter_basics():
    p = nn.Parameter(tapegrad.zeros(2))
    assert p.requires_grad and p.is_leaf and isinstance(p, tapegrad.Tensor)
    assert not nn.Parameter(tapegrad.zeros(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")
    with pytest.raises(TypeError, match="must be a Tensor"):
        nn.Parameter([1.0])
