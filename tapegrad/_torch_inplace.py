"""``torch.<op>_(input, ...)``: the top-level in-place functions PyTorch has (``torch.relu_``, ``torch.exp_``,
``torch.clamp_``, ``torch.zero_`` ...), each the tensor's own in-place method under torch's function name.

Each is made once from its method: it takes the method's parameters (``self``
named ``input``, as torch's functions do), calls ``input.<op>_(...)`` and so
returns ``input``. Their examples sit in ``__test__`` for doctest to run.
"""
import inspect

from ._tensor import Tensor

NAMES = ("abs_ acos_ acosh_ addmv_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ as_strided_ asin_ asinh_ atan_ "
         "atanh_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ detach_ erf_ erfc_ exp2_ exp_ expm1_ fill_ fix_ "
         "floor_ frac_ index_put_ log10_ log1p_ log2_ log_ logit_ nan_to_num_ neg_ negative_ reciprocal_ relu_ "
         "round_ rsqrt_ sigmoid_ sin_ sinh_ sqrt_ square_ tan_ tanh_ trunc_ xlogy_ zero_ deg2rad_ rad2deg_ sinc_ i0_ "
         "ldexp_").split()

# name -> (the example's tensor, its arguments), as source text; absent names take ("tapegrad.tensor([0.5])", "")
_SAMPLES = {"acosh_": ("tapegrad.tensor([1.5])", ""), "arccosh_": ("tapegrad.tensor([1.5])", ""),
            "addmv_": ("tapegrad.zeros(2)", "tapegrad.ones(2, 3), tapegrad.ones(3)"),
            "as_strided_": ("tapegrad.zeros(4)", "(2,), (2,)"), "clamp_": ("tapegrad.tensor([0.5])", "0.0, 0.25"),
            "clip_": ("tapegrad.tensor([0.5])", "0.0, 0.25"), "clamp_max_": ("tapegrad.tensor([0.5])", "0.25"),
            "clamp_min_": ("tapegrad.tensor([0.5])", "0.75"), "fill_": ("tapegrad.tensor([0.5])", "2.0"),
            "index_put_": ("tapegrad.zeros(2)", "(tapegrad.tensor([1]),), tapegrad.tensor([3.0])"),
            "xlogy_": ("tapegrad.tensor([0.5])", "tapegrad.tensor([2.0])"),
            "ldexp_": ("tapegrad.tensor([0.5])", "tapegrad.tensor([2.0])")}

__all__ = []
__test__ = {}


def _make(name):
    method = getattr(Tensor, name)
    sig = inspect.signature(method)
    params = list(sig.parameters.values())
    sig = sig.replace(parameters=[params[0].replace(name="input")] + params[1:])

    def fn(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__signature__ = sig
    x, args = _SAMPLES.get(name, ("tapegrad.tensor([0.5])", ""))
    sep = ", " if args else ""
    fn.__doc__ = f"""``input.{name}(...)``: ``{name[:-1]}`` in place, returning ``input``.

    Example:
        >>> import tapegrad
        >>> x = {x}
        >>> tapegrad.{name}(x{sep}{args}) is x
        True
    """
    return fn


for _name in NAMES:
    globals()[_name] = __test__[_name] = _make(_name)
    __all__.append(_name)
