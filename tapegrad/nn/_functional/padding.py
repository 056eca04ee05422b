"""``F.pad``: constant, reflect, replicate and circular padding with PyTorch's rules and errors.

Constant padding is zero-padding ops (``pad_axis``) or a concatenation with
constant blocks, negative pads cropping; the other modes gather each padded
dim through one index array (``index_select``), so their gradients (a
scatter-add of the gathered entries) and every higher order come for free.
"""
import numpy as np

from ... import _creation as C
from ...ops.joining import cat
from ...ops.registry import apply
from ...ops.shape import pad_axis_op

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


def _index(mode, n, before, after):
    """The source index of each output position along a dim of ``n`` padded by ``before``/``after``."""
    i = np.arange(-before, n + after, dtype=np.int64)
    if mode == "reflect":
        i = np.abs(i)
        return np.where(i >= n, 2 * (n - 1) - i, i)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    lo, hi = max(-before, 0), max(-after, 0)                       # circular: crop first, then wrap the rest
    return lo + (np.arange(-max(before, 0), n - lo - hi + max(after, 0), dtype=np.int64) % (n - lo - hi))


def _check_modes(input, pad, mode):
    nd = len(pad) // 2
    if not (nd <= 3 and nd + 1 <= input.ndim <= nd + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.")
    dims = range(input.ndim - nd, input.ndim)
    # circular wraps what is left after negative pads crop; PyTorch checks the uncropped size and then reads
    # uninitialized memory where a pad exceeds the cropped one: we raise there too
    if mode == "circular" and any(max(pad[2 * k], pad[2 * k + 1]) > input.shape[d] - max(-pad[2 * k], 0)
                                  - max(-pad[2 * k + 1], 0) for k, d in enumerate(reversed(dims))):
        raise RuntimeError("Padding value causes wrapping around more than once.")
    if any(input.shape[d] == 0 for d in range(input.ndim - nd - 1 if input.ndim == nd + 2 else 0, input.ndim)):
        raise RuntimeError(f"Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with possibly 0 batch size and "
                           f"other non-zero dimensions for input, but got: {list(input.shape)}")
    for k, d in enumerate(reversed(dims)):
        before, after, n = pad[2 * k], pad[2 * k + 1], input.shape[d]
        if mode == "reflect" and (before >= n or after >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({before}, {after}) at dimension {d} of input "
                               f"{list(input.shape)}")


def _constant(input, pad, value):
    out = input
    for k in range(len(pad) // 2):
        d = input.ndim - 1 - k
        before, after = pad[2 * k], pad[2 * k + 1]
        n = out.shape[d]
        if n + before + after < 0:
            raise RuntimeError(f"narrow(): length must be non-negative. The input size {n}, plus negative padding "
                               f"{before} and {after} resulted in a negative output size, which is invalid. Check "
                               f"dimension {d} of your input.")
        if before < 0 or after < 0:
            lo, hi = max(-before, 0), max(-after, 0)
            out = out.narrow(d, lo, n - lo - hi) if lo + hi <= n else out.narrow(d, 0, 0)
            before, after = max(before, 0), max(after, 0)
        if not (before or after):
            continue
        if not value:
            out = apply(pad_axis_op, out, axis=d, before=before, after=after)
            continue
        parts = []
        for size in (before, None, after):
            if size is None:
                parts.append(out)
            elif size:
                shape = list(out.shape)
                shape[d] = size
                parts.append(C.full(tuple(shape), value, dtype=out.dtype, device=out.device))
        out = cat(parts, d)
    return out


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` dims of ``input``, as ``torch.nn.functional.pad``.

    Args:
        input: the tensor.
        pad: ``(left, right)`` for the last dim, then ``(top, bottom)`` for the one before, and so on;
            negative amounts crop (constant, reflect, replicate and circular alike).
        mode: ``"constant"`` (any number of dims), or ``"reflect"``, ``"replicate"``, ``"circular"``
            (the last 1, 2 or 3 dims of a tensor with one or two more: ``(C, W)``/``(N, C, W)`` ...).
        value: the fill of constant padding (default 0); other modes take none.

    Returns:
        The padded tensor.

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> x = tapegrad.tensor([[[1.0, 2.0, 3.0]]])
        >>> F.pad(x, (2, 1), mode="reflect")
        tensor([[[3., 2., 1., 2., 3., 2.]]])
        >>> F.pad(x, (1, 0), value=-1.0)
        tensor([[[-1.,  1.,  2.,  3.]]])
    """
    pad = tuple(pad)
    if not all(isinstance(p, int) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad(): argument 'pad' must be tuple of ints, got {pad!r}")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.ndim}")
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode == "constant":
        return _constant(input, pad, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    _check_modes(input, pad, mode)
    out = input
    for k in range(len(pad) // 2):
        d = input.ndim - 1 - k
        before, after = pad[2 * k], pad[2 * k + 1]
        if before or after:
            idx = _index(mode, out.shape[d], before, after)
            out = out.index_select(d, C.tensor(idx, device=out.device))
    return out
