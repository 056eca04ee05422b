"""tapegrad.onnx.export: unmapped ops are named, and the model is left as it was."""
import io

import pytest

import tapegrad
from tapegrad import nn

onnx = pytest.importorskip("onnx")


class _Digamma(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        return tapegrad.digamma(self.lin(x))


def test_an_op_with_no_mapping_raises_naming_it():
    match = r"op 'digamma' \(recorded by tapegrad\.ops\.special\.digamma\)"
    with pytest.raises(tapegrad.onnx.UnsupportedOpError, match=match):
        tapegrad.onnx.export(_Digamma(), (tapegrad.randn(2, 3),), io.BytesIO())


def test_export_restores_requires_grad_and_training_mode():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 2))
    model[0].weight.requires_grad_(False)
    model[3].requires_grad_(False)
    model.train()
    model[2].eval()
    flags = [p.requires_grad for p in model.parameters()]
    modes = [m.training for m in model.modules()]
    stats = model[1].running_mean.clone()
    tapegrad.onnx.export(model, (tapegrad.randn(2, 3),), io.BytesIO())
    assert [p.requires_grad for p in model.parameters()] == flags
    assert [m.training for m in model.modules()] == modes
    assert (model[1].running_mean == stats).all()     # traced in eval mode: no statistics update


def test_export_restores_the_model_after_an_error():
    model = _Digamma()
    model.lin.weight.requires_grad_(False)
    model.train()
    from tapegrad.ops.registry import REGISTRY
    forwards = {n: d.forward for n, d in REGISTRY.items()}
    with pytest.raises(tapegrad.onnx.UnsupportedOpError):
        tapegrad.onnx.export(model, (tapegrad.randn(2, 3),), io.BytesIO())
    assert not model.lin.weight.requires_grad and model.lin.bias.requires_grad and model.training
    assert {n: d.forward for n, d in REGISTRY.items()} == forwards


def test_training_batch_norm_without_running_stats_names_the_op():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, track_running_stats=False))
    with pytest.raises(tapegrad.onnx.UnsupportedOpError, match="op 'batch_norm'"):
        tapegrad.onnx.export(model, (tapegrad.randn(2, 3),), io.BytesIO())


def test_opset_below_17_is_refused():
    with pytest.raises(ValueError, match="opset_version=13"):
        tapegrad.onnx.export(nn.Linear(2, 2), (tapegrad.randn(1, 2),), io.BytesIO(), opset_version=13)


class _BatchSlice(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)

    def forward(self, x):
        return self.lin(x)[:, :x.shape[0]]


def test_a_param_that_follows_a_dynamic_axis_it_cannot_express_raises():
    with pytest.raises(tapegrad.onnx.UnsupportedOpError, match="op 'getitem'.*dynamic axes"):
        tapegrad.onnx.export(_BatchSlice(), (tapegrad.randn(2, 8),), io.BytesIO(), input_names=["x"],
                             dynamic_axes={"x": [0]})
    tapegrad.onnx.export(_BatchSlice(), (tapegrad.randn(2, 8),), io.BytesIO())    # static sizes: fine


def test_importing_tapegrad_onnx_does_not_import_onnx():
    import subprocess
    import sys
    code = ("import sys, tapegrad; assert 'tapegrad.onnx' not in sys.modules; import tapegrad.onnx; "
            "assert 'onnx' not in sys.modules, 'onnx imported'; tapegrad.onnx.export; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr


class _ReadsData(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x, scale):
        return self.lin(x) * tapegrad.tensor(scale.detach().numpy() * 2.0)    # read outside the ops


def test_an_input_read_outside_the_ops_warns_that_it_was_frozen():
    with pytest.warns(UserWarning, match="'input_1' are not used by the exported graph"):
        tapegrad.onnx.export(_ReadsData(), (tapegrad.randn(2, 3), tapegrad.randn(3)), io.BytesIO())


class _Cube(tapegrad.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x * x * g


def test_a_custom_function_is_named():
    model = nn.Linear(2, 2)
    with pytest.raises(tapegrad.onnx.UnsupportedOpError, match=r"op '_Cube' \(an autograd.Function\)"):
        tapegrad.onnx.export(lambda x: _Cube.apply(model(x)), (tapegrad.randn(1, 2),), io.BytesIO())


def test_more_names_than_inputs_are_refused():
    with pytest.raises(ValueError, match=r"input_names \['a', 'b'\] for 1 inputs"):
        tapegrad.onnx.export(nn.Linear(2, 2), (tapegrad.randn(1, 2),), io.BytesIO(), input_names=["a", "b"])
