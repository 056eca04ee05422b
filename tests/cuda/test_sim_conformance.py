"""The backend conformance table (tests/backend_cases.py) on the CUDA backend.

Every declared method runs with the same small inputs as on the CPU and must
match the NumPy backend (values, shapes, dtypes, errors); a probed capability
the GPU lacks must read as absent. A missing method is an AttributeError for
probes and a NotImplementedError naming the op for the op that needs it.
"""
import numpy as np
import pytest

import tapegrad
from tapegrad.backend.base import ArrayBackend, BackendMissing, declared_methods
from tapegrad.cuda.kernels import scalar_ops

import backend_cases as conf

@pytest.mark.parametrize("case", conf.CASES, ids=conf.case_id)
def test_cuda_backend(be, case):
    conf.check_case(be, case)


def test_elementwise_methods_come_from_the_scalar_op_table(be):
    # each scalar op the interface declares is a method; the others (add, neg, ...) only serve CudaArray's operators
    declared = declared_methods()
    for name in scalar_ops.OPS:
        if name in declared:
            assert callable(getattr(be, name)), name
        elif name != "identity":
            assert getattr(be, name, None) is None, name
    x = be.from_numpy(np.array([-1.5, 0.0, 2.0], np.float32))
    assert be.to_numpy(be.square(x)).tolist() == [2.25, 0.0, 4.0]


def test_the_cuda_backend_defines_only_declared_methods(be):
    # a method outside the interface is one no op calls (the static scan in tests/test_backend_conformance.py)
    declared = declared_methods()
    kinds = (staticmethod, classmethod, property, type(declared_methods))
    assert sorted(n for n, v in vars(type(be)).items()
                  if not n.startswith("_") and isinstance(v, kinds) and n not in declared) == []


def test_missing_method_is_an_attribute_error(be):
    assert getattr(be, "some_new_op", None) is None and not hasattr(be, "some_new_op")
    with pytest.raises(BackendMissing, match="GPU .*does not implement 'some_new_op'") as e:
        be.some_new_op
    assert isinstance(e.value, AttributeError) and isinstance(e.value, NotImplementedError)


def test_an_op_the_gpu_lacks_raises_not_implemented_naming_the_op(be, monkeypatch):
    monkeypatch.setattr(type(be), "erf", vars(ArrayBackend)["erf"])       # as if the GPU had no erf kernel
    assert getattr(be, "erf", None) is None
    x = tapegrad.tensor([0.0, 1.0]).to("cuda")
    with pytest.raises(NotImplementedError, match=r"^erf: the GPU \(CUDA\) backend .*does not implement 'erf'"):
        tapegrad.erf(x)
    assert tapegrad.exp(x).cpu().tolist() == [1.0, pytest.approx(np.e)]
