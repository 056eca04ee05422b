"""Note [long tests first] (tests/conftest.py): tests marked ``long`` are collected first, and ``-n`` runs
schedule them with pytest-xdist's ``worksteal``."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _collected(*paths):
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q",
                        "-o", "addopts=", *paths], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return [line for line in r.stdout.splitlines() if "::" in line]


def test_long_tests_are_collected_before_the_others():
    # test_install.py is named first and test_cuda_fusion.py's launcher is its last test: the sort moves it.
    ids = _collected("tests/test_install.py", "tests/compile/test_cuda_fusion.py")
    launcher = "tests/compile/test_cuda_fusion.py::test_under_simulator"
    assert launcher in ids and len(ids) > 5, ids
    assert ids[0] == launcher, ids[:3]
    rest = ids[1:]
    # The stable sort keeps the collection order of the others: test_install's tests still precede the fusion file's.
    files = [i.split("::")[0] for i in rest]
    assert files == sorted(files, key=lambda f: f != "tests/test_install.py"), files


def test_simulator_launchers_are_all_marked_long():
    ids = _collected("tests/test_cuda_simulator.py", "tests/compile/test_cuda_compile.py", "tests/test_install.py")
    launchers = [i for i in ids if "under_simulator" in i]
    assert len(launchers) > 10, launchers
    assert ids[:len(launchers)] == launchers, ids[:len(launchers) + 2]


_PROBE = """
import sys, pytest
class Probe:
    @pytest.hookimpl(hookwrapper=True)
    def pytest_xdist_make_scheduler(self, config, log):
        outcome = yield
        print("SCHEDULER", type(outcome.get_result()).__name__, flush=True)
sys.exit(pytest.main(sys.argv[1:], plugins=[Probe()]))
"""


def _scheduler(*args):
    r = subprocess.run([sys.executable, "-c", _PROBE, "-p", "no:cacheprovider", "-o", "addopts=", "-n", "2", *args,
                        "tests/test_install.py::test_license_metadata"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return [line.split()[1] for line in r.stdout.splitlines() if line.startswith("SCHEDULER")]


def test_xdist_runs_schedule_by_work_stealing_unless_told_otherwise():
    assert _scheduler() == ["WorkStealingScheduling"]
    assert _scheduler("--dist", "load") == ["LoadScheduling"]
