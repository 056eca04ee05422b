"""Start a worker script on 2 MPI ranks of this machine, bounded in time (a hang fails, never blocks CI)."""
import json
import os
import signal
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workers")


def mpirun(worker, *args, n=2, timeout=60, env=None):
    """Run ``workers/<worker>.py`` (or the script at path ``worker``, a ``.py`` file) on ``n`` ranks.

    Returns the CompletedProcess, stdout and stderr as text."""
    pytest.importorskip("mpi4py", reason="the distributed extra (mpi4py, mpich) is not installed")
    from tapegrad.distributed.launch import mpiexec_command
    extra = env or {}
    script = worker if worker.endswith(".py") else os.path.join(WORKERS, f"{worker}.py")
    cmd, env = mpiexec_command(n, [script, *map(str, args)])
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")     # this checkout's tapegrad
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = env["MKL_NUM_THREADS"] = "1"
    env.update(extra)
    # A session of its own, so a timeout ends the launcher and every rank it started (its process group).
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{worker} on {n} ranks did not finish in {timeout} s (a hang?)\n{out[-3000:]}\n{err[-3000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def mpirun_ok(worker, tmp_path, *args, n=2, timeout=60, env=None):
    """Run a worker that writes ``rank<r>.json`` into ``tmp_path``; returns the list of the ranks' results."""
    r = mpirun(worker, tmp_path, *args, n=n, timeout=timeout, env=env)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}"
    out = []
    for rank in range(n):
        with open(os.path.join(tmp_path, f"rank{rank}.json")) as f:
            out.append(json.load(f))
    return out


