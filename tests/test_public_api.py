"""Every public function and Tensor method is a real function: its own name, signature,
docstring, and an example that pytest's ``--doctest-modules`` actually collects.

The public surface checked: callables in ``dir(tapegrad)``, ``tapegrad.nn.functional.__all__``,
and the public (no leading underscore) methods of ``tapegrad.Tensor``.
"""
import doctest
import functools
import inspect
import pydoc
import sys
import types

import numpy as np
import pytest

import tapegrad
import tapegrad.nn.functional as F
from tapegrad.ops.registry import OpDef

# Deliberate exceptions: (surface, name) -> {check: reason}. test_exceptions_are_still_needed
# fails when one of these starts passing, so the list cannot outlive its reason.
# None today: every public callable passes every check.
EXCEPTIONS = {}


def _public():
    """(surface, name, object) for every public callable that is not a class or module."""
    out = []
    for name in dir(tapegrad):
        obj = getattr(tapegrad, name)
        if not name.startswith("_") and callable(obj) and not isinstance(obj, (type, types.ModuleType)):
            out.append(("tapegrad", name, obj))
    for name in F.__all__:
        out.append(("nn.functional", name, getattr(F, name)))
    for name in dir(tapegrad.Tensor):
        obj = inspect.getattr_static(tapegrad.Tensor, name)
        if not name.startswith("_") and callable(obj) and not isinstance(obj, type):
            out.append(("Tensor", name, obj))
    return out


PUBLIC = _public()
_IDS = [f"{s}.{n}" for s, n, _ in PUBLIC]


def _defined_in_tapegrad(obj):
    return isinstance(obj, types.FunctionType) and obj.__module__.split(".")[0] == "tapegrad"


@functools.lru_cache(maxsize=None)
def _doctests_of_module(name):
    """The docstrings whose examples doctest (as pytest's --doctest-modules does) finds in module ``name``."""
    return frozenset(id(t.docstring) for t in doctest.DocTestFinder().find(sys.modules[name]) if t.examples)


def _problems(surface, name, obj):
    """Which checks ``obj`` fails: kind, doc, signature, name, example, collected."""
    bad = {}
    if not isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        bad["kind"] = f"is a {type(obj).__name__}, not a function"
    doc = inspect.getdoc(obj) if isinstance(obj, types.FunctionType) else obj.__doc__
    if not doc or doc == type(obj).__doc__ or doc == OpDef.__doc__:
        bad["doc"] = f"has no docstring of its own: {doc!r:.60}"
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError) as e:
        bad["signature"] = f"has no signature ({e})"
    else:
        kinds = [p.kind for p in sig.parameters.values()]
        if kinds[-2:] == [inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD] and len(kinds) <= 3:
            bad["signature"] = f"has a generic signature {sig}"
        elif surface == "Tensor" and (not kinds or list(sig.parameters)[0] != "self"):
            bad["signature"] = f"is a method whose signature {sig} does not start with self"
    if getattr(obj, "__name__", name) != name:
        bad["name"] = f"is named {obj.__name__!r}"
    if _defined_in_tapegrad(obj):
        if not doc or "Example:" not in doc:
            bad["example"] = "has no Example: section"
        elif id(obj.__doc__) not in _doctests_of_module(obj.__module__):
            bad["collected"] = f"has an example that doctest does not collect from {obj.__module__}"
    return bad


@pytest.mark.parametrize("surface,name,obj", PUBLIC, ids=_IDS)
def test_public_callable_is_a_documented_function(surface, name, obj):
    allowed = EXCEPTIONS.get((surface, name), {})
    bad = {k: v for k, v in _problems(surface, name, obj).items() if k not in allowed}
    assert not bad, f"{surface}.{name}: " + "; ".join(bad.values())


def test_exceptions_are_still_needed():
    found = {(s, n): o for s, n, o in PUBLIC}
    for key, allowed in EXCEPTIONS.items():
        assert key in found, f"{key} is listed in EXCEPTIONS but is not public any more"
        stale = set(allowed) - set(_problems(*key, found[key]))
        assert not stale, f"{key}: EXCEPTIONS allows {sorted(stale)} but it passes them now; drop them"


def test_the_surface_checked_is_the_whole_surface():
    # A guard on _public itself: the names the issue cites are among those checked.
    ids = set(_IDS)
    for n in ("tapegrad.exp", "tapegrad.tanh", "tapegrad.relu", "tapegrad.logical_and", "tapegrad.maximum",
              "nn.functional.relu", "Tensor.exp", "Tensor.where", "Tensor.float", "Tensor.type_as"):
        assert n in ids


@pytest.mark.parametrize("name", ["exp", "tanh", "relu", "logical_and", "isnan", "maximum", "round", "clip"])
def test_help_shows_the_functions_own_signature_and_docstring(name):
    fn = getattr(tapegrad, name)
    text = pydoc.render_doc(fn, renderer=pydoc.plaintext)
    summary = inspect.getdoc(fn).splitlines()[0]
    assert summary in text
    assert OpDef.__doc__ not in text
    assert f"{name}{inspect.signature(fn)}" in text
    method = pydoc.render_doc(getattr(tapegrad.Tensor, name), renderer=pydoc.plaintext)
    assert summary in method and f"{name}(self" in method


def test_tensor_method_is_the_function_under_another_signature():
    # Tensor.exp shares tapegrad.exp's code and docstring: no wrapper call between them.
    assert tapegrad.Tensor.exp.__code__ is tapegrad.exp.__code__
    assert tapegrad.Tensor.exp.__doc__ is tapegrad.exp.__doc__
    assert str(inspect.signature(tapegrad.Tensor.add)) == "(self, other, *, alpha=1)"
    assert str(inspect.signature(tapegrad.add)) == "(input, other, *, alpha=1)"
    x = tapegrad.tensor([1.0, 2.0])
    assert x.add(x, alpha=2).tolist() == tapegrad.add(x, x, alpha=2).tolist() == [3.0, 6.0]


def test_alias_has_its_own_name_and_costs_no_extra_call():
    assert tapegrad.clip.__name__ == "clip" and tapegrad.clip.__code__ is tapegrad.clamp.__code__
    assert inspect.getdoc(tapegrad.clip).startswith("Alias of ``clamp``")
    assert inspect.signature(tapegrad.clip) == inspect.signature(tapegrad.clamp)
    assert tapegrad.subtract(tapegrad.tensor([5.0]), 2, alpha=2).tolist() == [1.0]


# The functions this change made (or gave their own names): torch accepts tapegrad's parameter
# names as keywords, and both give the same values.
_UNARY = ["exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "abs", "sign", "sin", "cos", "tan", "tanh", "sigmoid",
          "relu", "reciprocal", "square", "erf", "floor", "ceil", "round", "isnan", "isinf", "isfinite",
          "negative", "logical_not"]
_BINARY = ["maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
           "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor", "divide", "true_divide",
           "subtract", "multiply", "floor_divide", "remainder"]
_ARGS = {"input": [[0.5, -1.5], [2.0, 0.25]], "other": [[1.5, -1.5], [0.5, 2.0]], "min": -1.0, "max": 1.0,
         "axis0": 0, "axis1": 1, "dim0": 0, "dim1": 1}


@pytest.mark.parametrize("name", _UNARY + _BINARY + ["clip", "swapaxes", "swapdims"])
def test_parameter_names_are_pytorchs(name):
    torch = pytest.importorskip("torch")
    fn = getattr(tapegrad, name)
    params = [p.name for p in inspect.signature(fn).parameters.values()
              if p.default is inspect.Parameter.empty or p.name in _ARGS]
    assert params[0] == "input"
    kw = {p: _ARGS[p] for p in params}
    expect = getattr(torch, name)(**{k: torch.tensor(v) if isinstance(v, list) else v for k, v in kw.items()})
    got = fn(**{k: tapegrad.tensor(v) if isinstance(v, list) else v for k, v in kw.items()})
    np.testing.assert_allclose(got.numpy(), expect.numpy(), rtol=1e-6)
    method = getattr(tapegrad.Tensor, name, None)
    if method is not None:   # the method takes the same keywords after self
        rest = {k: tapegrad.tensor(v) if isinstance(v, list) else v for k, v in kw.items() if k != "input"}
        np.testing.assert_array_equal(method(tapegrad.tensor(kw["input"]), **rest).numpy(), got.numpy())
