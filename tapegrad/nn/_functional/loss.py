"""Regression and probabilistic losses of ``nn.functional``, each with PyTorch's legacy keywords.

Every function here is composed of recorded ops, so its gradients of any order
come from their VJPs. The losses ``nn/functional.py`` defined before the legacy
keywords arrived (``mse_loss`` ... ``binary_cross_entropy_with_logits``) are
re-declared here with PyTorch's full signatures (``size_average`` and
``reduce`` before ``reduction``, as positional arguments go) and delegate to
those definitions; the re-export at the end of ``nn/functional.py`` replaces
the names there.
"""
import math
import warnings

from ... import _creation as C
from ..._tensor import Tensor
from ...ops import elementwise as _E
from ...ops import nn as _N
from ._reduction import check, reduce_loss, resolve
from ._reduction import autocast_loss

__all__ = ["mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "smooth_l1_loss", "huber_loss", "kl_div", "poisson_nll_loss",
           "gaussian_nll_loss", "soft_margin_loss", "multilabel_soft_margin_loss"]

# Note [base definitions]: the earlier definitions in nn/functional.py these delegate to. nn/functional.py
# hands them over (BASE.update) as it re-exports this file, so this file never imports it (no cycle).
BASE = {}


def _warn_shapes(input, target):
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({tuple(target.shape)}) that is different to the input size "
                      f"({tuple(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", UserWarning, stacklevel=3)


def _weighted(err, weight, input, reduction, weighted_mean=True):
    """PyTorch's optional elementwise ``weight`` of mse/l1/huber: ``mean`` is ``sum(w*e) / sum(w)`` for mse and
    l1, and the plain mean of ``w*e`` for huber (``weighted_mean=False``), as PyTorch 2.13 computes them."""
    if weight is None:
        return reduce_loss(err, reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"Weights and input must have the same size: weight {tuple(weight.shape)}, "
                         f"input {tuple(input.shape)}")
    err = err * weight
    if reduction == "mean" and weighted_mean:
        return err.sum() / weight.sum()
    return reduce_loss(err, reduction)


def softplus_stable(z):
    """``log(1 + exp(z))`` with no overflow and the exact gradient ``sigmoid(z)`` everywhere (also at 0)."""
    # the shift m is a detached constant (as in logsumexp), so relu's kink never reaches the gradient
    m = z.relu().detach()
    return m + ((-m).exp() + (z - m).exp()).log()


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error ``(input - target)**2``, reduced by ``reduction`` (optionally weighted).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.mse_loss(tapegrad.tensor([1.0, 3.0]), tapegrad.tensor([0.0, 0.0]))
        tensor(5.)
    """
    _warn_shapes(input, target)
    reduction = resolve(size_average, reduce, reduction, "mse_loss")
    d = input - target
    return _weighted(d * d, weight, input, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error ``|input - target|``, reduced by ``reduction`` (optionally weighted).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.l1_loss(tapegrad.tensor([1.0, -3.0]), tapegrad.tensor([0.0, 0.0]))
        tensor(2.)
    """
    _warn_shapes(input, target)
    reduction = resolve(size_average, reduce, reduction, "l1_loss")
    return _weighted((input - target).abs(), weight, input, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits ``(N, C)`` (or ``(C,)``) and class indices or probabilities.

    Args:
        input: unnormalized logits.
        target: class indices ``(N,)`` (int64) or class probabilities of ``input``'s shape.
        weight: a per-class rescaling ``(C,)``.
        size_average, reduce: deprecated; mapped to ``reduction`` with PyTorch's warning.
        ignore_index: targets equal to it contribute neither loss nor gradient.
        reduction: ``"mean"`` (weighted mean over non-ignored targets), ``"sum"`` or ``"none"``.
        label_smoothing: in [0, 1]; mixes the one-hot target with the uniform distribution.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.zeros(2, 4)
        >>> round(tapegrad.nn.functional.cross_entropy(x, tapegrad.tensor([1, 3])).item(), 4)
        1.3863
    """
    reduction = resolve(size_average, reduce, reduction, "cross_entropy")
    return _N.cross_entropy(input, target, weight=weight, ignore_index=ignore_index, reduction=reduction,
                            label_smoothing=label_smoothing)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of class indices given log-probabilities ``(N, C)``.

    Example:
        >>> import tapegrad
        >>> logp = tapegrad.tensor([[-1.0, -2.0], [-3.0, -0.5]])
        >>> tapegrad.nn.functional.nll_loss(logp, tapegrad.tensor([0, 1]))
        tensor(0.7500)
    """
    reduction = resolve(size_average, reduce, reduction, "nll_loss")
    input = autocast_loss(input)                # Note [autocast losses]
    return _N.nll_loss(input, target, weight=weight, ignore_index=ignore_index, reduction=reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross-entropy of probabilities ``input`` in [0, 1]; the logs are clamped at -100 like PyTorch.

    Example:
        >>> import tapegrad
        >>> p = tapegrad.tensor([0.5, 0.5])
        >>> round(tapegrad.nn.functional.binary_cross_entropy(p, tapegrad.tensor([0.0, 1.0])).item(), 4)
        0.6931
    """
    reduction = resolve(size_average, reduce, reduction, "binary_cross_entropy")
    return BASE["binary_cross_entropy"](input, target, weight=weight, reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable expression, with optional ``pos_weight``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([100.0, -100.0])
        >>> loss = tapegrad.nn.functional.binary_cross_entropy_with_logits(x, tapegrad.tensor([1.0, 0.0]))
        >>> round(loss.item(), 6)
        0.0
    """
    reduction = resolve(size_average, reduce, reduction, "binary_cross_entropy_with_logits")
    return BASE["binary_cross_entropy_with_logits"](input, target, weight=weight, reduction=reduction,
                                                    pos_weight=pos_weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``0.5 * d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta`` (``d = input - target``).

    ``beta=0`` is the L1 loss. The gradient is ``d / beta`` inside, ``sign(d)`` outside (0 at ``d = 0``).

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> F.smooth_l1_loss(tapegrad.tensor([0.5, 3.0]), tapegrad.zeros(2), reduction="none")
        tensor([0.1250, 2.5000])
    """
    _warn_shapes(input, target)
    reduction = resolve(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta (got beta={beta})")
    d = input - target
    z = d.abs()
    if beta == 0.0:
        return reduce_loss(z, reduction)
    loss = _E.where(z < beta, d * d * (0.5 / beta), z - 0.5 * beta)
    return reduce_loss(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """``0.5 * d**2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)`` (optionally weighted).

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> F.huber_loss(tapegrad.tensor([0.5, 3.0]), tapegrad.zeros(2), reduction="none", delta=2.0)
        tensor([0.1250, 4.0000])
    """
    _warn_shapes(input, target)
    check(reduction, "huber_loss")
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta (got delta={delta})")
    d = input - target
    z = d.abs()
    loss = _E.where(z < delta, d * d * 0.5, (z - 0.5 * delta) * delta)
    return _weighted(loss, weight, input, reduction, weighted_mean=False)


def _xlogy_self(t):
    """``t * log(t)`` with 0 at ``t = 0`` (``torch.xlogy(t, t)``)."""
    zero = t == 0
    return _E.where(zero, 0.0, t * _E.where(zero, 1.0, t).log())


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence ``target * (log(target) - input)`` of log-probabilities ``input``.

    Args:
        input: log-probabilities.
        target: probabilities (log-probabilities with ``log_target=True``).
        size_average, reduce: deprecated; mapped to a reduction with PyTorch's warning.
        reduction: ``"batchmean"`` (sum / batch size: the KL divergence), ``"mean"`` (over every element,
            with PyTorch's warning), ``"sum"`` or ``"none"``.
        log_target: whether ``target`` holds log-probabilities.

    Example:
        >>> import tapegrad
        >>> logq = tapegrad.tensor([[0.5, 0.5]]).log()
        >>> tapegrad.nn.functional.kl_div(logq, tapegrad.tensor([[0.5, 0.5]]), reduction="batchmean")
        tensor(0.)
    """
    if size_average is not None or reduce is not None:
        reduction = resolve(size_average, reduce, reduction, "kl_div")
    else:
        check(reduction, "kl_div", ("none", "batchmean", "mean", "sum"))
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                          "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                          "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                          UserWarning, stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = _xlogy_self(target) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim != 0 else total
    return reduce_loss(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Negative log-likelihood of ``target`` under Poisson(rate): ``exp(input) - target * input``.

    With ``log_input=False`` the rate is ``input`` itself: ``input - target * log(input + eps)``. ``full``
    adds Stirling's approximation of ``log(target!)`` where ``target > 1``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.poisson_nll_loss(tapegrad.zeros(2), tapegrad.tensor([1.0, 0.0]))
        tensor(1.)
    """
    reduction = resolve(size_average, reduce, reduction, "poisson_nll_loss")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + (target * (2 * math.pi)).log() * 0.5
        loss = loss + stirling.masked_fill(target <= 1, 0.0)
    return reduce_loss(loss, reduction)


def _straight_clamp_min(x, lo):
    """``x.clamp(min=lo)`` in value, ``x`` for the gradient: PyTorch's ``clamp_`` under ``no_grad``."""
    return x + (x.clamp(min=lo) - x).detach()


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood ``0.5 * (log(var) + (input - target)**2 / var)``.

    ``var`` is the input's shape (heteroscedastic), that shape with the last dim dropped or with one
    dim of size 1 (homoscedastic), or a float. It is clamped at ``eps`` for the value only (the
    gradient passes through the clamp, as in PyTorch). ``full`` adds ``0.5 * log(2 pi)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.gaussian_nll_loss(tapegrad.ones(2), tapegrad.ones(2), tapegrad.ones(2))
        tensor(0.)
    """
    if not isinstance(var, Tensor):
        if var < 0:
            raise ValueError(f"gaussian_nll_loss: var has negative entry/entries (var={var})")
        var = C.ones_like(input) * var
    elif var.numel() and bool((var < 0).any()):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    ishape, vshape = tuple(input.shape), tuple(var.shape)
    if vshape != ishape:
        if ishape[:-1] == vshape:
            var = var.unsqueeze(-1)
        elif not (len(ishape) == len(vshape) and sum(v for i, v in zip(ishape, vshape) if i != v) == 1):
            raise ValueError(f"gaussian_nll_loss: var is of incorrect size {vshape} for an input of size {ishape}; "
                             "expected the input's size, that size without its last dim, or one dim of size 1")
    check(reduction, "gaussian_nll_loss")
    var = _straight_clamp_min(var, eps)
    d = input - target
    loss = (var.log() + d * d / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss ``log(1 + exp(-target * input))`` for targets in {-1, 1}.

    Example:
        >>> import tapegrad
        >>> round(tapegrad.nn.functional.soft_margin_loss(tapegrad.zeros(2), tapegrad.ones(2)).item(), 4)
        0.6931
    """
    reduction = resolve(size_average, reduce, reduction, "soft_margin_loss")
    return reduce_loss(softplus_stable(-target * input), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """One-vs-all logistic loss over the classes (the last dim), averaged over them.

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> round(F.multilabel_soft_margin_loss(tapegrad.zeros(1, 3), tapegrad.ones(1, 3)).item(), 4)
        0.6931
    """
    reduction = resolve(size_average, reduce, reduction, "multilabel_soft_margin_loss")
    # -(t * logsigmoid(x) + (1 - t) * logsigmoid(-x)), with logsigmoid(x) = -softplus(-x)
    loss = target * softplus_stable(-input) + (1 - target) * softplus_stable(input)
    if weight is not None:
        loss = loss * weight
    if input.ndim == 0:
        raise IndexError("multilabel_soft_margin_loss: expected an input with a class dim (at least 1-D), "
                         "got a 0-D tensor")
    loss = loss.sum(dim=input.ndim - 1) / input.shape[-1]
    return reduce_loss(loss, reduction)
