"""``repr`` of tensors in PyTorch's style: ``tensor([1., 2.], requires_grad=True)``."""
import numpy as np

from . import _dtype as D


def _format_float(a):
    finite = a[np.isfinite(a)]
    if finite.size and np.all(finite == np.round(finite)) and np.abs(finite).max() < 1e8:
        return lambda v: (f"{v:.0f}." if np.isfinite(v) else str(v).replace("inf", "inf"))
    big = finite.size and (np.abs(finite).max() >= 1e8 or (np.abs(finite[finite != 0]).min(initial=1) < 1e-4))
    if big:
        return lambda v: f"{v:.4e}"
    return lambda v: f"{v:.4f}"


def tensor_repr(t):
    from . import backend as B
    a = np.asarray(B.BY_TYPE[type(t._data)].to_numpy(t._data))
    dt = D.from_numpy_dtype(a.dtype)
    if a.dtype.kind == "f":
        fmt = _format_float(a)
        body = np.array2string(a, separator=", ", formatter={"float_kind": fmt}, prefix="tensor(",
                               threshold=1000, edgeitems=3, max_line_width=80)
    elif a.dtype.kind == "b":
        body = np.array2string(a, separator=", ", prefix="tensor(", threshold=1000,
                               formatter={"bool": lambda v: "True" if v else "False"})
    else:
        body = np.array2string(a, separator=", ", prefix="tensor(", threshold=1000)
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
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
