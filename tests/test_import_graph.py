"""The import graph of ``tapegrad/`` runs one way (Note [the tape floor] in tapegrad/tape/__init__.py).

The graph is read from the source with ``ast``, lazy imports inside functions
included, and importing ``a.b.c`` also counts as importing the package
``a.b`` (its ``__init__`` runs first). Three checks:

- no import cycle, once the named lazy up-calls (Note [up-calls]) are taken out;
- ``ops/`` and the tape layer never reach the engine (nor anything in ``autograd/``);
- the tape layer and the backends never reach a Tensor.
"""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Note [up-calls] in tapegrad/tape/__init__.py: the only edges that go up a floor. Each must stay lazy.
ALLOWED_UP_CALLS = {
    ("tapegrad._tensor", "tapegrad.autograd"): "Tensor.backward runs the engine",
    ("tapegrad._tensor", "tapegrad._creation"): "Tensor(data) and Tensor._coerce are factory calls",
    ("tapegrad.backend", "tapegrad.cuda"): "loading the CUDA backend (backend lookup by device)",
    ("tapegrad._creation", "tapegrad.cuda"): "loading the CUDA backend (factories on cuda, foreign arrays)",
    ("tapegrad.cuda.array", "tapegrad.cuda.operators"): "CudaArray's NumPy-style operators run on the kernels",
}



def _modules(root):
    mods = {}
    pkg = os.path.join(root, "tapegrad")
    for dirpath, _, files in os.walk(pkg):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
                is_pkg = rel.endswith(".__init__")
                mods[rel[:-len(".__init__")] if is_pkg else rel] = (path, is_pkg)
    return mods


def import_graph(root=ROOT):
    """{module: {imported module: set of "lazy"/"top"}} for every module under ``root/tapegrad``."""
    mods = _modules(root)
    graph = {}
    for name, (path, is_pkg) in mods.items():
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), path)
        here = name.split(".") if is_pkg else name.split(".")[:-1]
        out = graph.setdefault(name, {})

        def add(target, lazy):
            if target != name:
                out.setdefault(target, set()).add("lazy" if lazy else "top")

        def visit(node, lazy):
            for ch in ast.iter_child_nodes(node):
                if isinstance(ch, ast.Import):
                    for a in ch.names:
                        if a.name.split(".")[0] == "tapegrad":
                            add(a.name, lazy)
                elif isinstance(ch, ast.ImportFrom):
                    if ch.level:
                        base = here[:len(here) - (ch.level - 1)]
                        target = ".".join(base + ([ch.module] if ch.module else []))
                    else:
                        target = ch.module or ""
                    if target.split(".")[0] != "tapegrad":
                        continue
                    for a in ch.names:
                        sub = f"{target}.{a.name}"
                        add(sub if sub in mods else target, lazy)
                visit(ch, lazy or isinstance(ch, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))
        visit(tree, False)
    return graph


def _edges(graph, drop=()):
    """Adjacency with the implied parent-package imports (not the root package), minus ``drop``."""
    adj = {}
    for m, targets in graph.items():
        a = adj.setdefault(m, set())
        for t in targets:
            parts = t.split(".")
            for k in range(2, len(parts) + 1):
                p = ".".join(parts[:k])
                if p != m and not m.startswith(p + ".") and (m, p) not in drop:
                    a.add(p)
    return adj


def cycles(adj):
    """The strongly connected components with more than one module (iterative Tarjan)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for start in sorted(adj):
        if start in index:
            continue
        work = [(start, iter(sorted(adj.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(adj.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = set()
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(comp)
    return out


def reachable(adj, start):
    seen = {start}
    todo = [start]
    while todo:
        for w in adj.get(todo.pop(), ()):
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def _unexplained(found):
    return sorted(sorted(c) for c in found)


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_the_graph_sees_lazy_imports(graph):
    # The builder must see imports inside functions, or every check below would pass vacuously.
    assert graph["tapegrad._tensor"]["tapegrad.autograd"] == {"lazy"}
    assert "tapegrad.tape.node" in graph["tapegrad.ops.registry"]


def test_no_import_cycle_but_the_named_up_calls(graph):
    found = cycles(_edges(graph, drop=ALLOWED_UP_CALLS))
    assert _unexplained(found) == []


def test_the_up_calls_stay_lazy_and_exist(graph):
    for (a, b), why in ALLOWED_UP_CALLS.items():
        assert graph[a].get(b) == {"lazy"}, f"{a} -> {b} ({why}) must be one lazy import inside a function"


def test_without_the_allowance_the_up_calls_close_cycles(graph):
    # The allowance is what keeps the check green: counted as edges, they close cycles.
    found = cycles(_edges(graph))
    assert any({"tapegrad._tensor", "tapegrad.autograd.engine"} <= c for c in found)


@pytest.mark.parametrize("floor", ["tapegrad.ops", "tapegrad.tape"])
def test_ops_and_the_tape_never_reach_the_engine(graph, floor):
    adj = _edges(graph, drop=ALLOWED_UP_CALLS)
    for m in sorted(graph):
        if m == floor or m.startswith(floor + "."):
            bad = sorted(x for x in reachable(adj, m) if x.startswith("tapegrad.autograd"))
            assert bad == [], f"{m} reaches {bad}"


def test_the_tape_and_the_backends_never_reach_a_tensor(graph):
    adj = _edges(graph, drop=ALLOWED_UP_CALLS)
    for m in sorted(graph):
        low = m.startswith(("tapegrad.tape", "tapegrad.backend")) or (
            m.startswith("tapegrad.cuda.") and m != "tapegrad.cuda")   # tapegrad.cuda itself is the public face
        if low:
            assert "tapegrad._tensor" not in reachable(adj, m), m


def test_a_cycle_in_a_synthetic_package_is_found(tmp_path):
    # The checker itself: a two-module cycle through a lazy import is reported.
    pkg = tmp_path / "tapegrad"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from .a import x\n")
    g = import_graph(str(tmp_path))
    assert g["tapegrad.b"] == {"tapegrad.a": {"lazy"}}
    assert _unexplained(cycles(_edges(g))) == [["tapegrad.a", "tapegrad.b"]]


def test_cuda_builds_no_tensor_outside_its_public_face():
    # tapegrad/cuda/__init__.py is both the backend loader (floor 1) and the public face (floor 8):
    # only the public functions may reach the floors above the tape; the backend part returns arrays.
    public_face = {"from_dlpack"}
    above = ("tapegrad._tensor", "tapegrad._creation", "tapegrad.ops", "tapegrad.autograd")
    path = os.path.join(ROOT, "tapegrad", "cuda", "__init__.py")
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), path)
    uses = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and node.level:
                    target = "tapegrad" + ("." + node.module if node.module else "")
                    if target.startswith(above):
                        uses.append((fn.name, target))
    assert uses and {name for name, _ in uses} <= public_face, uses


def test_the_old_paths_re_export_the_tape_layer():
    # Moved modules keep their public import paths, as the same objects.
    import tapegrad.tape as tape
    from tapegrad.autograd import anomaly, export, grad_mode, graph
    from tapegrad.autograd import tape as old_tape
    assert graph.AccumulateGrad is tape.AccumulateGrad and graph.walk is tape.walk
    assert grad_mode.no_grad is tape.no_grad and grad_mode.STATE is tape.STATE
    assert anomaly.detect_anomaly is tape.detect_anomaly and anomaly.ENABLED is tape.ANOMALY
    assert old_tape.format_tape is export.format_tape and old_tape.to_dot is export.to_dot
