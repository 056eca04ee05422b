"""Every op, declared once with its forward and VJP, grouped by family.

Importing this package registers all ops in ``registry.REGISTRY``. Each family
module lists its public functions in ``__all__`` (re-exported as
``tapegrad.<name>``) and its Tensor methods in ``METHODS`` (bound in
``_tensor_methods.py``). ``graph_math`` is the namespace VJPs get under
``create_graph`` (Note [two-mode VJPs] in registry.py); the engine imports it
from here, downward (Note [the tape floor] in tapegrad/tape/__init__.py).
"""
from . import registry
from .registry import REGISTRY, apply, op
from . import graph_math  # noqa: F401  (TENSOR_MATH, the graph-mode VJP namespace)
# Importing the families registers their ops.
from . import (elementwise, unary, comparison, reduction, statistics, shape, joining, indexing, linalg,  # noqa: F401
               nn, device, inplace, _setitem)

FAMILIES = (elementwise, unary, comparison, reduction, statistics, shape, joining, indexing, _setitem, linalg, nn,
            inplace)
# Families added later: one import and one line each (merges stay trivial).
from . import structure  # noqa: E402
FAMILIES = FAMILIES + (structure,)
from . import normalization  # noqa: E402
FAMILIES = FAMILIES + (normalization,)
from . import conv  # noqa: E402  (convolution primitives)
FAMILIES += (conv,)
from . import special, pointwise, bitwise, blas  # noqa: E402
FAMILIES = FAMILIES + (special, pointwise, bitwise, blas)
from . import ctc  # noqa: E402  (the CTC loss, Note [ctc gradient])
FAMILIES += (ctc,)
from . import scans  # noqa: E402  (cumulative scans, nan-aware reductions)
FAMILIES = FAMILIES + (scans,)
from . import sorting  # noqa: E402  (sort, order statistics, quantiles)
FAMILIES = FAMILIES + (sorting,)
from . import counting  # noqa: E402  (unique, bincount, histc, bucketize, searchsorted)
FAMILIES = FAMILIES + (counting,)
from . import pooling  # noqa: E402  (max pooling's window argmax)
FAMILIES += (pooling,)
from . import linalg_decomp, linalg_funcs, linalg_extra  # noqa: E402  (torch.linalg: decompositions, norms)
FAMILIES += (linalg_decomp, linalg_extra)
from . import structure2  # noqa: E402  (strided views and diagonals, Note [strided views])
FAMILIES = FAMILIES + (structure2,)
from . import structure3  # noqa: E402  (products and rearrangements, composed)
FAMILIES = FAMILIES + (structure3,)
from . import structure4  # noqa: E402  (joining, splitting and picking, composed)
FAMILIES = FAMILIES + (structure4,)
from . import structure5  # noqa: E402  (scatter, index_copy/fill, masked_scatter, in-place reshapes)
FAMILIES = FAMILIES + (structure5,)
from . import special_fns  # noqa: E402  (sinc, i0, polygamma, mvlgamma; xlog1py and the torch.special extras)
FAMILIES = FAMILIES + (special_fns,)
from . import predicates  # noqa: E402  (isclose, allclose, equal, is_tensor, isneginf, fmax, ...)
FAMILIES = FAMILIES + (predicates,)
from . import math_extra  # noqa: E402  (absolute, deg2rad, dist, addr, cov, trapezoid, isin, conj, ...)
FAMILIES = FAMILIES + (math_extra,)
from . import numeric_extra  # noqa: E402  (trapezoid, cumulative_trapezoid, vander, unravel_index, pdist)
FAMILIES = FAMILIES + (numeric_extra,)
from . import sparse_coo  # noqa: E402  (sparse COO tensors, Note [sparse COO storage] in ops/_sparse_array.py)
FAMILIES = FAMILIES + (sparse_coo,)
