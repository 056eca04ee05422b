"""The op harnesses of tests/ops run on device='cuda': every OpSpec, forward values and gradients.

The same harness functions as on the CPU (``check_forward``,
``check_gradient_example``), with the ``device`` fixture overridden to "cuda",
plus the CUDA-only comparison with the CPU: every random draw, in float32 and
float64, on inputs laid out as the CPU harness lays them out (transposed
storage or every-other-element views, re-created on the device), must give the
CPU's outputs and, after one backward, the CPU's gradients, all on the device.
The deterministic ``Example`` cases run the forward harness and the gradient
harness as on the CPU (finite differences in float64, second order for
``gradgrad`` specs; PyTorch at a kink). Random draws do not run finite
differences here: their gradients are checked against the CPU's, which
tests/ops checks against finite differences (the simulator is slow).

An op the GPU cannot run must raise NotImplementedError naming it;
``CUDA_UNSUPPORTED`` lists such specs (ideally none).
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tapegrad
from op_db import Example, OpSpec, case_on_device, draw_case, example_case, example_params, load_all
from ops.test_op_forward import check_forward
from ops.test_op_grads import check_gradient_example, check_vjp_matches_cpu

SPECS = load_all()
CASES = [pytest.param(s, d, id=f"{s.name}-{d}") for s in SPECS for d in s.dtypes]
FORWARD_EXAMPLES = example_params(SPECS, with_dtypes=True)
GRADIENT_EXAMPLES = example_params([s for s in SPECS if s.grad])
CUDA_UNSUPPORTED = {}          # spec name -> the op name its NotImplementedError must mention
# tapegrad.linalg: the factorizations without a GPU kernel (inv, solve, cholesky have one; tests/cuda/test_sim_linalg.py)
CUDA_UNSUPPORTED.update({n: o for o, ns in {
    "linalg_det": ("linalg_det",), "linalg_slogdet": ("linalg_slogdet", "logdet"),
    "linalg_qr": ("linalg_qr_q", "linalg_qr_r"), "linalg_eigh": ("linalg_eigvalsh", "linalg_eigh_vectors"),
    "linalg_svd": ("linalg_svdvals", "linalg_svd_u", "linalg_svd_vh_wide", "linalg_pinv", "linalg_matrix_norm_nuc",
                   "linalg_matrix_norm_2", "linalg_matrix_norm_-2", "svd_legacy_v")}.items() for n in ns})
# sparse COO: the dense matmul kernel refuses a sparse operand (sparse.mm runs on the GPU; tests/cuda/test_sim_sparse.py)
CUDA_UNSUPPORTED["sparse_matmul_operator"] = "matmul"


@pytest.fixture(scope="session")
def device():
    return "cuda"


def _check_case(spec, dtype, ts, arrays, kwargs, device):
    if spec.name in CUDA_UNSUPPORTED:
        dts, dkwargs = case_on_device(ts, kwargs, device)
        with pytest.raises(NotImplementedError, match=CUDA_UNSUPPORTED[spec.name]):
            spec.fn(*dts, **dkwargs)
        return
    check_forward(spec, dtype, ts, arrays, kwargs, device)
    if spec.grad:
        check_vjp_matches_cpu(spec, dtype, ts, kwargs, device)


@pytest.mark.parametrize("spec,dtype", CASES)
@settings(max_examples=3)
@given(data=st.data())
def test_cuda_matches_cpu(spec, dtype, device, data):
    _check_case(spec, dtype, *draw_case(data, spec, getattr(tapegrad, dtype)), device)


@pytest.mark.parametrize("spec,example,dtype", FORWARD_EXAMPLES)
def test_forward_examples(spec, example, dtype, device):
    if spec.name in CUDA_UNSUPPORTED:
        pytest.skip(f"{spec.name}: unsupported on cuda (checked by test_cuda_matches_cpu)")
    check_forward(spec, dtype, *example_case(example, getattr(tapegrad, dtype)), device)


@pytest.mark.parametrize("spec,example", GRADIENT_EXAMPLES)
def test_gradient_examples(spec, example, device):
    if spec.name in CUDA_UNSUPPORTED:
        pytest.skip(f"{spec.name}: unsupported on cuda (checked by test_cuda_matches_cpu)")
    check_gradient_example(spec, example, device)


# ----------------------------------------------------------------- the harness can fail on cuda

def _on_cuda(x):
    return x.device.type == "cuda"


def _spec(name, fn, ref=np.exp):
    return OpSpec(name, fn, ref, None, covers=("exp",))


def _case(dtype="float32"):
    return example_case(Example([[0.5, -1.0, 2.0]]), getattr(tapegrad, dtype))


def test_harness_catches_a_wrong_value_on_cuda_only(device):
    spec = _spec("exp_off_on_cuda", lambda x: tapegrad.exp(x) + (1e-3 if _on_cuda(x) else 0.0))
    with pytest.raises(AssertionError):
        check_forward(spec, "float32", *_case(), device)


def test_harness_catches_an_output_left_on_the_cpu(device):
    spec = _spec("exp_to_cpu", lambda x: tapegrad.exp(x).cpu())
    with pytest.raises(AssertionError, match="output 0 is on cpu"):
        check_forward(spec, "float32", *_case(), device)


def test_harness_catches_a_wrong_gradient_on_cuda_only(device):
    # x * x.detach() has the values of x**2 but half its derivative: wrong on cuda only.
    spec = _spec("square_half_on_cuda", lambda x: x * (x.detach() if _on_cuda(x) else x), np.square)
    ts, arrays, kwargs = _case("float64")
    check_forward(spec, "float64", ts, arrays, kwargs, device)          # the values agree ...
    with pytest.raises(AssertionError, match="gradient of input 0"):   # ... the gradients do not
        check_vjp_matches_cpu(spec, "float64", ts, kwargs, device)
    with pytest.raises(AssertionError, match="first derivative mismatch|Jacobian mismatch"):
        check_gradient_example(spec, Example([[0.5, -1.0, 2.0]]), device, order=1)
