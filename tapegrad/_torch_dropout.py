"""The ``torch.*`` dropouts with torch's signatures (``torch.dropout(input, p, train)``), their in-place forms
(``torch.dropout_`` ...) and ``torch.feature_dropout`` (whole channels), over ``nn.functional``'s.

As in tapegrad/_torch_nn.py, ``nn.functional`` is imported when a function is called.
"""

__all__ = ["dropout", "dropout_", "alpha_dropout", "alpha_dropout_", "feature_alpha_dropout",
           "feature_alpha_dropout_", "feature_dropout", "feature_dropout_"]


def _F():
    from .nn import functional
    return functional


def dropout(input, p, train, inplace=False):
    """Dropout when ``train`` (``nn.functional.dropout(input, p, training=train)``).

    Example:
        >>> import tapegrad
        >>> tapegrad.dropout(tapegrad.ones(3), 0.5, False)
        tensor([1., 1., 1.])
    """
    return _F().dropout(input, p, train, inplace)


def dropout_(input, p, train):
    """In-place ``dropout``: zeroes ``input``'s elements with probability ``p`` when ``train``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(3)
        >>> tapegrad.dropout_(x, 1.0, True) is x and x.tolist() == [0.0, 0.0, 0.0]
        True
    """
    return _into(input, _F().dropout(input, p, train))


def _into(input, out):
    """``input`` holding ``out`` (an in-place form's result), with ``out``'s history when it has one."""
    return input if out is input else input.copy_(out)


def alpha_dropout(input, p, train, inplace=False):
    """Alpha dropout when ``train`` (``nn.functional.alpha_dropout``).

    Example:
        >>> import tapegrad
        >>> tapegrad.alpha_dropout(tapegrad.ones(2), 0.5, False)
        tensor([1., 1.])
    """
    return _F().alpha_dropout(input, p, train, inplace)


def alpha_dropout_(input, p, train):
    """In-place ``alpha_dropout``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2)
        >>> tapegrad.alpha_dropout_(x, 0.5, False) is x
        True
    """
    return _into(input, _F().alpha_dropout(input, p, train))


def feature_alpha_dropout(input, p, train, inplace=False):
    """Alpha dropout of whole channels when ``train`` (``nn.functional.feature_alpha_dropout``).

    Example:
        >>> import tapegrad
        >>> tapegrad.feature_alpha_dropout(tapegrad.ones(1, 2, 2), 0.5, False).shape
        tapegrad.Size([1, 2, 2])
    """
    return _F().feature_alpha_dropout(input, p, train, inplace)


def feature_alpha_dropout_(input, p, train):
    """In-place ``feature_alpha_dropout``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(1, 2, 2)
        >>> tapegrad.feature_alpha_dropout_(x, 0.5, False) is x
        True
    """
    return _into(input, _F().feature_alpha_dropout(input, p, train))


def _feature_mask(input, p, name):
    from . import _creation as C
    from ._random_functions import bernoulli
    if not 0 <= p <= 1:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim < 2:
        raise RuntimeError(f"{name}: Feature dropout requires at least 2 dimensions in the input, got "
                           f"{input.ndim}D of shape {tuple(input.shape)}")
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    if p == 1:
        return C.zeros(shape, dtype=input.dtype, device=input.device)
    return bernoulli(C.full(shape, 1 - p, dtype=input.dtype, device=input.device)) / (1 - p)


def feature_dropout(input, p, train):
    """Dropout of whole channels (dims 0 and 1 index a channel) when ``train``, as ``torch.feature_dropout``.

    Example:
        >>> import tapegrad
        >>> tapegrad.feature_dropout(tapegrad.ones(1, 2, 3), 1.0, True).tolist()
        [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]
    """
    if not train or p == 0:
        return input
    return input * _feature_mask(input, p, "feature_dropout")


def feature_dropout_(input, p, train):
    """In-place ``feature_dropout``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(1, 2, 3)
        >>> tapegrad.feature_dropout_(x, 0.5, False) is x
        True
    """
    if not train or p == 0:
        return input
    return input.mul_(_feature_mask(input, p, "feature_dropout_"))
