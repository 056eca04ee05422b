"""The mutation-testing script's own logic (tools/mutation.py): finding, applying and judging mutants.

Everything runs on tiny temporary files; no mutation run over tapegrad happens here.
"""
import importlib.util
import json
import os
import sys
import types

import pytest

_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools", "mutation.py")
_spec = importlib.util.spec_from_file_location("tapegrad_mutation_tool", _PATH)
mut = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = mut       # dataclasses look the module up by name
_spec.loader.exec_module(mut)

SRC = '''"""Docstring 1 + 2 stays."""


def f(a, b, v, axis=None, keepdim=False):
    c = a + b * 2
    if a < b and v is not None:
        v[0] += 1
    d = -a
    e = g(a, b)
    s = be.sum(a, axis=axis, keepdims=keepdim)
    if not c:
        raise ValueError(f"bad {a + 1} shape " + str(b - 1))
    msg = "x" + "y"
    return c == d or 0.5 in e, s, msg


def h(x: int = 3) -> int:
    return x  # no mutate: 7 - 1
'''


def _mutants(text=SRC, path="pkg/mod.py"):
    return mut.find_mutants(path, text)


def _changed(m, text=SRC):
    """The (old line, new line) pairs that differ."""
    new = mut.apply_edits(text, m.edits)
    return [(a.strip(), b.strip()) for a, b in zip(text.splitlines(), new.splitlines()) if a != b]


def test_one_token_faults_of_each_kind():
    got = {(m.kind, m.description, _changed(m)[0][1]) for m in _mutants()}
    expected = {
        ("binop", "'+' -> '-'", "c = a - b * 2"),
        ("binop", "'*' -> '/'", "c = a + b / 2"),
        ("const", "'2' -> '3'", "c = a + b * 3"),
        ("compare", "'<' -> '<='", "if a <= b and v is not None:"),
        ("compare", "'is not' -> 'is'", "if a < b and v is None:"),
        ("boolop", "'and' -> 'or'", "if a < b or v is not None:"),
        ("augop", "'+=' -> '-='", "v[0] -= 1"),
        ("const", "'0' -> '1'", "v[1] += 1"),
        ("const", "'1' -> '0'", "v[0] += 0"),
        ("drop-stmt", "drop `v[0] += 1`", "pass"),
        ("unary", "drop '-'", "d = a"),
        ("swap-args", "g(a, b) -> g(b, a)", "e = g(b, a)"),
        ("keyword", "axis=axis -> axis=None", "s = be.sum(a, axis=None, keepdims=keepdim)"),
        ("keyword", "keepdims=keepdim -> keepdims=not (keepdim)", "s = be.sum(a, axis=axis, keepdims=not (keepdim))"),
        ("unary", "drop 'not'", "if c:"),
        ("compare", "'==' -> '!='", "return c != d or 0.5 in e, s, msg"),
        ("const", "'0.5' -> '1.5'", "return c == d or 1.5 in e, s, msg"),
        ("compare", "'in' -> 'not in'", "return c == d or 0.5 not in e, s, msg"),
        ("boolop", "'or' -> 'and'", "return c == d and 0.5 in e, s, msg"),
        ("const", "'False' -> 'True'", "def f(a, b, v, axis=None, keepdim=True):"),
        ("const", "'3' -> '4'", "def h(x: int = 4) -> int:"),
    }
    assert expected <= got, expected - got


def test_messages_strings_annotations_and_marked_lines_are_left_alone():
    ms = _mutants()
    for m in ms:
        (old, new), = _changed(m)           # exactly one line changes
        assert not old.startswith(("raise", '"""')), m
        assert "msg =" not in old, m         # string concatenation
        assert "no mutate" not in old, m
    # the annotation `int` and the local definition `c = ...` are never dropped
    assert not any(m.kind == "drop-stmt" and "c = " in m.description for m in ms)
    # the only mutant of `-> int` / `x: int` is the default value
    assert [m.description for m in ms if m.line == 17] == ["'3' -> '4'"]


def test_every_mutant_compiles_and_differs():
    for m in _mutants():
        new = mut.apply_edits(SRC, m.edits)
        assert new != SRC
        compile(new, "mod.py", "exec")


def test_parenthesised_operands_and_multiline_statements():
    text = "x = (a) * (b)\ny = not (p or q)\nz = -(a + b)\nfoo(\n    1,\n)\n"
    by = {m.description: mut.apply_edits(text, m.edits) for m in _mutants(text)}
    assert by["'*' -> '/'"].splitlines()[0] == "x = (a) / (b)"
    assert by["drop 'not'"].splitlines()[1] == "y = (p or q)"
    assert by["drop '-'"].splitlines()[2] == "z = (a + b)"
    assert by["drop `foo(` ..."].splitlines()[3:] == ["pass"]


def test_ids_are_stable_when_other_lines_move_and_unique():
    ms = _mutants()
    assert len({m.id for m in ms}) == len(ms)
    assert all(m.id.startswith("mod-") for m in ms)
    shifted = _mutants("import os\n\n" + SRC)
    assert {m.id for m in ms} <= {m.id for m in shifted}
    # a change on the mutated line gives new ids there only
    edited = _mutants(SRC.replace("d = -a", "d = -a * 1"))
    assert {m.id for m in ms if m.line != 8} <= {m.id for m in edited}
    assert not {m.id for m in ms if m.line == 8} & {m.id for m in edited}


def test_sample_is_deterministic_and_sorted():
    ms = _mutants()
    a, b = mut.sample(ms, 5, seed=3), mut.sample(ms, 5, seed=3)
    assert [m.id for m in a] == [m.id for m in b]
    assert len(a) == 5 and [m.line for m in a] == sorted(m.line for m in a)
    assert {m.id for m in mut.sample(ms, 5, seed=4)} != {m.id for m in a}
    assert len(mut.sample(ms, 10_000, seed=0)) == len(ms)


def test_tests_for_maps_files_and_falls_back_to_the_suite():
    assert mut.tests_for("tapegrad/optim/adam.py") == ["tapegrad/optim/adam.py", "tests/optim"]
    assert mut.tests_for("tapegrad/utils/serialization/_source.py")[1:3] == ["tests/serialization", "tests/test_serialization.py"]
    assert mut.tests_for("tapegrad/_repr.py") is None
    # the most telling file first, then the rest of its folder, each file once
    engine = mut.tests_for("tapegrad/autograd/engine.py")
    assert engine[:2] == ["tapegrad/autograd/engine.py", "tests/autograd/test_backward.py"]
    assert "tests/autograd/test_inplace.py" in engine and engine[-1] == "tests/ops/test_op_grads.py"
    unary = mut.tests_for("tapegrad/ops/unary.py")
    assert unary[1:3] == ["tests/ops/test_op_grads.py", "tests/ops/test_op_forward.py"]
    assert "tests/ops/test_promotion.py" in unary and len(unary) == len(set(unary))
    for pat, tests in mut.TEST_MAP:
        for t in tests:
            assert os.path.exists(os.path.join(mut.ROOT, t.split("::")[0])), (pat, t)


def test_cuda_files_need_the_cuda_flag(tmp_path):
    for rel in ("tapegrad/cuda/kernels/a.py", "tapegrad/ops/b.py"):
        os.makedirs(tmp_path / os.path.dirname(rel), exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    assert mut.target_files(str(tmp_path), ["tapegrad"]) == ["tapegrad/ops/b.py"]
    assert mut.target_files(str(tmp_path), ["tapegrad/**/*.py"], cuda=True) == [
        "tapegrad/cuda/kernels/a.py", "tapegrad/ops/b.py"]
    assert "--deselect" in mut.pytest_cmd("python", None, cuda=False)
    assert "--deselect" not in mut.pytest_cmd("python", None, cuda=True)


def test_kill_rate_leaves_out_equivalent_and_errored(tmp_path):
    ms = [mut.Mutant(str(i), "m.py", 1, "const", "", []) for i in range(6)]
    for m, s in zip(ms, ["killed", "timeout", "survived", "equivalent", "error", "killed"]):
        m.status = s
    assert mut.kill_rate(ms) == (3, 4)
    f = tmp_path / "eq.txt"
    f.write_text("# judged by hand\nmod-1234abcd  # x + 0\n\nmod-00000000\n")
    assert mut.read_equivalent(str(f)) == {"mod-1234abcd", "mod-00000000"}
    assert [mut.classify(rc) for rc in (0, 1, 2, 3, 4, 5, "timeout")] == [
        "survived", "killed", "killed", "killed", "error", "error", "timeout"]


def test_reports_the_first_failure_and_the_closing_line():
    out = ("....F\n=== FAILURES ===\n___ test_b ___\nassert 1 == 2\n=== short test summary info ===\n"
           "FAILED tests/test_x.py::test_b - assert 1 == 2\n1 failed, 4 passed in 0.52s\n")
    assert mut.first_failure(out) == "FAILED tests/test_x.py::test_b - assert 1 == 2"
    assert mut.pytest_summary(out) == "1 failed, 4 passed in 0.52s"
    assert mut.pytest_summary("......\n6 passed, 1 deselected in 3.10s\n") == "6 passed, 1 deselected in 3.10s"
    assert mut.first_failure("Traceback ...\nImportError: x\n") == "ImportError: x"
    # under setup.cfg's extra -q only the progress count is printed
    assert mut.pytest_summary("." * 70 + " [ 70/120]\n" + "." * 50 + " [120/120]\n") == "120/120 tests ran"


def _tiny_repo(tmp_path):
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref\n")
    (root / "pkg" / "mod.py").write_text(
        "def add(a, b):\n    return a + b\n\n\ndef scale(a):\n    return a * 1\n\n\n"
        "def spin(n):\n    i = 0\n    while i < n:\n        i += 1\n    return i\n")
    # The "suite": add is checked, scale is not (its mutants survive), spin(3) hangs if `+=` flips.
    (root / "check.py").write_text(
        "import sys\nsys.path.insert(0, '.')\nfrom pkg.mod import add, spin\n"
        "sys.exit(0 if add(2, 3) == 5 and spin(3) == 3 else 1)\n")
    return root


def test_workspace_patches_a_copy_and_restores_it_exactly(tmp_path):
    root = _tiny_repo(tmp_path)
    src = (root / "pkg" / "mod.py").read_text()
    ws = mut.Workspace(str(root))
    try:
        assert not os.path.exists(os.path.join(ws.copy, ".git"))
        copy = os.path.join(ws.copy, "pkg", "mod.py")
        before = os.stat(copy)
        m = [m for m in mut.find_mutants("pkg/mod.py", src) if m.description == "'+' -> '-'"][0]
        restore = ws.apply(m)
        with open(copy) as f:
            assert "return a - b" in f.read()
        assert os.stat(copy).st_mtime != before.st_mtime          # no stale .pyc / numba cache
        assert (root / "pkg" / "mod.py").read_text() == src         # the working tree is untouched
        restore()
        with open(copy) as f:
            assert f.read() == src
        assert os.stat(copy).st_mtime_ns == before.st_mtime_ns
    finally:
        ws.close()
    assert not os.path.exists(ws.dir)


def test_run_mutants_judges_killed_survived_and_timeout(tmp_path):
    root = _tiny_repo(tmp_path)
    src = (root / "pkg" / "mod.py").read_text()
    ms = {(m.line, m.description): m for m in mut.find_mutants("pkg/mod.py", src)}
    chosen = [ms[2, "'+' -> '-'"], ms[6, "'1' -> '0'"], ms[12, "'+=' -> '-='"], ms[6, "'*' -> '/'"]]
    chosen[3].status = "equivalent"
    ws = mut.Workspace(str(root))
    lines = []
    try:
        mut.run_mutants(ws, chosen, lambda m: ([sys.executable, "check.py"], dict(os.environ), 3), log=lines.append)
    finally:
        ws.close()
    assert [m.status for m in chosen] == ["killed", "survived", "timeout", "equivalent"]
    # `a * 1` -> `a * 0` survives: it is printed with its diff for a human to judge
    assert "-    return a * 1\n+    return a * 0" in chosen[1].diff
    assert any("survived" in ln for ln in lines) and any(ln.startswith("---") for ln in lines)
    assert chosen[2].seconds >= 3
    assert (root / "pkg" / "mod.py").read_text() == src
    json.dumps([mut.asdict(m) for m in chosen])     # the --json record serializes


def test_list_runs_without_touching_anything(capsys):
    assert mut.main(["--list", "--files", "tapegrad/optim/sgd.py"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith(f"{len(out) - 1} mutants in 1 files")
    assert all(ln.startswith("sgd-") for ln in out[:-1])
    with pytest.raises(SystemExit):
        mut.main(["--list", "--files", "tapegrad/cuda/*.py"])


def test_docstring_examples_run():
    import doctest
    mutants = sys.modules["mutants"]            # tools/mutants.py, imported by tools/mutation.py
    assert mutants.__file__ == os.path.join(os.path.dirname(_PATH), "mutants.py")
    result = doctest.testmod(mutants)
    assert result.attempted >= 2 and result.failed == 0


def test_tests_for_expands_folders_in_the_given_root(tmp_path):
    # the run expands selections in its copy, so a test file added to the working tree meanwhile is not named
    for rel in ("tests/ops/test_op_grads.py", "tests/ops/test_op_forward.py", "tests/ops/test_a.py",
                "tests/autograd/test_b.py"):
        os.makedirs(tmp_path / os.path.dirname(rel), exist_ok=True)
        (tmp_path / rel).write_text("")
    got = mut.tests_for("tapegrad/ops/unary.py", root=str(tmp_path))
    assert got == ["tapegrad/ops/unary.py", "tests/ops/test_op_grads.py", "tests/ops/test_op_forward.py",
                   "tests/ops/test_a.py", "tests/autograd"]      # a folder no listed file overlaps stays a folder


def test_baselines_expand_selections_in_the_copy(tmp_path, monkeypatch):
    # a test file present in the working tree but not in the run's copy must not be named to pytest there
    copy = tmp_path / "repo"
    for rel in ("tests/ops/test_op_grads.py", "tests/ops/test_op_forward.py", "tests/ops/test_a.py"):
        os.makedirs(copy / os.path.dirname(rel), exist_ok=True)
        (copy / rel).write_text("")
    ws = types.SimpleNamespace(copy=str(copy))
    monkeypatch.setattr(mut.subprocess, "run", lambda *a, **k: types.SimpleNamespace(stdout=str(copy), stderr=""))
    seen = []
    monkeypatch.setattr(mut, "run_baseline", lambda ws, tests, args: seen.append(tests) or 1.0)
    m = mut.Mutant("unary-0", "tapegrad/ops/unary.py", 1, "const", "", [])
    mut.run_baselines(ws, [m], types.SimpleNamespace(python="python"))
    assert seen == [["tapegrad/ops/unary.py", "tests/ops/test_op_grads.py", "tests/ops/test_op_forward.py",
                     "tests/ops/test_a.py", "tests/autograd"]]
