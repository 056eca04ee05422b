"""Timing, result rows, the printed table and the JSON output shared by every workload.

A measurement is ``warmup`` untimed calls, then ``repeats`` samples; each sample times
``number`` back-to-back calls (``number`` is calibrated so that a sample lasts at least
``min_time`` seconds) and records the time per call divided by ``per`` (e.g. ops per call).
The garbage collector is run before each sample and left enabled while timing, because a
tape's allocation pattern (and the collections it triggers) is part of what it costs.
"""
import gc
import json
import math
import statistics
import time
from dataclasses import dataclass, field

IMPLS = ("tapegrad", "numpy", "torch")


@dataclass
class Stats:
    """Median/min/max of the samples, in seconds (or in the row's own unit when scale is 1)."""
    median: float
    min: float
    max: float
    samples: int
    number: int = 1


def measure(fn, *, repeats, warmup, min_time, per=1, setup=None):
    """Time ``fn()``; ``setup()`` (untimed) runs before each sample, e.g. to reset grads.

    Returns:
        Stats of the seconds per call divided by ``per``.
    """
    for _ in range(warmup):
        if setup is not None:
            setup()
        fn()
    if setup is not None:
        setup()
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    number = max(1, math.ceil(min_time / max(first, 1e-9)))
    values = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        values.append((time.perf_counter() - t0) / number / per)
    return Stats(statistics.median(values), min(values), max(values), len(values), number)


def compare(builders, *, repeats, warmup, min_time, per=1):
    """Time several implementations of one case with their samples interleaved.

    Args:
        builders: ``{impl: build}`` where ``build()`` returns the function to time (building is
            untimed), or a string saying why ``impl`` is skipped.
    Returns:
        ``{impl: Stats or a "skipped"/"failed: ..." string}``, in the order of ``builders``.

    Samples go round-robin (a, b, c, a, b, c, ...), so a burst of load from another process
    slows every implementation alike instead of skewing one ratio.
    """
    results, plan = {}, {}
    for impl, build in builders.items():
        if isinstance(build, str):
            results[impl] = build
            continue
        prepared = guarded(lambda: _prepare(build(), warmup, min_time))
        if isinstance(prepared, str):
            results[impl] = prepared
        else:
            plan[impl] = prepared
    samples = {impl: [] for impl in plan}
    for _ in range(repeats):
        for impl, (fn, number) in list(plan.items()):
            gc.collect()
            try:
                t0 = time.perf_counter()
                for _ in range(number):
                    fn()
                samples[impl].append((time.perf_counter() - t0) / number / per)
            except Exception as e:  # noqa: BLE001  reported in the table instead
                results[impl] = _failure(e)
                del plan[impl]
    for impl in plan:
        v = samples[impl]
        results[impl] = Stats(statistics.median(v), min(v), max(v), len(v), plan[impl][1])
    return {impl: results[impl] for impl in builders}


def _prepare(fn, warmup, min_time):
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    return fn, max(1, math.ceil(min_time / max(first, 1e-9)))


def _failure(e):
    msg = str(e).splitlines()[0] if str(e) else ""
    return f"failed: {type(e).__name__}: {msg}"[:200]


def guarded(thunk):
    """``thunk()`` (a measurement), or "failed: <error>" if it raised.

    The library changes under the benchmark; one broken op must cost one cell, not the run.
    """
    try:
        return thunk()
    except Exception as e:  # noqa: BLE001  reported in the table instead
        return _failure(e)


def fixed(value):
    """A single already-measured figure (memory growth, a training run) as Stats."""
    return Stats(value, value, value, 1)


@dataclass
class Row:
    """One line of the table: a workload case measured for each implementation.

    ``results`` maps an implementation name to Stats, or to a string saying why it was skipped.
    ``scale`` turns Stats values into ``unit`` (1e6 for seconds -> µs). Lower is better in every
    row, so a ratio below 1 means tapegrad is faster (or grows less) than that baseline.
    """
    workload: str
    case: str
    unit: str
    scale: float
    results: dict = field(default_factory=dict)
    note: str = ""

    def value(self, impl):
        r = self.results.get(impl)
        return r.median * self.scale if isinstance(r, Stats) else None

    def ratio(self, impl):
        mine, base = self.value("tapegrad"), self.value(impl)
        if mine is None or not base:
            return None
        return mine / base

    def as_json(self):
        out = {"workload": self.workload, "case": self.case, "unit": self.unit, "note": self.note,
               "results": {}, "ratios": {}}
        for impl, r in self.results.items():
            if isinstance(r, Stats):
                out["results"][impl] = {"median": r.median * self.scale, "min": r.min * self.scale,
                                        "max": r.max * self.scale, "samples": r.samples,
                                        "number": r.number}
            else:
                out["results"][impl] = {"skipped": str(r)}
        for impl in IMPLS[1:]:
            out["ratios"][f"tapegrad/{impl}"] = self.ratio(impl)
        return out


def fmt(x):
    if x is None:
        return "-"
    if x == 0:
        return "0"
    digits = max(0, 2 - int(math.floor(math.log10(abs(x)))))
    return f"{x:.{min(digits, 4)}f}"


def _cell(row, impl):
    r = row.results.get(impl)
    if r is None:
        return "-"
    if not isinstance(r, Stats):
        return "FAILED" if r.startswith("failed") else "skipped"
    if r.samples == 1:
        return fmt(r.median * row.scale)
    return f"{fmt(r.median * row.scale)} [{fmt(r.min * row.scale)}-{fmt(r.max * row.scale)}]"


def format_table(rows):
    """The rows as one aligned text table (medians, [min-max], ratios of medians)."""
    head = ["workload", "case", "unit", "tapegrad", "numpy (hand)", "torch",
            "tg/numpy", "tg/torch", "note"]
    body = [[r.workload, r.case, r.unit, _cell(r, "tapegrad"), _cell(r, "numpy"), _cell(r, "torch"),
             fmt(r.ratio("numpy")), fmt(r.ratio("torch")), r.note] for r in rows]
    widths = [max(len(str(line[i])) for line in [head] + body) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip()
             for line in [head] + body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def skipped_notes(rows):
    """One line per skipped implementation, saying why."""
    out = []
    for r in rows:
        for impl, res in r.results.items():
            if not isinstance(res, Stats):
                verb = "" if res.startswith("failed") else "skipped: "
                out.append(f"{r.workload} {r.case} [{impl}] {verb}{res}")
    return out


def write_json(path, rows, meta):
    with open(path, "w") as f:
        json.dump({"meta": meta, "rows": [r.as_json() for r in rows]}, f, indent=2)
