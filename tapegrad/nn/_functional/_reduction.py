"""Reductions of a loss, and PyTorch's legacy ``size_average``/``reduce`` keywords (``torch.nn._reduction``)."""
import warnings

from ...ops import registry as _reg

__all__ = []

REDUCTIONS = ("none", "mean", "sum")


def legacy_get_string(size_average, reduce, emit_warning=True, stacklevel=2):
    """The reduction the deprecated ``size_average``/``reduce`` pair stands for, with PyTorch's warning.

    ``None`` counts as True (both default to True); ``reduce=False`` wins and means ``"none"``.

    Example:
        >>> import warnings
        >>> from tapegrad.nn._functional._reduction import legacy_get_string
        >>> legacy_get_string(False, None, emit_warning=False)
        'sum'
    """
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if (size_average and reduce) else ("sum" if reduce else "none")
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                      UserWarning, stacklevel=stacklevel + 1)
    return ret


def resolve(size_average, reduce, reduction, fn):
    """``reduction``, or the legacy pair's reduction when either is given; a bad value raises ValueError."""
    if size_average is not None or reduce is not None:
        # the warning points at the user's call of the F function (two frames up from here)
        reduction = legacy_get_string(size_average, reduce, stacklevel=3)
    check(reduction, fn)
    return reduction


def check(reduction, fn, allowed=REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{fn}: {reduction!r} is not a valid value for reduction; expected one of {allowed}")


class _Loss:
    name = "loss"           # the entry of the composed losses in autocast's float32 lists (tapegrad/amp)


def autocast_loss(t):
    """``t`` as autocast casts a loss's input: to float32 inside an autocast region, else itself.

    Note [autocast losses]: torch's autocast runs every loss in float32; a loss composed of other ops passes
    its elementwise loss (or, for ``nll_loss``, its input) through the dispatch hook (Note [dispatch hook] in
    ops/registry.py) as the op ``"loss"``.

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn._functional._reduction import autocast_loss
        >>> with tapegrad.autocast("cpu"):
        ...     autocast_loss(tapegrad.ones(2, dtype=tapegrad.bfloat16)).dtype
        tapegrad.float32
    """
    if _reg.ARGS_HOOK[0] is not None:
        (t,) = _reg.ARGS_HOOK[0](_Loss, (t,))
    return t


def reduce_loss(loss, reduction):
    """``loss`` itself (``"none"``), its mean or its sum."""
    loss = autocast_loss(loss)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
