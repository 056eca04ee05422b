"""tapegrad.onnx.export: each mapped op, run by onnxruntime, gives tapegrad's values."""
import io

import numpy as np
import pytest

import tapegrad
from tapegrad import nn
import tapegrad.nn.functional as F
from tapegrad.ops.registry import REGISTRY
from tapegrad.onnx._ops import TABLE

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _session(model):
    """An onnxruntime session with graph optimizations off: the tests check the exported graph itself, and
    onnxruntime 1.19-1.21's GatherSliceToSplitFusion pass names two nodes alike on a GRU's step-by-step graph
    ("two nodes with same node name"), which the checker accepts."""
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


def _run(model, args, new_args=None, **kw):
    buf = io.BytesIO()
    names = [f"x{i}" for i in range(len(args))]
    tapegrad.onnx.export(model, args, buf, input_names=names, **kw)
    onnx.checker.check_model(onnx.load_from_string(buf.getvalue()))
    sess = _session(buf.getvalue())
    new_args = new_args or args
    got = sess.run(None, {n: a.numpy() for n, a in zip(names, new_args)})
    with tapegrad.no_grad():
        want = model(*new_args)
    want = [want] if isinstance(want, tapegrad.Tensor) else list(want)
    want = [t for w in want for t in (w if isinstance(w, tuple) else (w,))]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == tuple(w.shape)
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-5, atol=1e-5)
    return buf.getvalue()


class _Elementwise(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x, y):
        h = self.lin(x)
        a = (h - y) * 2.0 / (y.abs() + 1) + (-h).exp() - (y * y + 1).log()
        b = h.sigmoid() + h.tanh() + F.relu(h) + F.gelu(h) + h.pow(2) + h.sqrt().nan_to_num(0.0) * 0
        c = tapegrad.where(h > 0, h, y) + tapegrad.maximum(h, y) + tapegrad.clamp(h, -0.5, 0.5)
        return a + b + c + tapegrad.erf(y)


class _Shapes(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 6)

    def forward(self, x):
        h = self.lin(x)                                  # (B, 6)
        s = h.softmax(-1) + h.log_softmax(dim=1)
        r = h.reshape(-1, 2, 3).transpose(1, 2)         # (B, 3, 2)
        m = r.mean(dim=2) + r.sum(dim=2) + r.amax(dim=2)  # (B, 3)
        cat = tapegrad.cat([m, h[:, 1:4], h[:, ::2]], dim=1)     # (B, 9)
        e = h[:, :1].expand(-1, 3) + h[:, 0:3] + h.narrow(1, 2, 3)
        return cat, s, e, h[:, -1], tapegrad.matmul(r, r.transpose(1, 2))


def test_elementwise_ops():
    tapegrad.manual_seed(0)
    _run(_Elementwise(), (tapegrad.randn(3, 4), tapegrad.randn(3, 4)), (tapegrad.randn(3, 4), tapegrad.randn(3, 4)))


class _Masked(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        h = self.lin(x)
        keep = (h > 0) & (x < 1)          # computed from the inputs, never recorded
        return tapegrad.where(keep, h, -h) + keep.float() * 3


def test_unrecorded_ops_on_the_inputs_are_exported_not_frozen():
    tapegrad.manual_seed(0)
    x = tapegrad.randn(3, 4)
    data = _run(_Masked(), (x,), (-x,))
    ops = {n.op_type for n in onnx.load_from_string(data).graph.node}
    assert {"Greater", "Less", "And", "Where", "Cast"} <= ops


def test_shape_ops_with_a_dynamic_batch():
    tapegrad.manual_seed(0)
    _run(_Shapes(), (tapegrad.randn(2, 4),), (tapegrad.randn(5, 4),),
         dynamic_axes={"x0": {0: "batch"}, **{f"output_{i}": {0: "batch"} for i in range(5)}})


def test_transformer_with_dynamic_batch_and_sequence():
    tapegrad.manual_seed(0)
    model = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, activation="gelu", norm_first=True).eval()
    _run(model, (tapegrad.randn(2, 3, 8),), (tapegrad.randn(4, 6, 8),),
         dynamic_axes={"x0": {0: "batch", 1: "seq"}, "output_0": {0: "batch", 1: "seq"}})


def test_stacked_bidirectional_lstm():
    tapegrad.manual_seed(0)
    model = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    data = _run(model, (tapegrad.randn(5, 2, 3),), (tapegrad.randn(5, 3, 3),),
                dynamic_axes={"x0": {1: "batch"}, "output_0": {1: "batch"}})
    nodes = onnx.load_from_string(data).graph.node
    directions = [a.s.decode() for n in nodes if n.op_type == "LSTM" for a in n.attribute if a.name == "direction"]
    assert sorted(directions) == ["forward", "forward", "reverse", "reverse"]


def test_lstm_with_given_initial_states():
    tapegrad.manual_seed(0)
    model = nn.LSTM(3, 4, batch_first=True)
    h0, c0 = tapegrad.randn(1, 2, 4), tapegrad.randn(1, 2, 4)

    class WithStates(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = model

        def forward(self, x, h, c):
            return self.lstm(x, (h, c))[0]
    _run(WithStates(), (tapegrad.randn(2, 5, 3), h0, c0))


def test_every_table_entry_is_a_registered_op():
    assert set(TABLE) - {"LSTMScan"} <= set(REGISTRY)


class _Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.lin = nn.Linear(4, 3)

    def forward(self, ids):
        return self.lin(self.emb(ids)).max(dim=1).values


def test_embedding_lookup_of_integer_inputs_with_a_dynamic_batch():
    tapegrad.manual_seed(0)
    ids = tapegrad.tensor([[1, 2, 3], [4, 5, 6]])
    new = tapegrad.tensor([[9, 0, 1], [2, 2, 2], [7, 8, 3], [0, 0, 5]])
    data = _run(_Tagger(), (ids,), (new,), dynamic_axes={"x0": {0: "batch"}, "output_0": {0: "batch"}})
    assert "Gather" in {n.op_type for n in onnx.load_from_string(data).graph.node}


def test_same_padding_and_pooling_with_a_dynamic_batch():
    tapegrad.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding="same"), nn.AvgPool2d(2), nn.ZeroPad2d((1, 0, 2, 1)),
                          nn.MaxPool2d(3, stride=2, ceil_mode=True), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    _run(model, (tapegrad.randn(2, 3, 8, 8),), (tapegrad.randn(3, 3, 8, 8),),
         dynamic_axes={"x0": {0: "batch"}, "output_0": {0: "batch"}})


@pytest.mark.parametrize("cls", [nn.GRU, nn.RNN])
def test_recurrent_layers_on_the_composed_path(cls):
    tapegrad.manual_seed(0)
    model = cls(3, 4, num_layers=2, batch_first=True)
    _run(model, (tapegrad.randn(2, 5, 3),), (tapegrad.randn(3, 5, 3),),
         dynamic_axes={"x0": {0: "batch"}, "output_0": {0: "batch"}, "output_1": {1: "batch"}})


def test_parameters_as_graph_inputs_without_export_params():
    tapegrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    buf = io.BytesIO()
    tapegrad.onnx.export(model, (tapegrad.randn(2, 3),), buf, input_names=["x"], export_params=False)
    m = onnx.load_from_string(buf.getvalue())
    assert len(m.graph.initializer) == 0
    assert [i.name for i in m.graph.input] == ["x"] + list(model.state_dict())
    sess = _session(buf.getvalue())
    x = tapegrad.randn(2, 3)
    feed = {"x": x.numpy(), **{k: v.numpy() for k, v in model.state_dict().items()}}
    with tapegrad.no_grad():
        np.testing.assert_allclose(sess.run(None, feed)[0], model(x).numpy(), rtol=1e-5, atol=1e-5)


def test_keyword_arguments_and_verbose(capsys):
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x, scale=1.0):
            return self.lin(x) * scale
    tapegrad.manual_seed(0)
    model = Scaled()
    x = tapegrad.randn(2, 3)
    buf = io.BytesIO()
    tapegrad.onnx.export(model, (x,), buf, kwargs={"scale": 3.0}, verbose=True)
    assert "Gemm" in capsys.readouterr().out
    sess = _session(buf.getvalue())
    with tapegrad.no_grad():
        np.testing.assert_allclose(sess.run(None, {"input_0": x.numpy()})[0], model(x, scale=3.0).numpy(),
                                   rtol=1e-5, atol=1e-5)


class _TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x, y):
        # x (B, S, 4), y (B, 4): equal example sizes for B and S must not be confused
        h = self.lin(x).reshape(-1, 4)                     # (B * S, 4)
        again = tapegrad.cat([x[:, :1], x[:, 1:-1], x[:, -1:]], dim=1)     # open and negative slice ends on seq
        return h.reshape(x.shape[0], x.shape[1], 4) + y.unsqueeze(1), x, again * 1.0


def test_two_symbols_with_equal_example_sizes_and_an_input_returned():
    tapegrad.manual_seed(0)
    dyn = {"x0": {0: "batch", 1: "seq"}, "x1": {0: "batch"}, "output_0": {0: "batch", 1: "seq"},
           "output_1": {0: "batch", 1: "seq"}, "output_2": {0: "batch", 1: "seq"}}
    _run(_TwoInputs(), (tapegrad.randn(3, 3, 4), tapegrad.randn(3, 4)), (tapegrad.randn(2, 5, 4), tapegrad.randn(2, 4)),
         dynamic_axes=dyn)


class _MoreOps(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        h = self.lin(x)
        t = h.tanh() * 0.9
        a = h.floor() + h.ceil() + h.sign() + t.asin() + t.acos() + h.atan() + t.tan() + h.sinh() + h.cosh()
        b = h.asinh() + (h.abs() + 1).acosh() + t.atanh() + h.abs().log1p() + t.expm1() + h.std(dim=1, keepdim=True)
        c = tapegrad.clamp(h, min=x) + tapegrad.clamp(h, max=x) + tapegrad.clamp(h, x - 1, x + 1)
        d = t.prod(dim=1, keepdim=True) + h.logsumexp(dim=1, keepdim=True) + h.norm(dim=1, keepdim=True)
        e = h.cumsum(1) + h.flip(1) + h.tile((1, 2))[:, :4] + h.norm(p=1, dim=1, keepdim=True)
        return a + b + c + d + e + h.norm(p=float("inf"), dim=1, keepdim=True)


def test_more_elementwise_reduction_and_movement_ops():
    tapegrad.manual_seed(0)
    _run(_MoreOps(), (tapegrad.randn(3, 4) + 0.1,), (tapegrad.randn(3, 4) + 0.1,))


class _Gated(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x, gate=None, scale=1.0):
        return self.lin(x) * gate.sigmoid() * scale


def test_tensor_keyword_arguments_are_inputs_and_names_default():
    tapegrad.manual_seed(0)
    model = _Gated()
    x, gate = tapegrad.randn(2, 3), tapegrad.randn(2, 3)
    buf = io.BytesIO()
    tapegrad.onnx.export(model, (x,), buf, kwargs={"gate": gate, "scale": 2.0}, output_names=["y"],
                         dynamic_axes={"input_0": {0: "b"}, "gate": {0: "b"}, "y": {0: "b"}})
    m = onnx.load_from_string(buf.getvalue())
    assert [i.name for i in m.graph.input] == ["input_0", "gate"]
    sess = _session(buf.getvalue())
    x2, gate2 = tapegrad.randn(4, 3), tapegrad.randn(4, 3)
    with tapegrad.no_grad():
        want = model(x2, gate=gate2, scale=2.0).numpy()
    np.testing.assert_allclose(sess.run(None, {"input_0": x2.numpy(), "gate": gate2.numpy()})[0], want,
                               rtol=1e-5, atol=1e-5)
