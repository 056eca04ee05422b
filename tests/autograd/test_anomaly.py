"""detect_anomaly: NaN/Inf in forward or backward raises, naming the op and the user's line."""
import warnings

import pytest

import tapegrad as tg
from tapegrad.autograd import anomaly


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def test_forward_anomaly_names_op_inputs_and_line():
    x = tg.tensor([-1.0, 1.0], requires_grad=True)
    with tg.autograd.detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            tg.log(x)  # the line the error must point at
    msg = str(info.value)
    assert "forward of log" in msg and "(2,)" in msg and "float32" in msg
    assert "test_anomaly.py" in msg and "the line the error must point at" in msg


def test_backward_anomaly_names_op_and_forward_line():
    z = tg.tensor([0.0, 1.0], requires_grad=True)
    with tg.autograd.detect_anomaly():
        y = z.sqrt()  # forward call site
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
    msg = str(info.value)
    assert "backward of sqrt" in msg and "forward call site" in msg and "(2,) float32" in msg


def test_function_anomaly_in_forward():
    class Bad(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x / 0.0

        @staticmethod
        def backward(ctx, g):
            return g
    with tg.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="anomaly detected in forward of"):
            Bad.apply(tg.ones(1, requires_grad=True))


def test_off_by_default_and_restored():
    assert not anomaly.is_anomaly_enabled()
    y = tg.log(tg.tensor([-1.0]))                 # no error when off
    assert y.isnan().item()
    with tg.autograd.detect_anomaly():
        assert anomaly.is_anomaly_enabled()
    assert not anomaly.is_anomaly_enabled()
    try:
        with tg.autograd.detect_anomaly():
            raise KeyError
    except KeyError:
        pass
    assert not anomaly.is_anomaly_enabled()


def test_no_node_stack_recorded_when_off():
    y = tg.ones(2, requires_grad=True) * 2
    assert y.grad_fn.anomaly is None


def test_set_detect_anomaly_call_form():
    tg.autograd.set_detect_anomaly(True)
    try:
        assert anomaly.is_anomaly_enabled()
    finally:
        tg.autograd.set_detect_anomaly(False)
    assert not anomaly.is_anomaly_enabled()
