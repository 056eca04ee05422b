"""``tapegrad.compile`` against eager tapegrad, hand NumPy, torch eager and ``torch.compile``.

Cases: the 200-op chain of ``overhead`` (forward+backward, shapes (1,) and (16,), µs per op)
and two MLP SGD training steps (ms): 64-32-10 batch 32 and 784-256-256-10 batch 128. The ``tapegrad`` column is the
compiled call (steady-state replays, fused kernels ready); ``tapegrad_eager``,
``tapegrad_unfused`` (``options={"fusion": False}``) and ``torch_compile`` are in the
JSON results and the note, with the first (tracing) call's time and the time until the
fused kernels were ready (compiled in the background, or loaded from numba's disk cache). ``torch.compile`` runs in
a subprocess and is skipped when compiling takes longer than 60 s ("skipped: compile time")
or in ``--quick`` runs.
"""
import json
import subprocess
import sys
import time

import numpy as np

from .. import handwritten
from ..frameworks import Trainer
from ..handwritten import MLP as HandMLP
from ..harness import Row, compare, fixed, fmt
from .overhead import N_OPS, SHAPES, _tensor_chain

TORCH_COMPILE_LIMIT = 60.0
MLP = ((64, 32, 10), 32)
MLP_LARGE = ((784, 256, 256, 10), 128)


def _chain_inputs(shape):
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, shape).astype(np.float32), rng.uniform(0.2, 0.8, shape).astype(np.float32)


def _chain(fw, shape):
    x0, w0 = _chain_inputs(shape)
    return _tensor_chain(fw, fw.tensor(x0, requires_grad=True), fw.tensor(w0, requires_grad=True))


def _mlp(fw, case=MLP):
    sizes, batch = case
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((batch, sizes[0]), dtype=np.float32)
    y0 = rng.integers(0, sizes[-1], batch)
    trainer = Trainer(fw, sizes, optimizer="sgd", lr=0.01)
    x, target = fw.from_numpy(x0), trainer.target(y0)
    return (lambda: trainer.step(x, target)), (x0, y0)


def _compiled(fn, first, fusion=True):
    """``tapegrad.compile(fn)``, called twice untimed (trace, then the key with .grad set); ``first`` gets the
    first call's seconds and the seconds until its fused kernels were ready (compiled in the background, or
    loaded from numba's disk cache), which happens before timing."""
    import tapegrad

    def call():
        fn()        # the MLP step returns its loss (still requiring grad): the compiled call returns nothing
    c = tapegrad.compile(call, options={"fusion": fusion})
    t0 = time.perf_counter()
    c()
    first.append(time.perf_counter() - t0)
    c()
    c()
    c.wait_for_kernels()
    first.append(time.perf_counter() - t0)
    return c


def _torch_compile(case):
    """Run ``case`` under torch.compile in a subprocess: (compile seconds, steady seconds per call) or a reason."""
    try:
        out = subprocess.run([sys.executable, "-m", "benchmarks.workloads.compiled", case], text=True,
                             capture_output=True, timeout=TORCH_COMPILE_LIMIT + 30)
    except subprocess.TimeoutExpired:
        return "compile time (> 60 s)"
    if out.returncode != 0:
        return f"failed: {(out.stderr.strip().splitlines() or ['?'])[-1][:150]}"
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if r["compile_s"] > TORCH_COMPILE_LIMIT:
        return "compile time (> 60 s)"
    return r


def run(cfg):
    import tapegrad
    rows = []
    timing = dict(repeats=cfg.repeats, warmup=cfg.warmup, min_time=cfg.min_time)
    cases = [(f"{N_OPS}-op chain {shape}", "µs/op", 1e6, N_OPS, f"chain{shape[0]}",
              (lambda fw, s=shape: _chain(fw, s)), (lambda s=shape: (lambda: handwritten.chain(
                  *_chain_inputs(s), N_OPS // 4)))) for shape in SHAPES]
    for case, key in ((MLP, "mlp"), (MLP_LARGE, "mlp_large")):
        hand = HandMLP(case[0], optimizer="sgd", lr=0.01)
        _, (x0, y0) = _mlp(tapegrad, case)
        cases.append((f"MLP {'-'.join(map(str, case[0]))} b{case[1]} sgd step", "ms", 1e3, 1, key,
                      lambda fw, c=case: _mlp(fw, c)[0],
                      lambda h=hand, x=x0, y=y0: (lambda: h.step(x, y))))
    for name, unit, scale, per, key, build, hand_build in cases:
        first = []
        row = Row("compiled", name, unit, scale)
        row.results = compare({
            "tapegrad": lambda: _compiled(build(tapegrad), first),
            "tapegrad_unfused": lambda: _compiled(build(tapegrad), [], fusion=False),
            "numpy": hand_build,
            "torch": (lambda: build(cfg.torch)) if cfg.torch is not None else cfg.torch_missing,
            "tapegrad_eager": lambda: build(tapegrad),
        }, per=per, **timing)
        tc = "quick run" if cfg.quick else (_torch_compile(key) if cfg.torch is not None
                                                       else cfg.torch_missing)
        notes = []
        eager = row.value("tapegrad_eager")
        if eager and row.value("tapegrad"):
            notes.append(f"eager {fmt(eager)} {unit}, compiled/eager {fmt(row.value('tapegrad') / eager)}")
        if row.value("tapegrad_unfused"):
            notes.append(f"unfused {fmt(row.value('tapegrad_unfused'))} {unit}")
        if first:
            notes.append(f"first call {first[0]:.3f} s, kernels ready {first[1]:.2f} s")
        if isinstance(tc, dict):
            row.results["torch_compile"] = fixed(tc["per_call_s"] / per)
            notes.append(f"torch.compile {fmt(tc['per_call_s'] / per * scale)} {unit} after {tc['compile_s']:.1f} s")
        else:
            row.results["torch_compile"] = tc
            notes.append(f"torch.compile {tc}")
        row.note = "; ".join(notes)
        rows.append(row)
    return rows


def _torch_main(case):
    import torch
    torch.set_num_threads(1)
    fn = (_chain(torch, (int(case[5:]),)) if case.startswith("chain")
          else _mlp(torch, MLP_LARGE if case == "mlp_large" else MLP)[0])
    c = torch.compile(fn)
    t0 = time.perf_counter()
    c()
    compile_s = time.perf_counter() - t0
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(20):
            c()
        best = min(best, (time.perf_counter() - t0) / 20)
    print(json.dumps({"compile_s": compile_s, "per_call_s": best}))


if __name__ == "__main__":
    _torch_main(sys.argv[1])
