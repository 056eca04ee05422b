"""``repr`` of tensors in PyTorch's style: ``tensor([1., 2.], requires_grad=True)``.

Float formatting follows PyTorch's rules: if every finite value is an
integer, print ``1.`` style (scientific when the magnitudes span more than
1000x or exceed 1e8); otherwise four decimals, or scientific with four
decimals when the magnitudes span more than 1000x, exceed 1e8 or go below
1e-4. All elements are padded to one width. ``set_printoptions`` changes the
precision, the summarising threshold and edge items, the line width and the
scientific mode, as torch's.
"""
import sys

import numpy as np

from . import _dtype as D

__all__ = ["set_printoptions"]

_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80)}
_OPTS = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """Set how tensors print, as ``torch.set_printoptions``.

    Args:
        precision: digits after the point of floats (default 4).
        threshold: element count above which a tensor prints summarised (default 1000).
        edgeitems: items shown at each end of a summarised dim (default 3).
        linewidth: characters per line (default 80).
        profile: ``"default"``, ``"short"`` or ``"full"``: a preset, applied before the other arguments.
        sci_mode: True or False forces scientific notation on or off; None (the default, and what every call
            without it sets) lets the values decide.

    Example:
        >>> import tapegrad
        >>> tapegrad.set_printoptions(precision=2)
        >>> tapegrad.tensor([1.2345, 2.0])
        tensor([1.23, 2.00])
        >>> tapegrad.set_printoptions(profile="default")
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}")
        _OPTS.update(_PROFILES[profile])
    for name, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                    ("linewidth", linewidth)):
        if v is not None:
            _OPTS[name] = v
    _OPTS["sci_mode"] = sci_mode


def _threshold():
    t = _OPTS["threshold"]
    return sys.maxsize if t == float("inf") else int(t)


def _summary(a):
    """The elements PyTorch looks at when choosing a format (the printed ones)."""
    edge = _OPTS["edgeitems"]
    if a.size <= _threshold() or a.ndim == 0:
        return a.reshape(-1)
    idx = tuple(np.r_[0:edge, s - edge:s] if s > 2 * edge else slice(None) for s in a.shape)
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
    if _OPTS["sci_mode"] is not None and nz.size:    # torch: no nonzero finite value, no forced mode
        sci = bool(_OPTS["sci_mode"])
    p = _OPTS["precision"]

    def one(v):
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        if sci:
            return f"{v:.{p}e}"
        if int_mode:
            return f"{v:.0f}."
        return f"{v:.{p}f}"

    # PyTorch sizes the columns from the nonzero finite values only; nan/inf may stick out.
    width = max((len(one(v)) for v in vals[np.isfinite(vals) & (vals != 0)]), default=1)
    return _padded(one, width)


def _padded(one, width):
    def fmt(v):
        return one(v).rjust(width)
    fmt.width = width
    return fmt


def _element_formatter(a):
    """One string per element, padded to a common width (torch's ``_Formatter``)."""
    if a.dtype.kind == "f":
        return _float_formatter(a)
    vals = _summary(a)
    one = (lambda v: "True" if v else "False") if a.dtype.kind == "b" else (lambda v: str(int(v)))
    return _padded(one, max((len(one(v)) for v in vals), default=1))


def _vector_str(a, indent, fmt, summarize):
    # torch's _vector_str: as many elements per line as fit in ``linewidth`` after the indent
    edge = _OPTS["edgeitems"]
    per_line = max(1, int((_OPTS["linewidth"] - indent) // (fmt.width + 2)))
    if summarize and not edge:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        data = [fmt(v) for v in a[:edge]] + [" ..."] + [fmt(v) for v in a[-edge:]]
    else:
        data = [fmt(v) for v in a]
    lines = [", ".join(data[k:k + per_line]) for k in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str(a, indent, fmt, summarize):
    if a.ndim == 0:
        return fmt(a[()])
    if a.ndim == 1:
        return _vector_str(a, indent, fmt, summarize)
    edge = _OPTS["edgeitems"]
    if summarize and a.shape[0] > 2 * edge:
        slices = ([_tensor_str(a[k], indent + 1, fmt, summarize) for k in range(edge)] + ["..."]
                  + [_tensor_str(a[k], indent + 1, fmt, summarize) for k in range(a.shape[0] - edge, a.shape[0])])
    else:
        slices = [_tensor_str(a[k], indent + 1, fmt, summarize) for k in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def tensor_repr(t):
    a = np.asarray(t._backend.to_numpy(t._data))
    dt = D.from_numpy_dtype(a.dtype)
    if dt is D.bfloat16:
        a = a.astype(np.float32)        # exact; formatted as a float (Note [bfloat16 kind] in _dtype.py)
    fmt = _element_formatter(a)
    if a.ndim == 0:
        body = fmt(a[()]).strip()
    else:
        body = _tensor_str(a, len("tensor("), fmt, a.size > _threshold())
    extras = []
    from ._device import get_default_device          # torch names a device that is not the default one
    if t.device.type != get_default_device().type:
        extras.append("device='cuda:0'" if t.is_cuda else "device='cpu'")
    if a.size == 0:
        body = "[]"
        if a.ndim != 1:
            extras.append(f"size={tuple(a.shape)}")
        if dt is not D.get_default_dtype():
            extras.append(f"dtype={dt}")
    else:
        if not _OPTS["edgeitems"]:
            extras.append(f"size={tuple(a.shape)}")
        if dt not in (D.get_default_dtype(), D.int64, D.bool):
            extras.append(f"dtype={dt}")
    if t._grad_fn is not None:
        extras.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return _add_suffixes("tensor(" + body, extras, len("tensor("))


def _add_suffixes(text, suffixes, indent):
    # torch's _add_suffixes: a suffix that would pass ``linewidth`` goes on its own line
    out = [text]
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > _OPTS["linewidth"]:
            out.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            out.append(", " + suffix)
            last += len(suffix) + 2
    return "".join(out) + ")"
