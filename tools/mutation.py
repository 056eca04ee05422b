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
import fnmatch
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict

if os.path.dirname(os.path.abspath(__file__)) not in sys.path:      # imported from the tests
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mutants import Mutant, apply_edits, collect, find_mutants, mutant_diff, sample  # noqa: E402

__all__ = ["Mutant", "apply_edits", "collect", "find_mutants", "mutant_diff", "sample"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The core files (glob patterns, relative to the repository root).
DEFAULT_TARGETS = [
    "tapegrad/autograd/*.py",
    "tapegrad/tape/*.py",
    "tapegrad/ops/*.py",
    "tapegrad/_dtype.py",
    "tapegrad/optim/*.py",
    "tapegrad/utils/serialization/*.py",
    "tapegrad/utils/data.py",
    "tapegrad/nn/*.py",
    "tapegrad/nn/modules/*.py",
]

# Source file pattern -> the tests that exercise it, most telling first (a mutant is usually killed by
# the first failure: -x); the first match wins. Unmatched files run the whole suite.
TEST_MAP = [
    ("tapegrad/autograd/engine.py", ["tests/autograd/test_backward.py", "tests/autograd",
                                     "tests/ops/test_op_grads.py"]),
    ("tapegrad/autograd/*", ["tests/autograd"]),
    ("tapegrad/tape/*", ["tests/autograd", "tests/ops/test_op_grads.py"]),
    ("tapegrad/ops/promotion.py", ["tests/ops/test_promotion.py", "tests/ops/test_op_forward.py"]),
    ("tapegrad/_dtype.py", ["tests/ops/test_promotion.py", "tests/ops/test_op_forward.py"]),
    ("tapegrad/ops/registry.py", ["tests/ops/test_op_grads.py", "tests/autograd", "tests/ops"]),
    ("tapegrad/ops/*", ["tests/ops/test_op_grads.py", "tests/ops/test_op_forward.py", "tests/ops", "tests/autograd"]),
    ("tapegrad/optim/*", ["tests/optim"]),
    ("tapegrad/utils/serialization*", ["tests/serialization", "tests/test_serialization.py"]),
    ("tapegrad/utils/data.py", ["tests/test_data.py"]),
    ("tapegrad/nn/*", ["tests/nn"]),
    ("tapegrad/cuda/*", ["tests/cuda"]),
]
CUDA_PATTERNS = ("tapegrad/cuda/*",)
CUDA_SIM_TEST = "tests/test_cuda_simulator.py::test_cuda_suite_under_simulator"
# setup.cfg adds a second -q, which hides pytest's closing line; the count style keeps "[done/total]".
PYTEST_ARGS = ["-x", "-q", "-p", "no:cacheprovider", "-o", "console_output_style=count"]
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", ".hypothesis", "build", "dist", "*.egg-info", "runs",
                                     ".whl", ".gl", ".pytest_cache", "mutants")
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

def tests_for(path, test_map=TEST_MAP, root=ROOT):
    """The pytest arguments for a source file (``None``: the whole suite).

    The file itself comes first so its doctests run. pytest orders a directory's files by name even
    when one of them is also named before it, so a directory that overlaps a listed file is expanded
    into its ``test_*.py`` files, keeping the order of the map.
    """
    for pat, tests in test_map:
        if fnmatch.fnmatch(path, pat):
            out = [path]
            for t in tests:
                if os.path.isdir(os.path.join(root, t)) and any(u.startswith(t.rstrip("/") + "/") for u in tests):
                    found = glob.glob(os.path.join(root, t, "**", "test_*.py"), recursive=True)
                    out += sorted(os.path.relpath(f, root).replace(os.sep, "/") for f in found)
                else:
                    out.append(t)
            return list(dict.fromkeys(out))
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


def run_command(cmd, env, timeout, cwd):
    """Run ``cmd`` in its own process group; returns ``(returncode or 'timeout', seconds, output)``.

    The whole group is killed on a timeout or an interrupt, so no test process outlives the run.
    """
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, _ = proc.communicate()
        rc = "timeout"
    except BaseException:
        _kill_group(proc)
        raise
    return rc, time.monotonic() - t0, out.decode("utf-8", "replace")


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def first_failure(output):
    """The first ``FAILED``/``ERROR`` line of pytest's output, else its last line (a crash)."""
    for ln in output.splitlines():
        if ln.startswith(("FAILED ", "ERROR ")):
            return ln[:200]
    tail = [ln for ln in output.splitlines() if ln.strip()]
    return tail[-1][:200] if tail else ""


def pytest_summary(output):
    """What ran, as evidence for a survivor: pytest's closing line, or its last ``[done/total]`` count."""
    for ln in reversed(output.splitlines()):
        if " passed" in ln or " failed" in ln or " error" in ln:
            return ln.strip("= ")[:200]
    counts = re.findall(r"\[\s*(\d+)/\s*(\d+)\]", output)
    return f"{counts[-1][0]}/{counts[-1][1]} tests ran" if counts else ""


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
    """pytest over ``tests`` (``None``: the whole suite, without the CUDA simulator unless ``cuda``)."""
    cmd = [python, "-m", "pytest"] + PYTEST_ARGS + (tests or [])
    if tests is None and not cuda:
        cmd += ["--deselect", CUDA_SIM_TEST]
    return cmd


def child_env(copy, cuda_files=False):
    """The environment of a test run: the copy first on the path, derandomized hypothesis."""
    env = dict(os.environ)
    env["PYTHONPATH"] = copy + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["HYPOTHESIS_PROFILE"] = "ci"
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    if cuda_files:
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    return env


def _log(line):
    print(line, flush=True)


def run_mutants(ws, mutants, command_for, log=_log, full_command=None):
    """Run each mutant in the workspace ``ws``; fills in status, seconds, suite, detail and diff.

    ``command_for(m)`` gives ``(cmd, env, timeout)`` for the targeted run; ``full_command()`` (optional)
    the same for the whole-suite run that a targeted survivor must also pass to count as survived.
    """
    for k, m in enumerate(mutants, 1):
        if m.status == "equivalent":
            log(f"[{k}/{len(mutants)}] {m.id} {m.path}:{m.line} {m.kind} {m.description}  equivalent (listed)")
            continue
        with open(ws.path(m.path), encoding="utf-8") as f:
            text = f.read()
        restore = ws.apply(m)
        try:
            rc, secs, out = run_command(*command_for(m), cwd=ws.copy)
            m.status, m.seconds, m.suite = classify(rc), secs, "targeted"
            if m.status == "survived" and full_command is not None:
                rc, s2, out = run_command(*full_command(), cwd=ws.copy)
                m.status, m.seconds, m.suite = classify(rc), secs + s2, "full"
        finally:
            restore()
        if m.status in ("killed", "error"):
            m.detail = first_failure(out)
        if m.status == "survived":
            m.diff = mutant_diff(text, m)
            m.detail = pytest_summary(out)
        extra = f" ({m.suite} suite: {m.detail})" if m.status == "survived" else f"  {m.detail}" if m.detail else ""
        log(f"[{k}/{len(mutants)}] {m.id} {m.path}:{m.line} {m.kind} {m.description}  {m.status}  "
            f"{m.seconds:.1f}s{extra}")
        if m.diff:
            log(m.diff.rstrip("\n"))
    return mutants


def command(ws, tests, args):
    """``(cmd, env)`` running ``tests`` (``None``: the whole suite) in the workspace copy."""
    cuda_sim = bool(tests) and any(t.startswith("tests/cuda") or t.startswith("tapegrad/cuda") for t in tests)
    return pytest_cmd(args.python, tests, args.cuda), child_env(ws.copy, cuda_sim)


def run_baseline(ws, tests, args):
    """Seconds the unmutated copy takes to pass ``tests``; stops the run if they fail."""
    label = "whole suite" if not tests else " ".join(tests) if len(tests) <= 3 else (
        f"{' '.join(tests[:2])} ... ({len(tests)} paths)")
    rc, secs, out = run_command(*command(ws, tests, args), None, cwd=ws.copy)
    print(f"baseline {label}: rc {rc}, {secs:.1f}s", flush=True)
    if rc != 0:
        print(out[-4000:])
        raise SystemExit(f"baseline failed for {label}: fix the tests first (every mutant would look killed)")
    return secs


def run_baselines(ws, chosen, args):
    """Check that the copy imports its own tapegrad, then time each test selection of the sample once
    (with the doctests of every sampled module that uses it). Returns {selection: seconds}."""
    r = subprocess.run([args.python, "-c", "import tapegrad; print(tapegrad.__file__)"], cwd=ws.copy,
                       env=child_env(ws.copy), capture_output=True, text=True, timeout=300)
    if not r.stdout.strip().startswith(ws.copy):
        raise SystemExit(f"tapegrad in the copy imports from {r.stdout.strip() or r.stderr[-500:]}")
    modules = {}
    for m in chosen:
        tests = tests_for(m.path, root=ws.copy)
        modules.setdefault(tuple(tests[1:]) if tests else (), set()).add(m.path)
    return {sel: run_baseline(ws, (sorted(mods) + list(sel)) if sel else None, args) for sel, mods in modules.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
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
    print(f"{len(chosen)} of {len(allm)} mutants in {len(files)} files (seed {args.seed})", flush=True)

    ws = Workspace(ROOT, keep=args.keep)
    if args.keep:
        print(f"copy: {ws.copy}")
    started = time.time()
    try:
        baseline = {} if args.no_baseline else run_baselines(ws, chosen, args)
        full_base = []

        # Selections are expanded in the copy: a test file added to the working tree during a run is not there.
        def command_for(m):
            tests = tests_for(m.path, root=ws.copy)
            b = baseline.get(tuple(tests[1:]) if tests else ())
            return (*command(ws, tests, args), args.timeout or (3 * b + 30 if b else 1800))

        def full_command():
            if not full_base:
                full_base.append(None if args.no_baseline else run_baseline(ws, None, args))
            timeout = args.full_timeout or (2 * full_base[0] + 60 if full_base[0] else 3600)
            return (*command(ws, None, args), timeout)

        run_mutants(ws, chosen, command_for, full_command=full_command if args.full else None)
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
                  "baseline_seconds": {" ".join(k) or "whole suite": v for k, v in baseline.items()},
                  "killed": killed, "counted": counted, "kill_rate": rate if counted else None, "counts": by,
                  "mutants": [asdict(m) for m in chosen]}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
