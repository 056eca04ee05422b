"""The tape: the recording layer every op writes to and the engine reads.

``Node`` (edges, saved values and their version check, the sequence counter,
the public node face ``name()`` / ``next_functions`` / ``AccumulateGrad``),
grad mode and the anomaly flags.

# Note [the tape floor]
Dependencies in tapegrad run one way, each floor importing only floors below:

    backend (arrays, kernels; NumPy/numba only)  ->  tape  ->  Tensor (_tensor, _repr)
    ->  creation  ->  ops (registry, promotion, graph_math, families)
    ->  autograd (engine with sum_to, api, Function, functional, gradcheck, export)
    ->  public namespace (_tensor_methods, __init__)  ->  nn, optim, utils, testing, cuda's public face

The tape sits *below* the ops because the ops record onto it and the engine
only reads it: when the record lived in ``ops/registry.py`` and the flags in
``autograd/`` (whose ``__init__`` loads the engine), every op file loaded the
engine and the engine reached back into ops, and 15 modules formed one import
circle. Here nothing imports a Tensor, an op or the engine.
``tests/test_import_graph.py`` keeps it so.

# Note [up-calls]
Exactly these imports go up a floor; each is lazy (inside a function) and
listed in ``ALLOWED_UP_CALLS`` in ``tests/test_import_graph.py``:

- ``Tensor.backward`` -> ``tapegrad.autograd``: a tensor method that runs the engine.
- ``Tensor(data)`` and ``Tensor._coerce`` -> ``tapegrad._creation``: the
  constructor is a call of the ``tensor`` factory.
- loading the CUDA backend: ``backend.get``/``backend_for`` and ``_creation``
  (factories on ``device="cuda"``, foreign arrays) reach ``tapegrad.cuda`` on
  first use, so ``import tapegrad`` never imports numba.cuda. What comes back
  is arrays, never Tensors: ``_creation`` wraps them.
- inside the CUDA backend, ``CudaArray``'s methods and operators
  (``a + b``, ``a[key]``, ``a.reshape``) -> ``tapegrad.cuda.operators``: the
  kernels work on CudaArrays, so they sit above the array; the array reaches
  up to them through one function, ``array._ops``.
"""
from .grad_mode import STATE, no_grad, enable_grad, set_grad_enabled, is_grad_enabled
from .anomaly import ENABLED as ANOMALY, detect_anomaly, set_detect_anomaly, is_anomaly_enabled
from .node import Node, AccumulateGrad, node_view, walk, check_versions, next_seq, FREED

__all__ = ["Node", "AccumulateGrad", "node_view", "walk", "check_versions", "next_seq", "FREED",
           "STATE", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "ANOMALY", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]
