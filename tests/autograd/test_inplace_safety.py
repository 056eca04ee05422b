"""In-place writes into memory that cannot take them (expanded or read-only) raise before writing anything."""
import numpy as np
import pytest

import tapegrad

_OVERLAP = (r"unsupported operation: more than one element of the written-to tensor refers to a single memory "
            r"location\. Please clone\(\) the tensor before performing the operation\.")

# Each writes into its argument; torch raises the overlap error for these on an expanded tensor.
_WRITES = {
    "add_": lambda t, lib: t.add_(1),
    "sub_": lambda t, lib: t.sub_(1),
    "mul_": lambda t, lib: t.mul_(2),
    "div_": lambda t, lib: t.div_(2),
    "clamp_": lambda t, lib: t.clamp_(0, 0.5),
    "copy_": lambda t, lib: t.copy_(lib.zeros(2, 3)),
    "iadd": lambda t, lib: t.__iadd__(lib.ones(2, 3)),
}
# torch writes the same value into the shared element for these (masked_fill_ with a deprecation
# warning); tapegrad refuses them too.
_FILLS = {
    "masked_fill_": lambda t, lib: t.masked_fill_(lib.ones(2, 3, dtype=lib.bool), 0.0),
    "fill_": lambda t, lib: t.fill_(2.0),
    "zero_": lambda t, lib: t.zero_(),
    "setitem": lambda t, lib: t.__setitem__(0, 5.0),
}


@pytest.mark.parametrize("name", sorted(_WRITES))
def test_in_place_write_into_expanded_tensor_raises_torchs_error(name):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=_OVERLAP):
        _WRITES[name](torch.ones(3).expand(2, 3), torch)
    _check_refused(name, _WRITES[name], _OVERLAP)


@pytest.mark.parametrize("name", sorted(_FILLS))
def test_fill_and_setitem_into_expanded_tensor_raise(name):
    _check_refused(name, _FILLS[name], _OVERLAP)


def _check_refused(name, write, pattern):
    base = tapegrad.tensor([1.0, 2.0, 3.0])
    e = base.expand(2, 3)
    v = base._version[0]
    with pytest.raises(RuntimeError, match=pattern):
        write(e, tapegrad)
    assert base.tolist() == [1.0, 2.0, 3.0] and e.tolist() == [[1.0, 2.0, 3.0]] * 2
    assert base._version[0] == v


def test_in_place_on_expanded_tensor_that_requires_grad_leaves_history_alone():
    x = tapegrad.ones(3, requires_grad=True)
    e = (x * 2).expand(2, 3)
    fn = e.grad_fn
    with pytest.raises(RuntimeError, match=_OVERLAP):
        e.mul_(tapegrad.ones(2, 3, requires_grad=True))
    assert e.grad_fn is fn and e.tolist() == [[2.0] * 3] * 2
    e.sum().backward()
    assert x.grad.tolist() == [4.0] * 3


@pytest.mark.parametrize("name", sorted(_WRITES) + sorted(_FILLS))
def test_in_place_write_into_read_only_numpy_memory_raises_naming_the_op(name):
    a = np.ones((2, 3), np.float32)
    a.flags.writeable = False
    with pytest.warns(UserWarning, match="not writable"):     # PyTorch warns here too
        t = tapegrad.from_numpy(a)
    write = {**_WRITES, **_FILLS}[name]
    op = {"iadd": "add_"}.get(name, name)
    with pytest.raises(RuntimeError, match=rf"{op}: .*read-only.*clone\(\)"):
        write(t, tapegrad)
    assert (a == 1).all() and t._version[0] == 0
    c = t.clone()                               # the remedy the message names
    write(c, tapegrad)
    assert (a == 1).all()


def test_a_failed_in_place_op_changes_nothing():
    x = tapegrad.ones(3, requires_grad=True)
    y = x * 2
    fn, v = y.grad_fn, y._version[0]
    with pytest.raises(RuntimeError, match=r"add_: .*shape"):
        y.add_(tapegrad.ones(2, 3))            # would broadcast y to (2, 3)
    with pytest.raises(RuntimeError, match=r"mul_: .*can't be cast"):
        tapegrad.ones(3, dtype=tapegrad.int64).mul_(1.5)
    with pytest.raises(IndexError, match=r"index 5 is out of bounds for dimension 0 with size 3"):
        y[[0, 5]] = 7.0                         # index 0 is valid, 5 is not: nothing is written
    with pytest.raises(IndexError, match=r"index 5 is out of bounds for dimension 0 with size 3"):
        y[[0, 5]] = tapegrad.ones(2, requires_grad=True)
    assert y.grad_fn is fn and y._version[0] == v and y.tolist() == [2.0] * 3
    y.sum().backward()
    assert x.grad.tolist() == [2.0] * 3


def test_writable_tensors_and_views_are_still_written_in_place():
    base = tapegrad.zeros(2, 3)
    row = base[1]
    row.add_(1)
    base[0] = 5.0
    assert base.tolist() == [[5.0] * 3, [1.0] * 3]
    e = tapegrad.ones(3).expand(2, 3).clone()
    e.add_(1)
    assert e.tolist() == [[2.0] * 3] * 2
