"""functional_call: replacing parameters and buffers for one call, tied weights, strict, restoring."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad import func as tf


class Tied(tg.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = tg.nn.Linear(2, 2, bias=False)
        self.b = tg.nn.Linear(2, 2, bias=False)
        self.b.weight = self.a.weight
        self.register_buffer("scale", tg.tensor(2.0))

    def forward(self, x):
        return self.b(self.a(x)) * self.scale


def test_replaces_for_one_call_and_restores():
    m = Tied()
    w0 = m.a.weight
    x = tg.tensor([[1.0, 2.0]])
    eye = tg.eye(2)
    out = tf.functional_call(m, {"a.weight": eye, "scale": tg.tensor(3.0)}, x)     # tied: b.weight too
    assert out.tolist() == [[3.0, 6.0]]
    assert m.a.weight is w0 and m.b.weight is w0 and m.scale.item() == 2.0
    untied = tf.functional_call(m, {"a.weight": eye}, (x,), tie_weights=False)
    np.testing.assert_allclose(untied.detach().numpy(), (m.b(x) * 2).detach().numpy(), rtol=1e-6)
    two = tf.functional_call(m, ({"a.weight": eye}, {"scale": tg.tensor(1.0)}), args=(), kwargs={"x": x})
    assert two.tolist() == [[1.0, 2.0]]


def test_restores_after_an_error_and_checks_keys():
    m = Tied()
    w0 = m.a.weight
    with pytest.raises(RuntimeError):
        tf.functional_call(m, {"a.weight": tg.ones(3, 3)}, tg.ones(1, 2))
    assert m.a.weight is w0 and m.b.weight is w0
    with pytest.raises(RuntimeError, match="Missing key\\(s\\): 'b.weight', 'scale'"):
        tf.functional_call(m, {"a.weight": tg.eye(2)}, tg.ones(1, 2), strict=True)
    with pytest.raises(RuntimeError, match="Unexpected key\\(s\\): 'c'"):
        tf.functional_call(m, {"a.weight": tg.eye(2), "b.weight": tg.eye(2), "scale": tg.ones(()),
                               "c": tg.ones(1)}, tg.ones(1, 2), strict=True)
    with pytest.raises(ValueError, match="multiple values for keys \\['a.weight', 'b.weight'\\], which are tied"):
        tf.functional_call(m, {"a.weight": tg.eye(2), "b.weight": tg.ones(2, 2)}, tg.ones(1, 2))
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        tf.functional_call(m, ({"scale": tg.ones(())}, {"scale": tg.ones(())}), tg.ones(1, 2))


def test_matches_torch_on_tied_weights_and_buffers():
    torch = pytest.importorskip("torch")

    class TTied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Linear(2, 2, bias=False)
            self.b = torch.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight
            self.register_buffer("scale", torch.tensor(2.0))

        def forward(self, x):
            return self.b(self.a(x)) * self.scale
    w = np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32)
    x = np.array([[1.0, -2.0]], dtype=np.float32)
    got = tf.grad(lambda w: tf.functional_call(Tied(), {"a.weight": w}, tg.tensor(x)).sum())(tg.tensor(w))
    want = torch.func.grad(lambda w: torch.func.functional_call(TTied(), {"a.weight": w},
                                                                torch.tensor(x)).sum())(torch.tensor(w))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
