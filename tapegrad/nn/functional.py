"""``nn.functional``: activations, ``linear``, ``dropout``, ``one_hot``, and every topic file of ``nn/_functional/``.

This file defines the basic functions; the rest (losses, convolution, pooling,
normalization, attention, ...) live in topic files that the end of this file
re-exports, so user code sees PyTorch's one namespace. Everything is composed
of registered ops, so gradients (of any order) come from their VJPs; the
primitives live in ``tapegrad/ops/`` (Note [the primitives]).
"""
import warnings

from .. import _dtype as D
from .. import backend as B
from .._tensor import Tensor
from ..tape import capture as _capture
from ..tape.capture import ACTIVE as _CAPTURE
from ..ops import elementwise as _E
from ..ops import unary as _U
from ..ops import nn as _N
from ..ops.linalg import linear  # noqa: F401  (one definition: a recorded primitive)
from ._functional import dropout as _dropout_topic

__all__ = ["relu", "sigmoid", "tanh", "gelu", "softmax", "log_softmax", "linear", "dropout", "one_hot",
           "embedding", "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits"]

_REDUCTIONS = ("none", "mean", "sum")


def relu(input, inplace=False):
    """max(x, 0) elementwise.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.relu(tapegrad.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    return _U.relu(input)


def sigmoid(input):
    """1 / (1 + exp(-x)), computed stably.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.sigmoid(tapegrad.tensor([0.0]))
        tensor([0.5000])
    """
    return _U.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.tanh(tapegrad.tensor([0.0]))
        tensor([0.])
    """
    return _U.tanh(input)


def gelu(input, approximate="none"):
    """Gaussian error linear unit (``approximate="tanh"`` for the tanh form).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.gelu(tapegrad.tensor([0.0]))
        tensor([0.])
    """
    return _U.gelu(input, approximate=approximate)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.softmax(tapegrad.zeros(2, 2), dim=1)
        tensor([[0.5000, 0.5000],
                [0.5000, 0.5000]])
    """
    if dtype is not None:
        input = input.to(dtype)
    return _N.softmax(input, _dim(dim, input, "softmax"))


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, computed stably.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.log_softmax(tapegrad.zeros(1, 2), dim=1).exp()
        tensor([[0.5000, 0.5000]])
    """
    if dtype is not None:
        input = input.to(dtype)
    return _N.log_softmax(input, _dim(dim, input, "log_softmax"))


def _dim(dim, input, fn):
    if dim is not None:
        return dim
    # PyTorch's legacy rule for an implicit dim (with its deprecation warning).
    warnings.warn(f"Implicit dimension choice for {fn} has been deprecated. Change the call to include dim=X "
                  "as an argument.", UserWarning, stacklevel=3)
    return 0 if input.ndim in (0, 1, 3) else 1


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (identity when not training).

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(1000)
        >>> y = tapegrad.nn.functional.dropout(x, 0.5)
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if inplace:     # written into input and returned, as PyTorch
        return _dropout_topic.in_place("dropout", input, True, p, training, lambda v: dropout(v, p, training))
    a = input._data
    be = B.BY_TYPE[type(a)]
    if p == 1.0:
        return input * 0.0
    mask = _dropout_mask(be, p, a.shape, a.dtype)
    if _CAPTURE[0] is not None:     # Note [capture hook]: a replay draws a fresh mask from the same stream
        _capture.source(mask, _dropout_mask, be, p, a.shape, a.dtype)
    return input * Tensor._make(mask, None)


def _dropout_mask(be, p, shape, dtype):
    return be.bernoulli(1.0 - p, shape, dtype) * dtype.type(1.0 / (1.0 - p))


def one_hot(tensor, num_classes=-1):
    """Integer class indices ``(*)`` to one-hot ``(*, num_classes)`` int64 vectors.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.one_hot(tapegrad.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    a = tensor._data
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot is only applicable to index tensors, got dtype {tensor.dtype}")
    be = B.BY_TYPE[type(a)]
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("one_hot: can not infer the number of classes from an empty tensor")
        num_classes = int(be.to_numpy(be.max(a))) + 1
    if a.size:
        lo, hi = int(be.to_numpy(be.min(a))), int(be.to_numpy(be.max(a)))
        if lo < 0 or hi >= num_classes:
            raise RuntimeError(f"one_hot: class values must be in [0, {num_classes}), got values in [{lo}, {hi}]")
    classes = be.arange(0, num_classes, 1, a.dtype)
    out = be.astype(be.equal(be.expand_dims(a, -1), classes), D.int64.np)
    return Tensor._make(out, None)


def embedding(input, weight, padding_idx=None):
    """Rows of ``weight`` at the integer indices ``input``; the row ``padding_idx`` gets no gradient.

    Example:
        >>> import tapegrad
        >>> w = tapegrad.arange(6.0).reshape(3, 2)
        >>> tapegrad.nn.functional.embedding(tapegrad.tensor([2, 0]), w)
        tensor([[4., 5.],
                [0., 1.]])
    """
    if input.dtype not in (D.int64, D.int32):
        raise RuntimeError(f"embedding: expected indices of dtype int64 or int32, got {input.dtype}")
    from ..ops.indexing import check_index_range, index_op
    from ..ops.registry import apply
    # PyTorch refuses negative rows here (no wrap-around), unlike weight[input]
    check_index_range("embedding", input, weight.shape[0], 0, IndexError)
    if padding_idx is not None and weight.requires_grad:
        n = weight.shape[0]
        be = weight._backend
        keep = be.not_equal(be.arange(0, n, 1, D.int64.np), padding_idx % n)
        weight = _E.where(Tensor._make(be.reshape(keep, (n, 1)), None), weight, weight.detach())
    be = weight._backend
    if input._backend is not be or weight.ndim != 2:
        return weight[input]
    # checked above: the rows go straight to the gather, without __getitem__'s key parsing
    return apply(index_op, weight, key=(be.astype(input._data, D.int64.np),))


def _reduce(loss, reduction, fn):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{fn}: {reduction!r} is not a valid value for reduction; expected one of {_REDUCTIONS}")


def _check_reduction(reduction, fn):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{fn}: {reduction!r} is not a valid value for reduction; expected one of {_REDUCTIONS}")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """Binary cross-entropy of probabilities ``input`` in [0, 1]; the logs are clamped at -100 like PyTorch.

    Example:
        >>> import tapegrad
        >>> p = tapegrad.tensor([0.5, 0.5])
        >>> round(tapegrad.nn.functional.binary_cross_entropy(p, tapegrad.tensor([0.0, 1.0])).item(), 4)
        0.6931
    """
    _check_reduction(reduction, "binary_cross_entropy")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"binary_cross_entropy: using a target size ({tuple(target.shape)}) that is different to "
                         f"the input size ({tuple(input.shape)}) is not supported; please ensure they have the "
                         "same size")
    a = input._data
    be = B.BY_TYPE[type(a)]
    if a.size and (bool(be.to_numpy(be.any(be.less(a, 0)))) or bool(be.to_numpy(be.any(be.greater(a, 1))))):
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 and 1 "
                           "(pass logits to binary_cross_entropy_with_logits instead)")
    loss = _N.bce_op(input, target)      # Note [bce at 0 and 1]: PyTorch's gradient at the ends
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable expression (no overflow for large ``|input|``).

    Args:
        input: logits.
        target: probabilities of the positive class, same shape as ``input``.
        weight: a rescaling broadcast over the loss.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        pos_weight: weight of positive examples, broadcast along the last (class) dimension.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([100.0, -100.0])
        >>> loss = tapegrad.nn.functional.binary_cross_entropy_with_logits(x, tapegrad.tensor([1.0, 0.0]))
        >>> round(loss.item(), 6)
        0.0
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"binary_cross_entropy_with_logits: target size ({tuple(target.shape)}) must be the same "
                         f"as input size ({tuple(input.shape)})")
    # log(1 + exp(-x)) = m + log(exp(-m) + exp(-x - m)) with m = max(-x, 0): exp never sees a positive
    # argument. m is detached (a constant shift, as in logsumexp), so the gradient is the exact
    # sigmoid(x) - 1 everywhere, including x = 0 where |x| and max(-x, 0) have kinks.
    m = _U.relu(-input).detach()
    softplus_neg = m + ((-m).exp() + (-input - m).exp()).log()
    if pos_weight is not None:
        log_weight = (pos_weight - 1) * target + 1
        loss = (1 - target) * input + log_weight * softplus_neg
    else:
        loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


# ----------------------------------------------------------------- topic files (one line each)
# Each topic file in nn/_functional/ lists its functions in ``__all__``; they join this namespace here.
from ._functional.attention import *  # noqa: F401,F403,E402
from ._functional import attention as _attention  # noqa: E402
__all__ += _attention.__all__
from ._functional.multihead import *  # noqa: F401,F403,E402
from ._functional import multihead as _multihead  # noqa: E402
__all__ += _multihead.__all__
from ._functional.normalization import *  # noqa: F401,F403,E402
from ._functional import normalization as _normalization  # noqa: E402
__all__ += _normalization.__all__
from ._functional.conv import *  # noqa: F401,F403,E402
from ._functional import conv as _conv_topic  # noqa: E402
__all__ += _conv_topic.__all__
from ._functional.padding import *  # noqa: F401,F403,E402
__all__ += ["pad"]
_BASE_DEFS = {"binary_cross_entropy": binary_cross_entropy,  # Note [base definitions] (_functional/loss.py)
              "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits, "embedding": embedding}
from ._functional.loss import *  # noqa: F401,F403,E402  (re-declares the losses above with the legacy keywords)
from ._functional.loss_margin import *  # noqa: F401,F403,E402
from ._functional.distance import *  # noqa: F401,F403,E402
from ._functional import loss as _t_loss, loss_margin as _t_margin, distance as _t_distance  # noqa: E402
_t_loss.BASE.update(_BASE_DEFS)
__all__ += [n for m in (_t_loss, _t_margin, _t_distance) for n in m.__all__ if n not in __all__]
from ._functional.ctc import *  # noqa: F401,F403,E402
__all__ += ["ctc_loss"]
from ._functional.dropout import *  # noqa: F401,F403,E402
from ._functional.sparse import *  # noqa: F401,F403,E402  (re-declares embedding with PyTorch's extras)
from ._functional import sparse as _t_sparse  # noqa: E402
_t_sparse.BASE.update(_BASE_DEFS)
from ._functional.linear import *  # noqa: F401,F403,E402
__all__ += ["dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "embedding_bag",
            "bilinear"]
from ._functional.activation import *  # noqa: F401,F403,E402
from ._functional import activation as _activation  # noqa: E402
__all__ += _activation.__all__
from ._functional.pooling import *  # noqa: F401,F403,E402
from ._functional import pooling as _pooling_topic  # noqa: E402
__all__ += _pooling_topic.__all__
from ._functional.upsampling import *  # noqa: F401,F403,E402
from ._functional import upsampling as _upsampling_topic  # noqa: E402
__all__ += _upsampling_topic.__all__
from ._functional.vision import *  # noqa: F401,F403,E402
from ._functional import vision as _vision_topic  # noqa: E402
__all__ += _vision_topic.__all__
from ._functional.unpool import *  # noqa: F401,F403,E402  (max_unpool3d)
__all__ += ["max_unpool3d"]
from ._functional.pooling_extra import *  # noqa: F401,F403,E402  (adaptive_max_pool3d, lp_pool3d, *_with_indices)
from ._functional import pooling_extra as _pooling_extra  # noqa: E402
__all__ += _pooling_extra.__all__
from ._functional.pdist import *  # noqa: F401,F403,E402  (pdist, shared with tapegrad.pdist)
__all__ += ["pdist"]
