"""tapegrad: a tape-based imperative reverse-mode autograd library with PyTorch's API.

Example:
    >>> import tapegrad as torch
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4.])
"""
from ._dtype import (dtype, float16, float32, float64, uint8, int8, int16, int32, int64, bool,  # noqa: A004
                     half, float, double, short, int, long,
                     get_default_dtype, set_default_dtype, promote_types, can_cast)
from ._device import device
from ._tensor import Tensor, Size
from . import ops as _ops
from . import _tensor_methods  # noqa: F401  (binds methods)
from ._creation import (tensor, as_tensor, from_numpy, from_dlpack, zeros, ones, full, empty, arange, linspace, eye,
                        zeros_like, ones_like, full_like, empty_like, rand_like, randn_like, rand, randn,
                        randint, randperm, manual_seed, seed, scalar_tensor)
from ._generator import Generator, default_generator, initial_seed, get_rng_state, set_rng_state
from .tape.grad_mode import (no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode,
                             is_inference_mode_enabled)
from ._functions import *  # noqa: F401,F403  the public math functions
from . import autograd
from ._legacy import *  # noqa: F401,F403  LongTensor, FloatTensor, ...
from ._type_info import finfo, iinfo
from ._type_info import result_type
from ._dtype import bfloat16
from ._random_functions import multinomial, bernoulli, normal, poisson, randint_like
from ._process_state import *  # noqa: F401,F403  threads, deterministic algorithms
from ._device import get_default_device, set_default_device
from ._repr import set_printoptions
from . import random, backends  # noqa: F401  (tapegrad.random, tapegrad.backends, as torch's)
from .ops.sparse_coo import layout, strided, sparse_coo  # noqa: F401  (memory layouts, as torch's)

__version__ = "0.1.0"


# Subpackages loaded on first use (heavier dependencies, or rarely needed): ``tapegrad.nn`` imports
# ``tapegrad/nn/`` the first time it is read. ``distributed`` imports mpi4py only when a process group is made.
_LAZY = {"nn", "optim", "utils", "testing", "cuda", "accelerator", "distributed", "distributions", "linalg", "func",
         "amp", "onnx", "serialization"}
_LAZY |= {"sparse"}


def __getattr__(name):
    import importlib
    if name in _LAZY:
        mod = globals()[name] = importlib.import_module(f".{name}", __name__)
        return mod
    if name == "autocast":          # tapegrad.autocast is tapegrad.amp.autocast, as torch's
        from .amp import autocast
        return autocast
    if name == "compile":          # tapegrad.compile (the package shadows the builtin only inside tapegrad)
        fn = importlib.import_module(".compile", __name__)    # the callable package: tapegrad.compile.api imports
        globals()["compile"] = fn
        return fn
    if name in ("save", "load"):
        from .utils import serialization
        return getattr(serialization, name)
    raise AttributeError(f"module 'tapegrad' has no attribute {name!r}")


_LAZY = _LAZY | {"special"}  # tapegrad.special (torch.special's names)
# torch.* names programs call besides the op families (tools/missing_names.py lists what is still missing):
from ._torch_nn import *  # noqa: F401,F403,E402  torch.conv2d, torch.max_pool2d, torch.dropout, ... (nn aliases)
from ._torch_inplace import *  # noqa: F401,F403,E402  torch.relu_, torch.exp_, torch.zero_, ...
from ._torch_dropout import *  # noqa: F401,F403,E402  torch.dropout(input, p, train), torch.dropout_, ...
from ._torch_misc import *  # noqa: F401,F403,E402  pi, e, inf, nan, typename, logspace, tril_indices, ...
_getattr_before_gaps = __getattr__


def __getattr__(name):  # noqa: F811  torch.GradScaler, torch.vmap: lazy, like the subpackages they live in
    if name == "GradScaler":
        from .amp import GradScaler
        return GradScaler
    if name == "vmap":
        from .func import vmap
        return vmap
    return _getattr_before_gaps(name)
