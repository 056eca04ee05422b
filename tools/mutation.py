#!/usr/bin/env python
"""Mutation testing for tapegrad: plant one small fault at a time and check the tests notice.

Usage (from the repository root; it is slow, so it is kept out of CI)::

    python tools/mutation.py --list                                 # every candidate mutant, no run
    python tools/mutation.py --sample 8 --seed 0 \\
        --files tapegrad/autograd/engine.py tapegrad/ops/unary.py  # 8 random mutants, targeted tests
    python tools/mutation.py --sample 100 --seed 1 --full --json mut.json --equivalent equiv.txt

How it works:
- Mutants are one-token faults found with ``ast`` (and ``tokenize`` for operator positions):
  arithmetic swaps (+ -, * /, // /, % //, ** *, @ *, & |, and the augmented forms), comparison flips
  (< <=, > >=, == !=, is / is not, in / not in), ``and``/``or``, constants (0 <-> 1, n -> n+1,
  True <-> False), dropping a unary ``-`` or ``not``, swapping the first two positional arguments
  of a call, dropping a statement with a side effect (``v[0] += 1``, ``self.x = ...``, a bare call)
  and keyword values (``axis=a`` -> ``axis=None``, ``keepdims=k`` -> ``keepdims=not (k)``).
  Strings, f-strings, ``raise`` statements, annotations and lines marked ``# no mutate`` are left
  alone: faults there only change messages.
- Each mutant has a stable id (file stem + hash of its line's text and the change), so ids survive
  edits elsewhere in the file; ``--equivalent FILE`` lists ids judged equivalent (one per line,
  ``#`` comments allowed), which are reported but left out of the kill rate.
- The repository is copied once to a temporary directory; each mutant patches one file of the copy,
  runs the tests there, and the original text and timestamps are put back. The working tree is
  never written. Every mutant gets a distinct file mtime, so neither Python's ``.pyc`` nor numba's
  on-disk cache (``cache=True`` kernels) can serve code compiled from another version of the file.
- Tests are chosen per file (``TEST_MAP``; the mutated module's doctests always run too) with
  ``pytest -x -q -p no:cacheprovider`` and ``HYPOTHESIS_PROFILE=ci`` (derandomized). A mutant that
  outlives its targeted tests is "survived (targeted)"; with ``--full`` it is re-run against the whole
  suite and counts as survived only if that passes too. A run past ``--timeout`` is killed and counts
  as killed, reported as ``timeout``. The selections are first run on the unmutated copy (baseline):
  a red baseline stops the run, since every mutant would look killed.
- The CUDA simulator suite (``tests/test_cuda_simulator.py``, ``tests/cuda``) is only run with
  ``--cuda``; without it ``tapegrad/cuda`` files are not mutated.

Why not mutmut: mutmut 3 rewrites every function of a copied tree into a trampoline that dispatches
to mutated copies; that fights this package's decorator registry (``@op`` forward/VJP pairs),
numba-compiled functions, and doctests, and it selects tests from its own coverage run rather than
from a map we can read. A few hundred lines of ``ast`` give one-token faults with readable diffs.
"""
import argparse
import ast
import difflib
import fnmatch
import glob
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tokenize
from dataclasses import dataclass, asdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The core files (glob patterns, relative to the repository root).
DEFAULT_TARGETS = [
    "tapegrad/autograd/engine.py",
    "tapegrad/ops/*.py",
    "tapegrad/_dtype.py",
    "tapegrad/optim/*.py",
    "tapegrad/utils/serialization*.py",
    "tapegrad/nn/*.py",
    "tapegrad/nn/modules/*.py",
]

# Source file pattern -> the tests that exercise it; the first match wins. Unmatched files run
# the whole suite. The mutated module itself is added so its doctests run.
TEST_MAP = [
    ("tapegrad/autograd/engine.py", ["tests/autograd", "tests/ops/test_op_grads.py"]),
    ("tapegrad/autograd/*", ["tests/autograd"]),
    ("tapegrad/ops/promotion.py", ["tests/ops/test_promotion.py", "tests/ops/test_op_forward.py"]),
    ("tapegrad/_dtype.py", ["tests/ops/test_promotion.py", "tests/ops/test_op_forward.py"]),
    ("tapegrad/ops/registry.py", ["tests/ops", "tests/autograd"]),
    ("tapegrad/ops/*", ["tests/ops"]),
    ("tapegrad/optim/*", ["tests/optim"]),
    ("tapegrad/utils/serialization*", ["tests/test_serialization.py"]),
    ("tapegrad/utils/data.py", ["tests/test_data.py"]),
    ("tapegrad/nn/*", ["tests/nn"]),
    ("tapegrad/cuda/*", ["tests/cuda"]),
]
CUDA_PATTERNS = ("tapegrad/cuda/*",)
CUDA_SIM_TEST = "tests/test_cuda_simulator.py::test_cuda_suite_under_simulator"
PYTEST_ARGS = ["-x", "-q", "-p", "no:cacheprovider"]
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", ".hypothesis", "build", "dist", "*.egg-info", "runs",
                                     ".whl", ".gl", ".pytest_cache", "mutants")

BINOPS = {ast.Add: "-", ast.Sub: "+", ast.Mult: "/", ast.Div: "*", ast.FloorDiv: "/", ast.Mod: "//",
          ast.Pow: "*", ast.MatMult: "*", ast.BitAnd: "|", ast.BitOr: "&"}
AUGOPS = {ast.Add: "-=", ast.Sub: "+=", ast.Mult: "/=", ast.Div: "*=", ast.BitAnd: "|=", ast.BitOr: "&="}
CMPOPS = {ast.Lt: "<=", ast.LtE: "<", ast.Gt: ">=", ast.GtE: ">", ast.Eq: "!=", ast.NotEq: "==",
          ast.Is: "is not", ast.IsNot: "is", ast.In: "not in", ast.NotIn: "in"}
# Swapping these calls' arguments fails on every call (apply(opdef, ...) included): no test needs to look.
NO_SWAP_CALLS = {"isinstance", "issubclass", "getattr", "setattr", "hasattr", "delattr", "print", "super",
                 "apply"}
NO_MUTATE_MARK = "no mutate"
# Keyword arguments that only change messages.
NO_MUTATE_KEYWORDS = {"stacklevel"}


@dataclass
class Mutant:
    """One fault: text edits ``(start, end, new)`` (character offsets) on one file."""
    id: str
    path: str                  # relative to the repository root, '/'-separated
    line: int
    kind: str
    description: str
    edits: list
    status: str = "pending"    # killed | timeout | survived | equivalent | error
    seconds: float = 0.0
    suite: str = ""            # targeted | full
    detail: str = ""           # the first failing test, or why it errored
    diff: str = ""


# ---------------------------------------------------------------- finding mutants


class _Source:
    """A file's text with conversions between ast/tokenize positions and character offsets."""

    def __init__(self, text):
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for ln in self.lines:
            self.starts.append(self.starts[-1] + len(ln))
        self.all_tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline)
                           if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT,
                                             tokenize.DEDENT, tokenize.ENDMARKER)]
        self.tokens = self.all_tokens

    def off(self, line, col):
        """Offset of (1-based line, character column)."""
        return self.starts[line - 1] + col

    def node_span(self, node):
        """Character offsets of an ast node (ast columns count UTF-8 bytes)."""
        def char_col(line, bcol):
            return len(self.lines[line - 1].encode()[:bcol].decode(errors="replace"))
        return (self.off(node.lineno, char_col(node.lineno, node.col_offset)),
                self.off(node.end_lineno, char_col(node.end_lineno, node.end_col_offset)))

    def seg(self, node):
        a, b = self.node_span(node)
        return self.text[a:b]

    def tokens_between(self, a, b):
        """Tokens fully inside offsets [a, b), without brackets."""
        out = []
        for t in self.tokens:
            s, e = self.off(*t.start), self.off(*t.end)
            if s >= a and e <= b and t.string not in "()":
                out.append((s, e, t.string))
        return out


def _is_str(node):
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)))


def _skipped_nodes(tree):
    """Ids of nodes whose subtrees are never mutated: raise, f-strings, annotations, docstrings."""
    skip = set()

    def mark(n):
        if n is not None:
            for sub in ast.walk(n):
                skip.add(id(sub))

    for n in ast.walk(tree):
        if isinstance(n, (ast.Raise, ast.JoinedStr, ast.Assert)):
            mark(n)
        elif isinstance(n, ast.keyword) and n.arg in NO_MUTATE_KEYWORDS:
            mark(n)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mark(n.returns)
            for a in n.args.posonlyargs + n.args.args + n.args.kwonlyargs + [n.args.vararg, n.args.kwarg]:
                if a is not None:
                    mark(a.annotation)
        elif isinstance(n, ast.AnnAssign):
            mark(n.annotation)
        elif isinstance(n, ast.If) and isinstance(n.test, ast.Compare) and "__name__" in ast.dump(n.test):
            mark(n)
    return skip


def _const_change(v):
    if isinstance(v, bool):
        return repr(not v)
    if isinstance(v, int):
        return "1" if v == 0 else "0" if v == 1 else str(v + 1)
    if isinstance(v, float):
        return "1.0" if v == 0.0 else "0.0" if v == 1.0 else repr(v + 1)
    return None


def find_mutants(path, text):
    """All mutants of one file (``path`` relative to the root), in source order.

    Example:
        >>> [m.description for m in find_mutants("m.py", "y = a + b\\n")]
        ["'+' -> '-'"]
    """
    src = _Source(text)
    tree = ast.parse(text)
    skip = _skipped_nodes(tree)
    found = []                     # (offset, kind, description, edits)

    def add(kind, desc, edits):
        found.append((edits[0][0], kind, desc, edits))

    def op_token(a, b, accept):
        toks = [t for t in src.tokens_between(a, b) if t[2] in accept or t[2] in ("is", "not", "in")]
        if not toks:
            return None
        return toks[0][0], toks[-1][1], " ".join(t[2] for t in toks)

    for n in ast.walk(tree):
        if id(n) in skip:
            continue
        if isinstance(n, ast.BinOp) and type(n.op) in BINOPS and not (_is_str(n.left) or _is_str(n.right)):
            tok = op_token(src.node_span(n.left)[1], src.node_span(n.right)[0], {"+", "-", "*", "/", "//", "%",
                                                                                 "**", "@", "&", "|"})
            if tok:
                add("binop", f"{tok[2]!r} -> {BINOPS[type(n.op)]!r}", [(tok[0], tok[1], BINOPS[type(n.op)])])
        elif isinstance(n, ast.AugAssign) and type(n.op) in AUGOPS and not isinstance(
                n.value, (ast.List, ast.Tuple, ast.ListComp)) and not _is_str(n.value):
            tok = op_token(src.node_span(n.target)[1], src.node_span(n.value)[0], {"+=", "-=", "*=", "/=", "&=", "|="})
            if tok:
                add("augop", f"{tok[2]!r} -> {AUGOPS[type(n.op)]!r}", [(tok[0], tok[1], AUGOPS[type(n.op)])])
        elif isinstance(n, ast.Compare):
            operands = [n.left] + n.comparators
            for i, cop in enumerate(n.ops):
                tok = op_token(src.node_span(operands[i])[1], src.node_span(operands[i + 1])[0],
                               {"<", "<=", ">", ">=", "==", "!="})
                if tok and type(cop) in CMPOPS:
                    add("compare", f"{tok[2]!r} -> {CMPOPS[type(cop)]!r}", [(tok[0], tok[1], CMPOPS[type(cop)])])
        elif isinstance(n, ast.BoolOp):
            new = "or" if isinstance(n.op, ast.And) else "and"
            for left, right in zip(n.values, n.values[1:]):
                tok = op_token(src.node_span(left)[1], src.node_span(right)[0], {"and", "or"})
                if tok:
                    add("boolop", f"{tok[2]!r} -> {new!r}", [(tok[0], tok[1], new)])
        elif isinstance(n, ast.Constant) and not isinstance(n.value, (str, bytes)):
            new = _const_change(n.value)
            if new is not None:
                a, b = src.node_span(n)
                add("const", f"{src.text[a:b]!r} -> {new!r}", [(a, b, new)])
        elif isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.Not)):
            a = src.node_span(n)[0]
            nxt = [t for t in src.all_tokens if src.off(*t.start) >= a][:2]
            if len(nxt) == 2 and nxt[0].string in ("-", "not"):
                add("unary", f"drop {nxt[0].string!r}", [(a, src.off(*nxt[1].start), "")])
        if isinstance(n, ast.Call):
            fname = n.func.id if isinstance(n.func, ast.Name) else n.func.attr if isinstance(
                n.func, ast.Attribute) else ""
            args = n.args
            if (len(args) >= 2 and fname not in NO_SWAP_CALLS and not any(isinstance(x, ast.Starred) for x in args[:2])
                    and not (_is_str(args[0]) or _is_str(args[1]))):
                (a0, b0), (a1, b1) = src.node_span(args[0]), src.node_span(args[1])
                t0, t1 = src.text[a0:b0], src.text[a1:b1]
                more = ", ..." if len(args) > 2 or n.keywords else ""
                if t0 != t1:
                    s0, s1 = _short(t0, 40), _short(t1, 40)
                    add("swap-args", f"{fname}({s0}, {s1}{more}) -> {fname}({s1}, {s0}{more})",
                        [(a0, b0, t1), (a1, b1, t0)])
            for kw in n.keywords:
                if kw.arg in ("axis", "dim") and not (isinstance(kw.value, ast.Constant) and kw.value.value is None):
                    a, b = src.node_span(kw.value)
                    add("keyword", f"{kw.arg}={_short(src.text[a:b])} -> {kw.arg}=None", [(a, b, "None")])
                elif kw.arg in ("keepdims", "keepdim") and not isinstance(kw.value, ast.Constant):
                    a, b = src.node_span(kw.value)
                    add("keyword", f"{kw.arg}={_short(src.text[a:b])} -> {kw.arg}=not ({_short(src.text[a:b])})",
                        [(a, b, f"not ({src.text[a:b]})")])
        if isinstance(n, (ast.AugAssign, ast.Assign, ast.AnnAssign, ast.Expr)) and _droppable(n):
            a, b = src.node_span(n)
            first = src.text[a:b].splitlines()[0]
            add("drop-stmt", f"drop `{_short(first)}`" + (" ..." if "\n" in src.text[a:b] else ""), [(a, b, "pass")])

    mutants = []
    seen = {}
    for start, kind, desc, edits in sorted(found, key=lambda f: (f[0], f[1], f[2])):
        line = text.count("\n", 0, start) + 1
        if NO_MUTATE_MARK in src.lines[line - 1]:
            continue
        new_text = apply_edits(text, edits)
        try:
            compile(new_text, path, "exec")
        except SyntaxError:
            continue
        # Stable id: the file, the line's own text, the column within it and the change.
        text_line = src.lines[line - 1]
        col = start - src.starts[line - 1] - (len(text_line) - len(text_line.lstrip()))
        key = f"{path}|{text_line.strip()}|{col}|{kind}|{desc}"
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key += f"|{seen[key]}"
        stem = os.path.splitext(os.path.basename(path))[0]
        mid = f"{stem}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"
        mutants.append(Mutant(mid, path, line, kind, desc, edits))
    return mutants


def _short(text, width=70):
    """Source text on one line, cut to ``width`` characters for a readable description."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def _droppable(n):
    """A statement whose removal keeps the program running: an effect, not a definition of a local."""
    if isinstance(n, ast.AugAssign):
        return True
    if isinstance(n, ast.Assign):
        return all(isinstance(t, (ast.Attribute, ast.Subscript)) for t in n.targets)
    if isinstance(n, ast.AnnAssign):
        return n.value is not None and isinstance(n.target, (ast.Attribute, ast.Subscript))
    if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call):
        f = n.value.func
        return not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Call)
                    and isinstance(f.value.func, ast.Name) and f.value.func.id == "super")
    return False


def apply_edits(text, edits):
    """The text with ``(start, end, new)`` edits applied.

    Example:
        >>> apply_edits("f(a, b)", [(2, 3, "b"), (5, 6, "a")])
        'f(b, a)'
    """
    for a, b, new in sorted(edits, reverse=True):
        text = text[:a] + new + text[b:]
    return text


def mutant_diff(text, m, context=2):
    """A unified diff of the mutant against the original text."""
    new = apply_edits(text, m.edits)
    return "".join(difflib.unified_diff(text.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{m.path}", f"b/{m.path}", n=context))


def target_files(root, patterns, cuda=False):
    """Relative paths of the Python files matched by ``patterns`` (CUDA files only with ``cuda``)."""
    out = set()
    for p in patterns:
        hits = glob.glob(os.path.join(root, p), recursive=True)
        if os.path.isdir(os.path.join(root, p)):
            hits = glob.glob(os.path.join(root, p, "**", "*.py"), recursive=True)
        for h in hits:
            rel = os.path.relpath(h, root).replace(os.sep, "/")
            if rel.endswith(".py") and (cuda or not any(fnmatch.fnmatch(rel, c) for c in CUDA_PATTERNS)):
                out.add(rel)
    return sorted(out)


def collect(root, files):
    """All mutants of the given files, in file and source order."""
    out = []
    for rel in files:
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            out.extend(find_mutants(rel, f.read()))
    return out


def sample(mutants, n, seed):
    """``n`` mutants drawn at random (deterministic for a seed), back in file and line order."""
    if n is None or n >= len(mutants):
        return list(mutants)
    picked = random.Random(seed).sample(range(len(mutants)), n)
    return [mutants[i] for i in sorted(picked)]


def tests_for(path, test_map=TEST_MAP):
    """The test paths for a source file (``None``: the whole suite), plus the file itself for its doctests."""
    for pat, tests in test_map:
        if fnmatch.fnmatch(path, pat):
            return list(tests) + [path]
    return None


def kill_rate(mutants):
    """``(killed + timeout, counted)`` over mutants that ran, equivalent and errored ones left out."""
    counted = [m for m in mutants if m.status in ("killed", "timeout", "survived")]
    return sum(m.status != "survived" for m in counted), len(counted)


def read_equivalent(path):
    if not path:
        return set()
    with open(path, encoding="utf-8") as f:
        return {ln.split("#")[0].strip() for ln in f if ln.split("#")[0].strip()}


# ---------------------------------------------------------------- running mutants


class Workspace:
    """A temporary copy of the repository in which one file at a time is patched and restored."""

    def __init__(self, root, keep=False):
        self.root = root
        self.keep = keep
        self.dir = tempfile.mkdtemp(prefix="tapegrad-mut-")
        self.copy = os.path.join(self.dir, "repo")
        shutil.copytree(root, self.copy, ignore=COPY_IGNORE, symlinks=True)
        self._stamp = 0

    def path(self, rel):
        return os.path.join(self.copy, rel)

    def apply(self, m):
        """Patch the copy with ``m``; returns a function that restores the file exactly."""
        p = self.path(m.path)
        with open(p, "rb") as f:
            original = f.read()
        st = os.stat(p)
        with open(p, "w", encoding="utf-8", newline="") as f:
            f.write(apply_edits(original.decode("utf-8"), m.edits))
        # A distinct mtime per mutant: .pyc and numba cache stamps (mtime, size) never match another version.
        self._stamp += 1
        t = st.st_mtime + 1000 + self._stamp
        os.utime(p, (t, t))

        def restore():
            with open(p, "wb") as f:
                f.write(original)
            os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
        return restore

    def close(self):
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def run_command(cmd, cwd, env, timeout):
    """Run ``cmd`` in its own process group; returns ``(returncode or 'timeout', seconds, output)``."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, _ = proc.communicate()
        rc = "timeout"
    return rc, time.monotonic() - t0, out.decode("utf-8", "replace")


def first_failure(output):
    for ln in output.splitlines():
        if ln.startswith(("FAILED ", "ERROR ")):
            return ln[:200]
    tail = [ln for ln in output.splitlines() if ln.strip()]
    return tail[-1][:200] if tail else ""


def classify(rc):
    """pytest's exit status -> mutant status. 0 passed; 1 failed; 2 interrupted (collection error);
    3 internal error: the mutant broke the program. 4 usage error, 5 no tests: a broken selection."""
    if rc == "timeout":
        return "timeout"
    if rc == 0:
        return "survived"
    if rc in (4, 5):
        return "error"
    return "killed"


def pytest_cmd(python, tests, cuda):
    cmd = [python, "-m", "pytest"] + PYTEST_ARGS + (tests or [])
    if tests is None and not cuda:
        cmd += ["--deselect", CUDA_SIM_TEST]
    return cmd


def test_env(copy, cuda_files=False):
    env = dict(os.environ)
    env["PYTHONPATH"] = copy + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["HYPOTHESIS_PROFILE"] = "ci"
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    if cuda_files:
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    return env


def run_mutants(ws, mutants, command_for, timeout_for, log=print, full_command=None, full_timeout=None):
    """Run each mutant in the workspace ``ws``; fills in status, seconds, suite, detail and diff.

    ``command_for(m)`` gives ``(cmd, env)`` for the targeted run; ``full_command()`` (optional) the
    whole-suite run that a targeted survivor must also pass to count as survived.
    """
    for k, m in enumerate(mutants, 1):
        if m.status == "equivalent":
            log(f"[{k}/{len(mutants)}] {m.id} {m.path}:{m.line} {m.kind} {m.description}  equivalent (listed)")
            continue
        with open(ws.path(m.path), encoding="utf-8") as f:
            text = f.read()
        restore = ws.apply(m)
        try:
            cmd, env = command_for(m)
            rc, secs, out = run_command(cmd, ws.copy, env, timeout_for(m))
            m.status, m.seconds, m.suite = classify(rc), secs, "targeted"
            if m.status == "survived" and full_command is not None:
                cmd, env = full_command()
                rc, s2, out = run_command(cmd, ws.copy, env, full_timeout)
                m.status, m.seconds, m.suite = classify(rc), secs + s2, "full"
        finally:
            restore()
        if m.status in ("killed", "error"):
            m.detail = first_failure(out)
        if m.status == "survived":
            m.diff = mutant_diff(text, m)
        extra = f" ({m.suite} suite)" if m.status == "survived" else f"  {m.detail}" if m.detail else ""
        log(f"[{k}/{len(mutants)}] {m.id} {m.path}:{m.line} {m.kind} {m.description}  {m.status}  "
            f"{m.seconds:.1f}s{extra}")
        if m.diff:
            log(m.diff.rstrip("\n"))
    return mutants


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", nargs="+", default=DEFAULT_TARGETS, help="files or glob patterns to mutate")
    ap.add_argument("--sample", type=int, help="run N mutants drawn at random (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ids", nargs="+", help="run only these mutant ids")
    ap.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    ap.add_argument("--full", action="store_true", help="re-run targeted survivors against the whole suite")
    ap.add_argument("--cuda", action="store_true", help="also mutate tapegrad/cuda and run the simulator tests")
    ap.add_argument("--timeout", type=float, help="seconds per targeted run (default: 3 x baseline + 30)")
    ap.add_argument("--full-timeout", type=float, help="seconds per full-suite run (default: 2 x baseline + 60)")
    ap.add_argument("--equivalent", help="file of mutant ids judged equivalent, left out of the rate")
    ap.add_argument("--json", help="write the record here")
    ap.add_argument("--no-baseline", action="store_true", help="skip the unmutated runs (and their check)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary copy (its path is printed)")
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args(argv)

    files = target_files(ROOT, args.files, cuda=args.cuda)
    if not files:
        ap.error(f"no Python files match {args.files}" + ("" if args.cuda else " (tapegrad/cuda needs --cuda)"))
    allm = collect(ROOT, files)
    if args.list:
        for m in allm:
            print(f"{m.id} {m.path}:{m.line} {m.kind} {m.description}")
        kinds = {}
        for m in allm:
            kinds[m.kind] = kinds.get(m.kind, 0) + 1
        print(f"{len(allm)} mutants in {len(files)} files: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
        return 0
    if args.ids:
        wanted = set(args.ids)
        chosen = [m for m in allm if m.id in wanted]
        missing = wanted - {m.id for m in chosen}
        if missing:
            ap.error(f"unknown mutant ids (source changed, or not in --files): {sorted(missing)}")
    else:
        chosen = sample(allm, args.sample, args.seed)
    equivalent = read_equivalent(args.equivalent)
    for m in chosen:
        if m.id in equivalent:
            m.status = "equivalent"
    print(f"{len(chosen)} of {len(allm)} mutants in {len(files)} files (seed {args.seed})")

    ws = Workspace(ROOT, keep=args.keep)
    if args.keep:
        print(f"copy: {ws.copy}")
    selections = {}
    for m in chosen:
        selections.setdefault(tuple(tests_for(m.path) or ()), m.path)
    baseline = {}
    full_base = []
    started = time.time()

    def cmd_for_tests(tests):
        cuda_files = any(fnmatch.fnmatch(t, c) or t.startswith("tests/cuda") for t in tests for c in CUDA_PATTERNS)
        return pytest_cmd(args.python, list(tests) or None, args.cuda), test_env(ws.copy, cuda_files)

    def run_baseline(tests, label):
        cmd, env = cmd_for_tests(tests)
        rc, secs, out = run_command(cmd, ws.copy, env, None)
        print(f"baseline {label}: rc {rc}, {secs:.1f}s")
        if rc != 0:
            print(out[-4000:])
            raise SystemExit(f"baseline failed for {label}: fix the tests first (every mutant would look killed)")
        return secs

    try:
        if not args.no_baseline:
            cmd, env = test_env(ws.copy), None
            r = subprocess.run([args.python, "-c", "import tapegrad; print(tapegrad.__file__)"], cwd=ws.copy,
                               env=cmd, capture_output=True, text=True, timeout=300)
            if not r.stdout.strip().startswith(ws.copy):
                raise SystemExit(f"tapegrad in the copy imports from {r.stdout.strip() or r.stderr[-500:]}")
            for tests in selections:
                baseline[tests] = run_baseline(tests, " ".join(tests) or "whole suite")

        def full_command():
            if not full_base and not args.no_baseline:
                full_base.append(run_baseline((), "whole suite"))
            return cmd_for_tests(())

        def timeout_for(m):
            if args.timeout:
                return args.timeout
            b = baseline.get(tuple(tests_for(m.path) or ()))
            return 3 * b + 30 if b else 1800

        full_timeout = args.full_timeout or (2 * full_base[0] + 60 if full_base else 3600)
        run_mutants(ws, chosen, lambda m: cmd_for_tests(tests_for(m.path) or ()), timeout_for,
                    full_command=full_command if args.full else None, full_timeout=full_timeout)
    finally:
        ws.close()

    killed, counted = kill_rate(chosen)
    by = {s: sum(m.status == s for m in chosen) for s in ("killed", "timeout", "survived", "equivalent", "error")}
    rate = 100.0 * killed / counted if counted else float("nan")
    print(f"kill rate: {killed}/{counted} = {rate:.1f}% (killed {by['killed']}, timeout {by['timeout']}, "
          f"survived {by['survived']}, equivalent {by['equivalent']}, error {by['error']}); "
          f"survivors checked against {'the whole suite' if args.full else 'targeted tests only'}; "
          f"{time.time() - started:.0f}s")
    if args.json:
        record = {"command": sys.argv, "seed": args.seed, "sample": args.sample, "files": files,
                  "full": args.full, "cuda": args.cuda, "total_mutants": len(allm),
                  "baseline_seconds": {" ".join(k): v for k, v in baseline.items()},
                  "killed": killed, "counted": counted, "kill_rate": rate if counted else None, "counts": by,
                  "mutants": [asdict(m) for m in chosen]}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
