"""Tape text and DOT export, node names and next_functions, and tensor repr (vs PyTorch when installed)."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import format_tape, to_dot
from tapegrad.autograd.graph import AccumulateGrad


def test_format_tape_lists_ops_in_recording_order():
    x = tg.ones(2, 3, requires_grad=True)
    w = tg.ones(3, dtype=tg.float32, requires_grad=True)
    h = (x * w).exp()
    y = h.sum() + (h * 2).sum()
    text = format_tape(y)
    lines = text.splitlines()
    assert lines[0] == "tape: 6 ops"
    names = [ln.split()[1] for ln in lines[1:]]
    assert names == ["MultiplyBackward0", "ExpBackward0", "SumBackward0", "MultiplyBackward0",
                     "SumBackward0", "AddBackward0"]
    assert [ln.split()[0] for ln in lines[1:]] == [f"#{i}" for i in range(6)]
    assert "in: (2, 3) float32 <- leaf, (3,) float32 <- leaf  out: (2, 3) float32" in lines[1]
    assert "<- #1" in lines[3] and "out: () float32" in lines[6]


def test_format_tape_of_leaf_and_multiple_roots():
    x = tg.ones(2, requires_grad=True)
    assert format_tape(x) == "tape: 0 ops"
    a, b = x * 2, x.exp()
    assert format_tape([a, b]).splitlines()[0] == "tape: 2 ops"


def test_to_dot():
    x = tg.ones(2, requires_grad=True)
    y = (x * x).sum()
    dot = to_dot(y)
    assert dot.startswith('digraph "tape" {') and dot.endswith("}")
    assert 'leaf0 [shape=box, label="leaf\\n(2,) float32"];' in dot
    assert 'op0 [shape=ellipse, label="#0 MultiplyBackward0\\n(2,) float32"];' in dot
    assert "leaf0 -> op0;" in dot and "op0 -> op1;" in dot
    assert dot.count("leaf0 [") == 1          # a leaf used twice is drawn once


def test_tape_of_long_chain_is_iterative():
    y = tg.ones(1, requires_grad=True)
    for _ in range(5000):
        y = y * 1.0
    assert format_tape(y).count("\n") == 5000


def test_grad_fn_repr_and_next_functions():
    x = tg.ones(2, requires_grad=True)
    y = x * 2
    z = y.exp()
    assert repr(z.grad_fn) == "<ExpBackward0>" and z.grad_fn.name() == "ExpBackward0"
    (prev, nr), = z.grad_fn.next_functions
    assert prev is y.grad_fn and nr == 0
    (acc, nr), (const, _) = y.grad_fn.next_functions
    assert isinstance(acc, AccumulateGrad) and acc.variable is x and repr(acc) == "<AccumulateGrad>"
    assert const is None


def test_tensor_repr_basics():
    assert repr(tg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(tg.tensor([1.5, -2.25])) == "tensor([ 1.5000, -2.2500])"
    assert repr(tg.tensor(3)) == "tensor(3)"
    assert repr(tg.tensor([True, False])) == "tensor([ True, False])"
    assert repr(tg.tensor([1.0], dtype=tg.float64)) == "tensor([1.], dtype=tapegrad.float64)"
    assert repr(tg.tensor([1, 2], dtype=tg.int32)) == "tensor([1, 2], dtype=tapegrad.int32)"
    assert repr(tg.ones(2, requires_grad=True)) == "tensor([1., 1.], requires_grad=True)"
    assert repr(tg.ones(2, requires_grad=True) * 2) == "tensor([2., 2.], grad_fn=<MultiplyBackward0>)"
    assert repr(tg.zeros(0)) == "tensor([])"
    assert repr(tg.zeros(0, 3)) == "tensor([], size=(0, 3))"


CASES = [[1.0, 2.0], [1.5, -2.25], [1e-5, 1.0], [1.0, 1e9], [1.0, -20.0], [[1.0, 2.0], [3.0, 4.0]],
         [1.0, float("nan"), float("inf")], [0.0, 100.0], [0.1, 0.2, 0.3], 3.0, 2.5, [], [True, False], True,
         [1, 100, -5], [[0.0, 0.0]], list(range(2000)), -0.5]


@pytest.mark.parametrize("values", CASES, ids=range(len(CASES)))
def test_repr_matches_pytorch(values):
    torch = pytest.importorskip("torch")
    assert repr(tg.tensor(values)).replace("tapegrad.", "torch.") == repr(torch.tensor(values))


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([1.0, 2.0], dtype=m.float64),
    lambda m: m.tensor([], dtype=m.float64),
    lambda m: m.zeros(0, 3),
    lambda m: m.tensor([1, 2], dtype=m.int32),
    lambda m: m.ones(2, requires_grad=True),
    lambda m: m.tensor(np.random.RandomState(0).randn(20, 30).astype(np.float32) * 10),
    lambda m: m.tensor(np.random.RandomState(1).randn(3, 4, 5).astype(np.float32)),
    lambda m: m.tensor(np.random.RandomState(2).randn(2000, 3).astype(np.float32)),
])
def test_repr_matches_pytorch_dtypes_and_shapes(make):
    torch = pytest.importorskip("torch")
    assert repr(make(tg)).replace("tapegrad.", "torch.") == repr(make(torch))
