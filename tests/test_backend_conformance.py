"""The backend interface (tapegrad/backend/base.py) is complete, and every backend keeps it.

Four checks:
- a static scan of tapegrad/ finds every backend method called outside the
  backends, and each must be declared in base.py (and each declared method
  must still be called somewhere), so the list cannot fall behind the ops;
- every such call binds to the signature declared in base.py;
- ``CASES`` (tests/backend_cases.py), a table of calls with small awkward
  inputs, covers every declared method; each runs on the NumPy backend and is
  compared with NumPy's own result. tests/cuda/test_sim_conformance.py runs
  the same table on the CUDA backend against the NumPy backend;
- a missing method is an AttributeError for probes and a NotImplementedError
  naming the op for the op that needs it.

The scan's rule: a call ``X.name(...)`` or ``getattr(X, "name")`` is a backend
call when ``X`` is a backend expression: a name ``be``/``F``/``backend`` (a
parameter or local; ``F`` bound by an import, as in nn/modules, is not), a
``BY_TYPE[...]`` lookup, a tensor's ``._backend``, ``BY_TYPE.get(...)``, ``B.get(...)``,
``backend_for(...)``, ``_be(...)``, ``CPU_BACKEND``, or a local assigned from
one (or that one is assigned from, as in ``be = dst``). A ``getattr(be, p)``
whose ``p`` is a parameter of the enclosing function resolves to the constant
strings passed for ``p`` at that function's calls in the same module.
"""
import ast
import inspect
import pathlib

import numpy as np
import pytest

import tapegrad
from tapegrad import backend as B
from tapegrad.backend import CPU_BACKEND, NumpyBackend
from tapegrad.backend.base import ArrayBackend, BackendMissing, declared_methods

from backend_cases import CASES, case_id, check_case

ROOT = pathlib.Path(tapegrad.__file__).parent
CONVENTIONAL = frozenset({"be", "F", "backend"})
DECLARED = declared_methods()


# --------------------------------------------------------------------------- the static scan
def _is_by_type(e):
    return (isinstance(e, ast.Name) and e.id.endswith("BY_TYPE")) or \
        (isinstance(e, ast.Attribute) and e.attr.endswith("BY_TYPE"))


def _backend_expr(e, names):
    """True when expression ``e`` evaluates to a backend object (the rule in the module docstring)."""
    if isinstance(e, ast.Name):
        return e.id in names
    if isinstance(e, ast.Subscript):
        return _is_by_type(e.value)
    if isinstance(e, ast.Attribute):
        return e.attr in ("CPU_BACKEND", "_backend")
    if isinstance(e, ast.Call):
        f = e.func
        if isinstance(f, ast.Attribute):
            return (f.attr == "get" and _is_by_type(f.value)) or \
                (isinstance(f.value, ast.Name) and f.value.id == "B" and f.attr in ("get", "backend_for"))
        return isinstance(f, ast.Name) and f.id in ("_be", "backend_for", "_backend_or_raise")
    return False


class _Scan(ast.NodeVisitor):
    def __init__(self, path, tree):
        self.path, self.tree = path, tree
        imported = set()
        for n in tree.body:
            if isinstance(n, (ast.Import, ast.ImportFrom)):
                imported.update(a.asname or a.name.split(".")[0] for a in n.names)
        self.scopes = [set(CONVENTIONAL - imported)]
        self.funcs = []
        self.found = []         # (method name, "path:line")
        self.calls = []         # (method name, "path:line", ast.Call) for ``X.name(...)``
        self.dynamic = []       # (enclosing functions, name expression, "path:line")

    def visit_FunctionDef(self, node):
        names = set(self.scopes[-1])
        a = node.args
        names.update(p.arg for p in a.posonlyargs + a.args + a.kwonlyargs if p.arg in CONVENTIONAL)
        changed = True
        while changed:
            changed = False
            for n in ast.walk(node):
                if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
                    t, v = n.targets[0].id, n.value
                    if t not in names and _backend_expr(v, names):
                        names.add(t)
                        changed = True
                    if isinstance(v, ast.Name) and t in names and v.id not in names:
                        names.add(v.id)
                        changed = True
        self.scopes.append(names)
        self.funcs.append(node)
        self.generic_visit(node)
        self.funcs.pop()
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    def visit_Call(self, node):
        names = self.scopes[-1]
        f = node.func
        where = f"{self.path}:{node.lineno}"
        if isinstance(f, ast.Attribute) and _backend_expr(f.value, names):
            self.found.append((f.attr, where))
            self.calls.append((f.attr, where, node))
        elif isinstance(f, ast.Name) and f.id in ("getattr", "hasattr") and len(node.args) >= 2 \
                and _backend_expr(node.args[0], names):
            arg = node.args[1]
            if isinstance(arg, ast.Constant):
                self.found.append((arg.value, where))
            else:
                self.dynamic.append((list(self.funcs), arg, where))
        self.generic_visit(node)

    def resolve(self, funcs, arg, where):
        """The names a ``getattr(be, param)`` can take: constants passed for ``param`` in this module,
        or, for a helper only other modules call (``G.draw(generator, be, "rand", "rand", ...)``), in the package."""
        if not isinstance(arg, ast.Name):
            raise AssertionError(f"{where}: getattr on a backend with a computed name; pass a constant or a parameter")
        owner = next((f for f in reversed(funcs) if isinstance(f, ast.FunctionDef)
                      and arg.id in [a.arg for a in f.args.args]), None)
        if owner is None:
            raise AssertionError(f"{where}: cannot tell which backend method {arg.id!r} names")
        pos = [a.arg for a in owner.args.args].index(arg.id)
        out = []
        for c in ast.walk(self.tree):
            if isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id == owner.name:
                a = c.args[pos] if pos < len(c.args) else next((k.value for k in c.keywords if k.arg == arg.id), None)
                if not isinstance(a, ast.Constant):
                    raise AssertionError(f"{where}: {owner.name}() gets a non-constant {arg.id} at line {c.lineno}")
                out.append((a.value, f"{self.path}:{c.lineno}"))
        if not out:
            out = _package_calls(pathlib.Path(self.path).stem, owner.name, pos, arg.id, where)
        if not out:
            raise AssertionError(f"{where}: {owner.name}() is not called in its module, so {arg.id!r} is unknown")
        return out


def _package_calls(module, name, pos, param, where):
    """Constants passed for ``param`` (position ``pos``) in calls ``M.name(...)`` anywhere in tapegrad/,
    where ``M`` is a name the calling file imported ``module`` (the helper's own module) as. A caller that
    passes on a parameter of its own (``_draw(t, generator, name, method)``) is followed to its own
    callers in its file, one level."""
    out = []
    for p in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(p.read_text(), str(p))
        aliases = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                   for a in n.names if a.name == module}
        funcs = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)]
        for c in ast.walk(tree):
            if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == name \
                    and isinstance(c.func.value, ast.Name) and c.func.value.id in aliases:
                a = c.args[pos] if pos < len(c.args) else next((k.value for k in c.keywords if k.arg == param), None)
                rel = f"{p.relative_to(ROOT.parent)}"
                if isinstance(a, ast.Constant):
                    out.append((a.value, f"{rel}:{c.lineno}"))
                    continue
                owner = next((f for f in funcs if isinstance(a, ast.Name) and f.lineno <= c.lineno <= f.end_lineno
                              and a.id in [x.arg for x in f.args.args]), None)
                if owner is None:
                    raise AssertionError(f"{where}: {name}() gets a non-constant {param} at {rel}:{c.lineno}")
                k = [x.arg for x in owner.args.args].index(a.id)
                for cc in ast.walk(tree):
                    if isinstance(cc, ast.Call) and isinstance(cc.func, ast.Name) and cc.func.id == owner.name:
                        v = cc.args[k] if k < len(cc.args) else None
                        if not isinstance(v, ast.Constant):
                            raise AssertionError(f"{where}: {owner.name}() gets a non-constant {a.id} at "
                                                 f"{rel}:{cc.lineno}")
                        out.append((v.value, f"{rel}:{cc.lineno}"))
    return out


def scan_source(source, path="<src>", calls=None):
    """Backend method names called in ``source``: {name: ["path:line", ...]}; ``calls`` collects the call nodes."""
    tree = ast.parse(source, path)
    s = _Scan(path, tree)
    s.visit(tree)
    if calls is not None:
        calls.extend(s.calls)
    items = list(s.found)
    for funcs, arg, where in s.dynamic:
        items += s.resolve(funcs, arg, where)
    out = {}
    for name, where in items:
        out.setdefault(name, []).append(where)
    return out


def scan_package(calls=None):
    """Backend calls in every module of tapegrad/ outside the backends themselves (backend/, cuda/)."""
    out = {}
    for p in sorted(ROOT.rglob("*.py")):
        rel = p.relative_to(ROOT.parent)
        if rel.parts[1] in ("backend", "cuda"):
            continue
        for name, wheres in scan_source(p.read_text(), str(rel), calls).items():
            out.setdefault(name, []).extend(wheres)
    return out


def signature_mismatches(calls):
    """The calls whose arguments do not bind to the declared signature: ["path:line: error: source", ...]."""
    out = []
    for name, where, node in calls:
        d = vars(ArrayBackend).get(name)
        fn = getattr(d, "fn", d)
        if not callable(fn) or any(isinstance(a, ast.Starred) for a in node.args) or \
                any(k.arg is None for k in node.keywords):
            continue                    # undeclared (another test) or *args: nothing to bind statically
        try:
            inspect.signature(fn).bind(None, *node.args, **{k.arg: k.value for k in node.keywords})
        except TypeError as e:
            out.append(f"{where}: {e}: {ast.unparse(node)[:80]}")
    return out


CALLS = []
CALLED = scan_package(CALLS)


def test_every_backend_call_is_declared():
    undeclared = {n: w[:3] for n, w in CALLED.items() if n not in DECLARED}
    assert not undeclared, f"backend methods called but not declared in tapegrad/backend/base.py: {undeclared}"


def test_every_call_binds_to_the_declared_signature():
    bad = signature_mismatches(CALLS)
    assert not bad, "backend calls that do not match base.py's signatures:\n" + "\n".join(bad)
    wrong = []
    scan_source("def f(be, x):\n    return be.zeros((2,)), be.sum(x, axis=0, out=x), be.exp(x, x)\n", calls=wrong)
    assert [m.split(": ")[0] for m in signature_mismatches(wrong)] == ["<src>:2"] * 3


def test_every_declared_method_is_called():
    unused = sorted(set(DECLARED) - set(CALLED))
    assert not unused, f"declared in tapegrad/backend/base.py but called nowhere in tapegrad/: {unused}"


def undeclared_methods(backend_cls):
    """Methods a backend class defines outside the interface: no op can call them (the scan), so dead code."""
    kinds = (staticmethod, classmethod, property, type(undeclared_methods))
    return sorted(n for n, v in vars(backend_cls).items()
                  if not n.startswith("_") and isinstance(v, kinds) and n not in DECLARED)


def test_the_numpy_backend_defines_only_declared_methods():
    assert undeclared_methods(NumpyBackend) == []


def test_scan_rule():
    src = '''
from .. import backend as B
from .. import functional as F          # nn's F is not a backend

def fwd(be, x):
    return be.exp(x) + B.BY_TYPE[type(x)].log(x) + B.CPU_BACKEND.sqrt(x) + F.tanh(x)

def vjp(F, g):
    return F.sign(g)

def move(t, dst):
    be = B.BY_TYPE.get(type(t), None)
    if dst is not be:
        be = dst
    src = B.get("cpu")
    return dst.from_numpy(src.to_numpy(t)), be.astype(t, None)

def probe(be):
    return getattr(be, "sgd_update_", None), hasattr(be, "ce_rows")

def _unary(name, fwd_name):
    def f(be, x):
        return getattr(be, fwd_name)(x)
    return f

exp = _unary("exp", "floor")
cos = _unary("cos", fwd_name="ceil")

def not_a_backend(x, F=None):
    y = x.reshape(3)
    return np.sum(y)
'''
    found = scan_source(src)
    assert set(found) == {"exp", "log", "sqrt", "sign", "from_numpy", "to_numpy", "astype", "sgd_update_",
                          "ce_rows", "floor", "ceil"}, sorted(found)
    with pytest.raises(AssertionError, match="non-constant"):
        scan_source("def g(n):\n    def f(be, x):\n        return getattr(be, n)(x)\n    return f\ng(k)\n")
    with pytest.raises(AssertionError, match="computed name"):
        scan_source("def f(be, x):\n    return getattr(be, 'e' + 'xp')(x)\n")


def test_scan_sees_the_known_call_sites():
    # one representative per receiver kind, so a scan that silently finds nothing fails
    for name, site in [("ce_rows", "tapegrad/ops/nn.py"), ("sgd_update_", "tapegrad/optim/sgd.py"),
                       ("exp", "tapegrad/ops/unary.py"), ("less_equal", "tapegrad/ops/comparison.py"),
                       ("to_numpy", "tapegrad/_tensor_convert.py"), ("setitem", "tapegrad/nn/_state.py"),
                       ("seed", "tapegrad/_generator.py"), ("rand", "tapegrad/_creation.py")]:
        assert any(w.startswith(site) for w in CALLED.get(name, ())), (name, site, CALLED.get(name))


def test_declarations_have_contracts():
    for name, kind in DECLARED.items():
        v = vars(ArrayBackend)[name]
        assert (v.__doc__ or "").strip(), f"{name} has no one-line contract"
        if kind != "default":
            assert v.signature.startswith("(") and "self" not in v.signature, (name, v.signature)


# --------------------------------------------------------------------------- the table of calls
def test_the_table_covers_every_declared_method():
    tabled = {c.method for c in CASES}
    assert not set(DECLARED) - tabled, f"declared methods with no case: {sorted(set(DECLARED) - tabled)}"
    assert not tabled - set(DECLARED), f"cases of undeclared methods: {sorted(tabled - set(DECLARED))}"
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_numpy_backend(case):
    check_case(CPU_BACKEND, case)


# --------------------------------------------------------------------------- missing methods
class _Partial(NumpyBackend):
    """The NumPy backend without ``erf`` and ``sgd_update_``: how a new backend looks half-way."""
    erf = vars(ArrayBackend)["erf"]
    sgd_update_ = vars(ArrayBackend)["sgd_update_"]


class _PartialArray(np.ndarray):
    pass


def test_missing_method_is_an_attribute_error_and_a_not_implemented_error():
    be = _Partial()
    assert getattr(be, "erf", None) is None and not hasattr(be, "sgd_update_")
    with pytest.raises(BackendMissing, match="CPU backend .*_Partial.* does not implement 'erf'") as e:
        be.erf
    assert isinstance(e.value, AttributeError) and isinstance(e.value, NotImplementedError)
    assert isinstance(vars(ArrayBackend)["erf"], object) and ArrayBackend.erf.kind == "required"


def test_an_op_needing_a_missing_method_raises_not_implemented_naming_the_op(monkeypatch):
    be = _Partial()
    be.array_types = (_PartialArray,)
    be.array_type = _PartialArray
    monkeypatch.setitem(B.BY_TYPE, _PartialArray, be)
    x = tapegrad.Tensor._make(np.arange(3.0).view(_PartialArray), None)
    with pytest.raises(NotImplementedError, match=r"^erf: .*does not implement 'erf'"):
        tapegrad.erf(x)
    np.testing.assert_array_equal(np.asarray(tapegrad.exp(x)._data), np.exp(np.arange(3.0)))   # the rest works
