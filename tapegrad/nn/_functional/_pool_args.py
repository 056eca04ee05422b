"""Argument rules shared by the pooling functions: tuples, ranks, output sizes and PyTorch's errors."""
import math

from ... import _creation as C

__all__ = []


def ntuple(v, n, what, name):
    """``v`` (an int or a sequence of 1 or ``n`` ints) as ``n`` ints."""
    if isinstance(v, int) and not isinstance(v, bool):
        return (v,) * n
    if isinstance(v, (tuple, list)) and all(isinstance(i, int) and not isinstance(i, bool) for i in v):
        if len(v) == n:
            return tuple(v)
        if len(v) == 1:
            return tuple(v) * n
    raise RuntimeError(f"{name}: {what} must be a single int, or a tuple of {n} ints, got {v!r}")


def batched(name, input, nd):
    """``(input with a batch dim, whether one was added)``, or an error for a rank other than nd+1 / nd+2."""
    if input.ndim == nd + 1 and all(input.shape):
        return input.unsqueeze(0), True
    if input.ndim == nd + 2 and all(input.shape[1:]):
        return input, False
    raise RuntimeError(f"{name}: expected a non-empty {nd + 1}D (unbatched) or {nd + 2}D (batched) input, but got "
                       f"input of size {list(input.shape)}")


def check_float(name, input):
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{name}: tapegrad pools floating-point inputs only, got {input.dtype} "
                           f"(shape {list(input.shape)})")


def pool_args(name, nd, kernel_size, stride, padding, dilation):
    """Normalized ``(kernel, stride, padding, dilation)``, with PyTorch's checks."""
    k = ntuple(kernel_size, nd, "kernel_size", name)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else ntuple(stride, nd, "stride",
                                                                                              name)
    p, d = ntuple(padding, nd, "padding", name), ntuple(dilation, nd, "dilation", name)
    if any(v <= 0 for v in k):
        raise RuntimeError(f"{name}: kernel_size must be greater than zero, but got {k}")
    if any(v == 0 for v in s):
        raise RuntimeError("stride should not be zero")
    if any(v < 0 for v in s):
        raise RuntimeError(f"{name}: stride must be positive, but got {s}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"{name}: dilation must be greater than zero, but got {d}")
    for pi, ki, di in zip(p, k, d):
        if pi < 0 or pi > ki // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={pi}, "
                               f"kernel_size={ki} and dilation={di}")
    return k, s, p, d


def out_size(input, k, s, p, d, ceil_mode):
    """PyTorch's pooled sizes: with ``ceil_mode`` the last window must start inside the input or left padding."""
    sp = tuple(input.shape[2:])
    out = []
    for n, ki, si, pi, di in zip(sp, k, s, p, d):
        o = (n + 2 * pi - di * (ki - 1) - 1 + (si - 1 if ceil_mode else 0)) // si + 1
        if ceil_mode and (o - 1) * si >= n + pi:
            o -= 1
        out.append(o)
    if any(o < 1 for o in out):
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, input.shape[1:]))}). Calculated output size: "
                           f"({'x'.join(map(str, (input.shape[1],) + tuple(out)))}). Output size is too small")
    return tuple(out)


def plane_offsets(input, nd):
    """int64 ``(N, C, 1, ...)``: each plane's first element in the flattened input."""
    n, c = input.shape[:2]
    plane = math.prod(input.shape[2:])
    return C.arange(0, n * c * plane, plane, device=input.device).reshape((n, c) + (1,) * nd)


def adaptive_size(name, input, output_size, nd):
    """``output_size`` as ``nd`` ints (None keeps the input's size)."""
    if isinstance(output_size, int) and not isinstance(output_size, bool) or output_size is None:
        output_size = (output_size,) * nd
    if not isinstance(output_size, (tuple, list)) or len(output_size) not in (1, nd):
        raise RuntimeError(f"{name}: output_size must be an int or a tuple of {nd} ints (or None), got "
                           f"{output_size!r}")
    output_size = tuple(output_size) * (nd // len(output_size))
    out = tuple(input.shape[-nd + i] if o is None else o for i, o in enumerate(output_size))
    if any(not isinstance(o, int) or o < 0 for o in out):
        raise RuntimeError(f"{name}: output_size must be non-negative ints, got {output_size!r}")
    return out
