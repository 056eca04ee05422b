"""Argument conversion for ``apply``: Python numbers and NumPy arrays into arrays of one
backend, PyTorch's type promotion, device checks, and op-named errors.

``apply`` (registry.py) handles the common cases inline; everything else comes here.
"""
from .. import _dtype as D
from .. import backend as B
from .._tensor import Tensor
_BY_TYPE = B.BY_TYPE
_FLOAT_CAT = 2


def _error(op, e, args):
    parts = []
    for a in args:
        if isinstance(a, Tensor):
            parts.append(f"tensor{tuple(a._data.shape)}:{D.from_numpy_dtype(a._data.dtype).name}@{a.device}")
        else:
            parts.append(repr(a) if len(repr(a)) < 40 else type(a).__name__)
    msg = str(e)
    return type(e) if isinstance(e, (TypeError, IndexError, NotImplementedError, RuntimeError)) else RuntimeError, \
        f"{op.name}: {msg} (inputs: {', '.join(parts)})"


_REQUIRED = {}


def _n_required(op):
    """How many leading forward arguments have no default (None is refused there)."""
    n = _REQUIRED.get(op)
    if n is None:
        import inspect
        ps = [p for p in inspect.signature(op.forward).parameters.values()
              if p.kind == p.POSITIONAL_OR_KEYWORD][1:]
        n = _REQUIRED[op] = sum(p.default is p.empty for p in ps)
    return n


def _arg_error(op, i, a):
    """PyTorch's TypeError for a non-tensor argument: ``exp(): argument 'x' (position 1) must be Tensor, not list``."""
    import inspect
    ps = [p.name for p in inspect.signature(op.forward).parameters.values()
          if p.kind == p.POSITIONAL_OR_KEYWORD][1:]
    name = ps[i] if i < len(ps) else f"#{i + 1}"
    return TypeError(f"{op.name}(): argument '{name}' (position {i + 1}) must be Tensor, not {type(a).__name__} "
                     "(a Python number or a NumPy array also works)")


def _to_tensor_args(op, args):
    """Convert non-Tensor arguments, promote dtypes, check devices. Returns (arrays, be, dtype).

    Only the positions in ``op.promote_args`` (all, when None) take part in promotion.
    """
    pa = op.promote_args
    dims, zdims, scal = [], [], []
    be = None
    conv = []
    for i, a in enumerate(args):
        part = op.promote and (pa is None or i in pa)
        if isinstance(a, Tensor):
            abe = a._backend
            if be is None:
                be = abe
            elif abe is not be:
                raise RuntimeError(
                    f"{op.name}: expected all tensors on the same device, found {be.device_type} and "
                    f"{abe.device_type}; move them with .to(device)")
            x = a._data
            if part:
                (dims if x.ndim else zdims).append(D.from_numpy_dtype(x.dtype))
        elif a is None:
            if i < _n_required(op):
                raise _arg_error(op, i, a)
            x = None
        elif isinstance(a, (bool, int, float)):
            x = a
            if part:
                scal.append(D.scalar_dtype(a))
        else:
            # NumPy arrays and scalars are accepted; lists are not (a TypeError in PyTorch too).
            x = None if isinstance(a, (list, tuple)) else Tensor._coerce_array(a)
            if x is None:
                raise _arg_error(op, i, a)
            try:
                xd = D.from_numpy_dtype(x.dtype)
            except TypeError as e:
                raise TypeError(f"{op.name}(): argument {i + 1}: {e}") from None
            if part:
                (dims if x.ndim else zdims).append(xd)
            x = ("np", x)
        conv.append(x)
    if be is None:
        be = B.CPU_BACKEND
    dtype = None
    if op.promote:
        if op.name == "subtract" and (D.bool in dims or D.bool in zdims or D.bool in scal):
            # PyTorch refuses any bool tensor here (bool - bool is refused by NumPy too, on the fast path)
            raise RuntimeError("subtract: Subtraction, the `-` operator, with a bool tensor (or a bool) is not "
                               "supported. If you are trying to invert a mask, use the `~` or `logical_not()` "
                               "operator instead.")
        dtype = D.result_type(dims, zdims, scal) or D.get_default_dtype()
        if op.promote == "float" and dtype._category != _FLOAT_CAT:
            dtype = D.get_default_dtype()
    npd = dtype.np if dtype is not None else None
    arrays = []
    for i, x in enumerate(conv):
        part = npd is not None and (pa is None or i in pa)
        if x.__class__ is tuple:
            x = be.from_numpy(x[1])
        elif x is None:
            arrays.append(None)
            continue
        elif isinstance(x, (bool, int, float)):
            if part:
                if op.name == "where":      # an element, not an operand: it must fit (where, masked_fill, fill_)
                    D.check_fits(x, dtype, op.name)
                x = D.scalar_as(x, dtype, op.name)
            else:
                if x.__class__ is int:
                    D.check_int64(x, op.name)
                x = be.asarray(x, D.scalar_dtype(x).np)
            arrays.append(x)
            continue
        if part and x.dtype != npd:
            x = be.astype(x, npd)
        arrays.append(x)
    return arrays, be, dtype


def _all_tensors(op, args):
    """The arrays when every argument is a Tensor (or None) on one backend and no dtype
    conversion is needed; else (None, None). The fast path for 3+ inputs and partial promotion."""
    pa = op.promote_args
    arrays = []
    be_t = None
    d = None
    for i, a in enumerate(args):
        if a is None:
            arrays.append(None)
            continue
        if not isinstance(a, Tensor):
            return None, None
        x = a._data
        if be_t is None:
            be_t = x.__class__
        elif x.__class__ is not be_t:
            return None, None
        if op.promote and (pa is None or i in pa):
            if d is None:
                d = x.dtype
                if op.promote == "float" and d.kind != "f":
                    return None, None
            elif x.dtype != d:
                return None, None
        arrays.append(x)
    if be_t is None:
        return None, None
    return arrays, _BY_TYPE[be_t]


def check_inplace_cast(name, have, want):
    """PyTorch's rule for writing an op's result into an existing tensor (``can_cast``): no
    float result into an integer tensor, no non-bool result into a bool one; PyTorch's message."""
    if have._category > want._category:
        raise RuntimeError(f"{name}: result type {have._torch_name} can't be cast to the desired output type "
                           f"{want._torch_name} (a {have.name} result into the {want.name} tensor being "
                           "modified)")
