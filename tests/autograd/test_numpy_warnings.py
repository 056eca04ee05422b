"""No NumPy RuntimeWarning escapes tapegrad (PyTorch is silent), and the user's NumPy error state is untouched."""
import warnings

import numpy as np
import pytest

import tapegrad

_CASES = {
    "log(0)": lambda x: x.log(),
    "sqrt(-1)": lambda x: x.sqrt(),
    "0/0": lambda x: x / x,
    "pow(0, -1)": lambda x: x ** -1.0,
    "exp overflow": lambda x: (x * 1e30 + 1e30).exp(),
    "inf - inf": lambda x: (x * 0 + float("inf")) - float("inf"),
}
_VALUES = [0.0, -1.0, 0.0]


@pytest.fixture
def record():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


@pytest.mark.parametrize("name", sorted(_CASES))
@pytest.mark.parametrize("create_graph", [False, True])
def test_no_numpy_warning_escapes_forward_or_backward(record, name, create_graph):
    x = tapegrad.tensor(_VALUES, requires_grad=True)
    y = _CASES[name](x)
    y.sum().backward(create_graph=create_graph)
    tapegrad.autograd.grad(_CASES[name](x).sum(), x)
    _CASES[name](tapegrad.tensor(_VALUES, dtype=tapegrad.float64))     # no grad: the plain forward
    assert [str(w.message) for w in record] == []
    # The same computation straight in NumPy does warn: the state was restored after each call.
    with np.errstate(all="warn"):
        np.log(np.zeros(1))
    assert any(issubclass(w.category, RuntimeWarning) for w in record)


def test_torch_is_silent_too(record):
    torch = pytest.importorskip("torch")
    x = torch.tensor(_VALUES, requires_grad=True)
    for f in _CASES.values():
        f(x).sum().backward()
    assert [str(w.message) for w in record] == []


def test_user_numpy_state_is_unchanged_even_after_errors(record):
    before = np.geterr()
    with pytest.raises(RuntimeError):
        tapegrad.ones(2) + tapegrad.ones(3)             # a forward that raises
    x = tapegrad.ones(2, requires_grad=True)
    y = (x * 2).log()
    y.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.sum().backward()                              # a backward that raises
    assert np.geterr() == before
    np.log(np.zeros(1))                                 # the user's own log(0) still warns
    assert [w.category for w in record] == [RuntimeWarning]


def test_user_errstate_raise_is_kept_around_tapegrad_calls():
    with np.errstate(divide="raise"):
        tapegrad.zeros(2).log()                         # tapegrad: -inf, as in PyTorch
        x = tapegrad.zeros(2, requires_grad=True)
        x.log().sum().backward()
        assert x.grad.tolist() == [float("inf")] * 2
        with pytest.raises(FloatingPointError):
            np.log(np.zeros(1))


def test_fallback_without_numpys_private_context_variable(monkeypatch, record):
    import sys
    from tapegrad.backend import numpy_backend as nb
    monkeypatch.setitem(sys.modules, "numpy._core._ufunc_config", None)     # the import now fails
    enter, leave, state = nb._quiet_state()
    token = enter(state)
    np.log(np.zeros(1))
    leave(token)
    assert record == []
    np.log(np.zeros(1))
    assert [w.category for w in record] == [RuntimeWarning]
