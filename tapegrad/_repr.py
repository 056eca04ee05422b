"""``repr`` of tensors in PyTorch's style: ``tensor([1., 2.], requires_grad=True)``.

Float formatting follows PyTorch's rules: if every finite value is an
integer, print ``1.`` style (scientific when the magnitudes span more than
1000x or exceed 1e8); otherwise four decimals, or scientific with four
decimals when the magnitudes span more than 1000x, exceed 1e8 or go below
1e-4. All elements are padded to one width.
"""
import numpy as np

from . import _dtype as D

_THRESHOLD = 1000
_EDGE = 3


def _summary(a):
    """The elements PyTorch looks at when choosing a format (the printed ones)."""
    if a.size <= _THRESHOLD or a.ndim == 0:
        return a.reshape(-1)
    idx = tuple(np.r_[0:_EDGE, s - _EDGE:s] if s > 2 * _EDGE else slice(None) for s in a.shape)
    return a[np.ix_(*[np.arange(s)[i] for s, i in zip(a.shape, idx)])].reshape(-1)


def _float_formatter(a):
    vals = _summary(a).astype(np.float64)
    finite = np.abs(vals[np.isfinite(vals)])
    nz = finite[finite != 0]
    int_mode = bool(np.all(finite == np.round(finite)))
    sci = False
    if nz.size:
        hi, lo = nz.max(), nz.min()
        sci = hi / lo > 1000.0 or hi > 1.0e8 or (not int_mode and lo < 1.0e-4)

    def one(v):
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        if sci:
            return f"{v:.4e}"
        if int_mode:
            return f"{v:.0f}."
        return f"{v:.4f}"

    # PyTorch sizes the columns from the nonzero finite values only; nan/inf may stick out.
    width = max((len(one(v)) for v in vals[np.isfinite(vals) & (vals != 0)]), default=1)
    return lambda v: one(v).rjust(width)


def tensor_repr(t):
    from . import backend as B
    a = np.asarray(t._backend.to_numpy(t._data))
    dt = D.from_numpy_dtype(a.dtype)
    opts = dict(separator=", ", prefix="tensor(", threshold=_THRESHOLD, edgeitems=_EDGE, max_line_width=80)
    if a.dtype.kind == "f":
        fmt = _float_formatter(a)
        body = np.array2string(a, formatter={"float_kind": fmt}, **opts)
    elif a.dtype.kind == "b":
        body = np.array2string(a, **opts) if a.ndim else ("True" if a else "False")
    else:
        body = np.array2string(a, **opts)
    body = body.replace(", ..., ", ",  ..., ")     # PyTorch's spacing around the ellipsis in a row
    extras = []
    if a.size == 0:
        body = "[]"
        if a.ndim != 1:
            extras.append(f"size={tuple(a.shape)}")
    if t.is_cuda:
        extras.append("device='cuda:0'")
    if dt not in (D.get_default_dtype(), D.int64, D.bool):
        extras.append(f"dtype={dt}")
    if t._grad_fn is not None:
        extras.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
