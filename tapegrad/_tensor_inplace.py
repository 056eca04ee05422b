"""In-place variants (``exp_``, ``pow_``, ``index_add_``, ...) of the Tensor methods that lack one.

Each ``<name>_`` runs the out-of-place method on the tensor and writes the result back through
``ops.inplace._inplace`` (Note [in-place] in ops/inplace.py): the result must keep the tensor's shape, must be
castable to its dtype (``int.sqrt_()`` raises as torch), a leaf that requires grad raises, the version counter
moves, and a tensor with history gets the out-of-place op's node, so gradients flow as in torch. Each function
carries the signature of its out-of-place method and an example comparing the two (doctest runs them).
The shape-changing ``squeeze_``, ``unsqueeze_``, ``t_``, ``transpose_`` and ``swapdims_`` are not here: they
change the tensor's metadata, not its values.
"""
import inspect

from ._tensor import Tensor
from .ops.inplace import _inplace, _self_safe

__all__ = []

_F = "tapegrad.tensor([0.5, 0.25])"
_OTHER = "(tapegrad.tensor([2.0, 3.0]),)"
# name: (the tensor, the arguments), as source text for the example; absent names take (_F, "()")
_SAMPLES = {
    "acosh": ("tapegrad.tensor([1.5, 2.0])", "()"), "arccosh": ("tapegrad.tensor([1.5, 2.0])", "()"),
    "clamp_min": (_F, "(0.3,)"), "clamp_max": (_F, "(0.3,)"),
    "float_power": ("tapegrad.tensor([0.5, 0.25], dtype=tapegrad.float64)", "(2,)"),
    "lerp": (_F, "(tapegrad.tensor([2.0, 3.0]), 0.5)"),
    "addcdiv": (_F, "(tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([2.0, 4.0]))"),
    "addcmul": (_F, "(tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([2.0, 4.0]))"),
    "addmm": ("tapegrad.zeros(2, 2)", "(tapegrad.ones(2, 3), tapegrad.ones(3, 2))"),
    "addmv": ("tapegrad.zeros(2)", "(tapegrad.ones(2, 3), tapegrad.ones(3))"),
    "addbmm": ("tapegrad.zeros(2, 2)", "(tapegrad.ones(4, 2, 3), tapegrad.ones(4, 3, 2))"),
    "baddbmm": ("tapegrad.zeros(4, 2, 2)", "(tapegrad.ones(4, 2, 3), tapegrad.ones(4, 3, 2))"),
    "index_add": (_F, "(0, tapegrad.tensor([0, 0]), tapegrad.tensor([1.0, 2.0]))"),
    "scatter_add": (_F, "(0, tapegrad.tensor([0, 0]), tapegrad.tensor([1.0, 2.0]))"),
    "bitwise_not": ("tapegrad.tensor([1, 2])", "()"),
}
for _n in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift"):
    _SAMPLES[_n] = ("tapegrad.tensor([1, 2])", "(tapegrad.tensor([3, 1]),)")
for _n in ("atan2", "arctan2", "copysign", "divide", "true_divide", "fmod", "remainder", "hypot", "pow", "xlogy",
           "multiply", "subtract", "floor_divide", "heaviside", "eq", "ne", "lt", "le", "gt", "ge", "greater",
           "greater_equal", "less", "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor"):
    _SAMPLES[_n] = (_F, _OTHER)

_UNARY = ("abs acos arccos acosh arccosh asin arcsin asinh arcsinh atan arctan atanh arctanh ceil cos cosh digamma "
          "erf erfc erfinv exp exp2 expm1 fix floor frac lgamma log log10 log1p log2 logit neg negative reciprocal "
          "relu round rsqrt sgn sigmoid sign sin sinh sqrt square tan tanh trunc nan_to_num logical_not").split()
NAMES = tuple(_UNARY) + tuple(n for n in _SAMPLES if n not in _UNARY)


def _make(base):
    name = base + "_"

    def method(self, *args, **kwargs):
        args = tuple(_self_safe(a, self) for a in args)
        kwargs = {k: _self_safe(v, self) for k, v in kwargs.items()}
        return _inplace(name, self, lambda s: getattr(s, base)(*args, **kwargs), True,
                        args + tuple(kwargs.values()))

    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    method.__signature__ = inspect.signature(getattr(Tensor, base))
    x, args = _SAMPLES.get(base, (_F, "()"))
    method.__doc__ = f"""In-place ``{base}``: writes ``self.{base}(...)`` into ``self`` and returns ``self``.

    Example:
        >>> import tapegrad
        >>> x = {x}
        >>> y = x.{base}(*{args})
        >>> x.{name}(*{args}) is x and bool((x == y).all())
        True
    """
    return method


METHODS = {}
for _base in NAMES:
    if hasattr(Tensor, _base) and not hasattr(Tensor, _base + "_"):
        METHODS[_base + "_"] = globals()[_base + "_"] = _make(_base)
