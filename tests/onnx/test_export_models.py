"""tapegrad.onnx.export: the file onnxruntime runs gives tapegrad's forward on new inputs."""
import io

import numpy as np
import pytest

import tapegrad
from tapegrad import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _session(model):
    """An onnxruntime session with graph optimizations off: the tests check the exported graph itself, and
    onnxruntime 1.19-1.21's GatherSliceToSplitFusion pass names two nodes alike on a GRU's step-by-step graph
    ("two nodes with same node name"), which the checker accepts."""
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


def _export(model, args, **kw):
    buf = io.BytesIO()
    tapegrad.onnx.export(model, args, buf, **kw)
    m = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(m)
    return m, _session(buf.getvalue())


def _check(model, args, new_args, input_names, n_out=1, **kw):
    m, sess = _export(model, args, input_names=input_names, **kw)
    got = sess.run(None, {n: a.numpy() for n, a in zip(input_names, new_args)})
    with tapegrad.no_grad():
        want = model(*new_args)
    want = [want] if isinstance(want, tapegrad.Tensor) else list(want)
    flat = []
    for w in want:
        flat.extend(w if isinstance(w, tuple) else [w])
    assert len(got) == len(flat) == n_out
    for g, w in zip(got, flat):
        assert g.shape == tuple(w.shape)
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-5, atol=1e-5)
    return m


def test_mlp_with_a_dynamic_batch():
    tapegrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3))
    m = _check(model, (tapegrad.randn(2, 4),), (tapegrad.randn(5, 4),), ["x"], output_names=["y"],
               dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    assert {i.name for i in m.graph.initializer} == set(model.state_dict())
    assert m.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_cnn_in_eval_with_a_dynamic_batch():
    tapegrad.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 5))
    model.train()
    model(tapegrad.randn(6, 3, 8, 8))           # running statistics that are not the initial ones
    model.eval()
    m = _check(model, (tapegrad.randn(2, 3, 8, 8),), (tapegrad.randn(3, 3, 8, 8),), ["x"],
               dynamic_axes={"x": [0], "output_0": [0]})
    ops = [n.op_type for n in m.graph.node]
    assert {"Conv", "BatchNormalization", "MaxPool", "Relu", "Gemm"} <= set(ops)


def test_lstm_becomes_one_onnx_lstm():
    tapegrad.manual_seed(0)
    model = nn.LSTM(4, 5, batch_first=True)
    m = _check(model, (tapegrad.randn(2, 3, 4),), (tapegrad.randn(4, 3, 4),), ["x"], n_out=3,
               output_names=["out", "h", "c"], dynamic_axes={"x": {0: "batch"}, "out": {0: "batch"},
                                                             "h": {1: "batch"}, "c": {1: "batch"}})
    assert [n.op_type for n in m.graph.node].count("LSTM") == 1


def test_transformer_encoder_layer_with_a_dynamic_batch():
    tapegrad.manual_seed(0)
    model = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True)
    model.eval()
    m = _check(model, (tapegrad.randn(2, 3, 8),), (tapegrad.randn(5, 3, 8),), ["src"],
               dynamic_axes={"src": {0: "batch"}, "output_0": {0: "batch"}})
    assert "LayerNormalization" in {n.op_type for n in m.graph.node}


def test_export_to_a_path(tmp_path):
    tapegrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid())
    x = tapegrad.randn(4, 3)
    path = tmp_path / "m.onnx"
    tapegrad.onnx.export(model, x, str(path))
    sess = _session(str(path))
    with tapegrad.no_grad():
        want = model(x).numpy()
    np.testing.assert_allclose(sess.run(None, {"input_0": x.numpy()})[0], want, rtol=1e-5, atol=1e-5)
