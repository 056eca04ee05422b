"""An optimizer step changes its parameters in place: a graph that saved a parameter before the step must
refuse to backward through it afterwards, with PyTorch's version numbers (PyTorch 2.13 is the oracle)."""
import importlib

import pytest

CONFIGS = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("Adam", {}),
    ("Adam", {"amsgrad": True}),          # AMSGrad never takes the fused kernel
    ("RMSprop", {}),
    ("RMSprop", {"momentum": 0.5, "centered": True}),
]


def _lib(name):
    return pytest.importorskip("torch") if name == "torch" else importlib.import_module(name)


def _param(lib, layout):
    data = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    # a transposed (non-contiguous) parameter takes the operator code instead of the fused kernel
    return lib.nn.Parameter(data.t() if layout == "strided" else data.t().contiguous())


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
@pytest.mark.parametrize("steps", [1, 2])
@pytest.mark.parametrize("opt_name, kwargs", CONFIGS, ids=[f"{n}-{'-'.join(k) or 'plain'}" for n, k in CONFIGS])
def test_backward_through_a_parameter_saved_before_step_raises(lib_name, layout, steps, opt_name, kwargs):
    lib = _lib(lib_name)
    p = _param(lib, layout)
    y = (p * p).sum()                  # mul saves p (version 0)
    opt = getattr(lib.optim, opt_name)([p], lr=0.1, **kwargs)
    for _ in range(steps):
        p.grad = lib.ones(3, 2)
        opt.step()
    with pytest.raises(RuntimeError, match=rf"modified by an inplace operation.* is at version {steps}; "
                                           r"expected version 0 instead"):
        y.backward()


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
def test_adamw_step_also_invalidates_saved_parameters(lib_name, layout):
    # PyTorch's AdamW counts its decay and its update as two in-place ops (version 2); only the refusal is shared
    lib = _lib(lib_name)
    p = _param(lib, layout)
    y = (p * p).sum()
    p.grad = lib.ones(3, 2)
    lib.optim.AdamW([p], lr=0.1).step()
    with pytest.raises(RuntimeError,
                       match=r"modified by an inplace operation.* is at version [12]; expected version 0"):
        y.backward()


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
@pytest.mark.parametrize("opt_name, kwargs", CONFIGS, ids=[f"{n}-{'-'.join(k) or 'plain'}" for n, k in CONFIGS])
def test_a_graph_built_after_step_backwards_normally(lib_name, opt_name, kwargs):
    lib = _lib(lib_name)
    p = _param(lib, "strided")
    opt = getattr(lib.optim, opt_name)([p], lr=0.1, **kwargs)
    p.grad = lib.ones(3, 2)
    opt.step()
    p.grad = None
    (p * p).sum().backward()
    assert p.grad is not None and tuple(p.grad.shape) == (3, 2)
