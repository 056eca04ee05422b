"""The kinds of step a captured program holds (compile/tracer.py records them, compile/replay.py runs them)."""

__all__ = ["LOAD", "OP", "CAST", "VJP", "SUMTO", "ADD", "ASARRAY", "ACC", "CALL", "SRC", "WRITE", "FUSED", "NAMES"]

LOAD, OP, CAST, VJP, SUMTO, ADD, ASARRAY, ACC, CALL, SRC, WRITE, FUSED = range(12)
NAMES = ("load", "op", "cast", "vjp", "sum_to", "add", "asarray", "accumulate", "call", "draw", "write", "fused")
