"""``detect_anomaly``: raise on the first NaN/Inf produced in forward or backward.

The flag lives in the tape layer because ops (forward) and the engine
(backward) both read it. When off, it costs one list lookup per op (``ENABLED[0]``).
"""
import os
import traceback

from .. import backend as B

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]

ENABLED = [False]


def is_anomaly_enabled():
    """Return True inside ``detect_anomaly()``."""
    return ENABLED[0]


class detect_anomaly:
    """Context manager: a NaN or Inf produced by an op, forward or backward, raises.

    The error names the op, its input shapes and dtypes and, for backward, the
    line of user code that called the op in forward.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([-1.0], requires_grad=True)
        >>> with tapegrad.autograd.detect_anomaly():
        ...     try:
        ...         tapegrad.sqrt(x)
        ...     except RuntimeError as e:
        ...         print(str(e).split(":")[0])
        anomaly detected in forward of sqrt
    """

    def __init__(self, check_nan=True):
        self.check = check_nan

    def __enter__(self):
        self.prev = ENABLED[0]
        ENABLED[0] = self.check

    def __exit__(self, *exc):
        ENABLED[0] = self.prev
        return False


class set_detect_anomaly(detect_anomaly):
    """Turn anomaly detection on or off, as a context manager or a plain call."""

    def __init__(self, mode):
        super().__init__(mode)
        self.prev = ENABLED[0]
        ENABLED[0] = bool(mode)

    def __enter__(self):
        ENABLED[0] = self.check


def _describe_inputs(args):
    # Tensors and backend arrays both answer .shape and .dtype: the tape layer needs no Tensor import.
    out = []
    for a in args:
        if hasattr(a, "shape") and hasattr(a, "dtype"):
            out.append(f"{tuple(a.shape)} {a.dtype}")
        else:
            out.append(repr(a))
    return "[" + ", ".join(out) + "]"


_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _user_frame(stack):
    """The innermost frame outside the tapegrad package: the line of user code that called the op."""
    for fr in reversed(stack):
        if not os.path.abspath(fr.filename).startswith(_PKG):
            return f'File "{fr.filename}", line {fr.lineno}, in {fr.name}\n    {fr.line}'
    return "(no user frame)"


def _bad(x):
    be = B.backend_for(x)
    if x.dtype.kind != "f":
        return False
    return not bool(be.all(be.isfinite(x)))


def check_forward(op, out, args):
    if _bad(out):
        where = _user_frame(traceback.extract_stack()[:-3])
        raise RuntimeError(f"anomaly detected in forward of {op.name}: it produced NaN or Inf from inputs "
                           f"{_describe_inputs(args)}; called at:\n{where}")


def check_backward(node, grads):
    for i, g in enumerate(grads):
        if g is None:
            continue
        data = getattr(g, "_data", g)
        if _bad(data):
            where = _user_frame(node.anomaly) if node.anomaly else "(recorded before detect_anomaly was on)"
            shapes = ", ".join("const" if e is None else f"{tuple(e[2])} {e[3]}" for e in node.next)
            raise RuntimeError(f"anomaly detected in backward of {node.op.name}: gradient for input {i} has "
                               f"NaN or Inf (inputs: {shapes}); the forward op was called at:\n{where}")
