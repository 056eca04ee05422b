"""Data-parallel scaling and all-reduce bandwidth of tapegrad.distributed on this machine.

Usage (from the repository root; needs the distributed extra):
    python benchmarks/distributed.py                 # -n 1 and -n 2, 784-256-256-10 MLP, batch 128 per rank
    python benchmarks/distributed.py --steps 20 --repeats 3 --out dist.json

The driver starts this script twice under mpiexec (``-n 1`` then ``-n 2``, shared memory only, see
``tapegrad/distributed/launch.py``) with one BLAS/OpenMP thread per rank. Each run times SGD steps of
a float32 784-256-256-10 MLP wrapped in DistributedDataParallel on a fixed random batch of 128 samples
per rank and reports samples per second over all ranks (the median of ``--repeats`` samples of
``--steps`` steps between barriers, over ``--rounds`` launches of each size that take turns). Scaling is the 2-rank figure over the 1-rank one (2.0 is perfect;
the target is 1.6) and efficiency is scaling / 2. The 2-rank run also measures the all-reduce
bandwidth on the sizes of the model's DDP buckets, like with like: tapegrad's blocking ``all_reduce``
against mpi4py's blocking ``Allreduce``, and ``all_reduce(async_op=True)`` + ``wait()`` (as DDP
issues it) against mpi4py's ``Iallreduce`` + ``Wait`` (MPICH runs other algorithms for nonblocking
collectives, so async against blocking would measure MPICH, not tapegrad), on a float32 array of
the same size, as bytes reduced per second (the median sample, and the best one: on a shared machine
the best is the least disturbed); each ratio is tapegrad over raw. Rank 0 also times every step:
the fastest 10% of steps give a second scaling figure, less disturbed by other processes, and its
time per step is split into forward, backward, the end-of-backward wait for the all-reduces and the
optimizer step. ``--profile``
prints rank 0's cProfile of the training steps of each size (where the time goes). Every figure depends on
what else runs on the machine: compare them only within one run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=30, help="training steps per timed sample (default 30)")
    p.add_argument("--repeats", type=int, default=5, help="timed samples (default 5)")
    p.add_argument("--batch", type=int, default=128, help="samples per rank per step (default 128)")
    p.add_argument("--comm-repeats", type=int, default=30, help="all-reduces per bandwidth sample (default 30)")
    p.add_argument("--rounds", type=int, default=2, help="launches of each size, taking turns (default 2)")
    p.add_argument("--out", metavar="FILE", help="also write the results as JSON to FILE")
    p.add_argument("--profile", action="store_true", help="print rank 0's cProfile of the steps")
    p.add_argument("--worker", metavar="FILE", help=argparse.SUPPRESS)     # internal: run under mpiexec
    return p.parse_args(argv)


# ----------------------------------------------------------------- under mpiexec
def _times(fn, repeats, comm):
    times = []
    for _ in range(repeats):
        comm.Barrier()
        t = time.perf_counter()
        fn()
        comm.Barrier()
        times.append(time.perf_counter() - t)
    return times


def _median_time(fn, repeats, comm):
    times = _times(fn, repeats, comm)
    return statistics.median(times), min(times), max(times)


def worker(args):
    import numpy as np
    from mpi4py import MPI
    import tapegrad
    import tapegrad.distributed as dist
    from tapegrad import nn, optim
    from tapegrad.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    comm = MPI.COMM_WORLD
    tapegrad.manual_seed(0)
    model = DDP(nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)))
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(rank)
    x = tapegrad.tensor(rng.standard_normal((args.batch, 784), dtype=np.float32))
    y = tapegrad.tensor(rng.integers(0, 10, args.batch))

    per_step = []
    phases = {"forward": [], "backward": [], "wait": [], "optimizer": []}
    clock = time.perf_counter
    reducer, finalize, waited = model.reducer, model.reducer._finalize, [0.0]

    def timed_finalize():       # rank 0's time in the end-of-backward wait for the buckets' all-reduces
        t = clock()
        for b in reducer.buckets:
            if b.work is not None:
                b.work.wait()
        waited[0] = clock() - t
        finalize()
    reducer._finalize = timed_finalize

    def steps():
        for _ in range(args.steps):
            t0 = clock()
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            t1 = clock()
            loss.backward()
            t2 = clock()
            opt.step()
            t3 = clock()
            per_step.append(t3 - t0)
            for k, v in zip(phases, (t1 - t0, t2 - t1 - waited[0], waited[0], t3 - t2)):
                phases[k].append(v)

    steps()                                                 # warm-up
    per_step.clear()
    for v in phases.values():
        v.clear()
    if args.profile:
        import cProfile
        import io
        import pstats
        prof = cProfile.Profile()
        prof.enable()
        times = _times(steps, args.repeats, comm)
        prof.disable()
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(18)
        profile = text.getvalue()
    else:
        times = _times(steps, args.repeats, comm)
        profile = None
    med, lo, hi = statistics.median(times), min(times), max(times)
    n = args.steps * args.batch * world
    res = {"world": world, "samples_per_s": n / med, "samples_per_s_min": n / hi, "samples_per_s_max": n / lo,
           "step_times": times, "per_step": per_step, "phases": phases, "profile": profile if rank == 0 else None,
           "bucket_numels": [int(b.flat.size) for b in model.reducer.buckets]}
    if world > 1:
        res["bandwidth"] = []
        for numel in res["bucket_numels"]:
            raw = np.ones(numel, np.float32)
            t = tapegrad.ones(numel, dtype=tapegrad.float32)
            cases = {
                "mpi4py Allreduce": lambda: [comm.Allreduce(MPI.IN_PLACE, raw, op=MPI.SUM)
                                             for _ in range(args.comm_repeats)],
                "tapegrad all_reduce": lambda: [dist.all_reduce(t) for _ in range(args.comm_repeats)],
                "mpi4py Iallreduce + Wait": lambda: [comm.Iallreduce(MPI.IN_PLACE, raw, op=MPI.SUM).Wait()
                                                     for _ in range(args.comm_repeats)],
                "tapegrad async + wait": lambda: [dist.all_reduce(t, async_op=True).wait()
                                                  for _ in range(args.comm_repeats)],
            }
            times = {name: [] for name in cases}
            for fn in cases.values():
                fn()
            for _ in range(args.repeats):         # the cases take turns, so the machine's load hits all alike
                for name, fn in cases.items():
                    times[name].append(_median_time(fn, 1, comm)[0])
            row = {"numel": numel, "bytes": numel * 4}
            for name, ts in times.items():
                row[name] = numel * 4 * args.comm_repeats / statistics.median(ts)
                row[name + " best"] = numel * 4 * args.comm_repeats / min(ts)
            res["bandwidth"].append(row)
    dist.destroy_process_group()
    if rank == 0:
        with open(args.worker, "w") as f:
            json.dump(res, f)


# ----------------------------------------------------------------- driver
def launch(n, args):
    from tapegrad.distributed.launch import mpiexec_command
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "result.json")
        argv = [os.path.abspath(__file__), "--worker", out, "--steps", str(args.steps), "--repeats",
                str(args.repeats), "--batch", str(args.batch), "--comm-repeats", str(args.comm_repeats)]
        if args.profile:
            argv.append("--profile")
        cmd, env = mpiexec_command(n, argv)
        env.update({v: "1" for v in THREAD_VARS})
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        r = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise SystemExit(f"mpiexec -n {n} failed (exit {r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}")
        with open(out) as f:
            return json.load(f)


CASES = ("mpi4py Allreduce", "tapegrad all_reduce", "mpi4py Iallreduce + Wait", "tapegrad async + wait")


def _merge(results, args):
    """One figure from several launches of the same size: the median over all their timed samples."""
    out = dict(results[-1])
    times = [t for r in results for t in r["step_times"]]
    n = args.steps * args.batch * out["world"]
    out.update(samples_per_s=n / statistics.median(times), samples_per_s_min=n / max(times),
               samples_per_s_max=n / min(times), step_times=times)
    steps = sorted(t for r in results for t in r["per_step"])
    out.update(per_step=[t for r in results for t in r["per_step"]],
               phases={k: [t for r in results for t in r["phases"][k]] for k in out["phases"]},
               samples_per_s_p10=args.batch * out["world"] / steps[len(steps) // 10])
    if "bandwidth" in out:
        for k, row in enumerate(out["bandwidth"]):
            for name in CASES:
                row[name] = statistics.median(r["bandwidth"][k][name] for r in results)
                row[name + " best"] = max(r["bandwidth"][k][name + " best"] for r in results)
    return out


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker:
        return worker(args)
    sys.path.insert(0, ROOT)
    runs = {1: [], 2: []}
    for _ in range(args.rounds):              # -n 1 and -n 2 take turns, so the machine's load hits both
        for n in (1, 2):
            runs[n].append(launch(n, args))
    one, two = (_merge(runs[n], args) for n in (1, 2))
    scaling = two["samples_per_s"] / one["samples_per_s"]
    print(f"DistributedDataParallel, float32 784-256-256-10 MLP, SGD momentum, batch {args.batch} per rank, "
          f"1 BLAS thread per rank, {args.rounds} launches x {args.repeats} samples x {args.steps} steps "
          "(median [min-max])")
    for r in (one, two):
        print(f"  -n {r['world']}: {r['samples_per_s']:9.0f} samples/s  "
              f"[{r['samples_per_s_min']:.0f}-{r['samples_per_s_max']:.0f}]   fastest 10% of steps: "
              f"{r['samples_per_s_p10']:.0f} samples/s")
    scaling_p10 = two["samples_per_s_p10"] / one["samples_per_s_p10"]
    print(f"  scaling -n 2 / -n 1: {scaling:.2f}x (efficiency {scaling / 2:.0%}; target 1.6x); on the fastest 10% "
          f"of steps (rank 0's, the least disturbed by other processes): {scaling_p10:.2f}x")
    print(f"all-reduce bandwidth on the DDP bucket sizes, 2 ranks, float32 SUM, {args.comm_repeats} per sample "
          "(median, GiB/s; tg/raw: blocking with blocking, async with async):")
    print(f"  {'bucket':>10} {'MiB':>6} {'raw':>7} {'tg':>7} {'tg/raw':>7}   {'raw async':>9} {'tg async':>9} "
          f"{'tg/raw':>7}")
    for row in two["bandwidth"]:
        for label, suffix in (("median", ""), ("best", " best")):
            raw, tg, rawa, tga = (row[name + suffix] for name in CASES)
            key = suffix.replace(" ", "_")
            row["ratio" + key], row["ratio_async" + key] = tg / raw, tga / rawa
            g = [v / 2 ** 30 for v in (raw, tg, rawa, tga)]
            print(f"  {row['numel']:>10} {row['bytes'] / 2 ** 20:6.2f} {g[0]:7.2f} {g[1]:7.2f} {tg / raw:7.0%}   "
                  f"{g[2]:9.2f} {g[3]:9.2f} {tga / rawa:7.0%}   {label}")
    print("rank 0's time per step by phase, ms: median | mean over the fastest 10% of steps "
          "(wait: for the buckets' all-reduces at the end of backward)")
    for r in (one, two):
        fast = sorted(range(len(r["per_step"])), key=r["per_step"].__getitem__)[:max(1, len(r["per_step"]) // 10)]
        cells = [f"{k} {statistics.median(v) * 1e3:.2f} | {sum(v[i] for i in fast) / len(fast) * 1e3:.2f}"
                 for k, v in list(r["phases"].items()) + [("step", r["per_step"])]]
        print(f"  -n {r['world']}: " + ";  ".join(cells))
    for r in (one, two):
        if r.get("profile"):
            print(f"rank 0's cProfile of the -n {r['world']} steps (by own time):")
            print(r["profile"])
    print("figures depend on the machine's load (2 shared cores here): compare them within one run only")
    result = {"one": one, "two": two, "scaling": scaling, "efficiency": scaling / 2, "scaling_p10": scaling_p10,
              "args": vars(args)}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == "__main__":
    main()
