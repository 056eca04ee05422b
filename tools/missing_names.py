#!/usr/bin/env python
"""List the public names of PyTorch that tapegrad lacks, namespace by namespace.

Usage (from the repository root; needs torch installed, it is the reference)::

    python tools/missing_names.py               # counts, then every missing name, by namespace
    python tools/missing_names.py --counts      # counts only
    python tools/missing_names.py --ns torch.special torch.linalg   # only these namespaces

A torch namespace's public names are its ``__all__`` together with the names in
``dir()`` that do not start with ``_``, less the modules that are not torch's own
(``torch.os``, ``torch.math`` ...). ``Tensor`` is ``torch.Tensor``'s public
attributes. A name counts as present when ``getattr`` on the matching tapegrad
object finds it (so lazily loaded subpackages count). A namespace tapegrad has
no module for counts all its names as missing and is marked ``(absent)``.

This is a report, not a test: many of torch's names (quantization, sparse
layouts, JIT, storages, ``torch.fx`` ...) are outside what tapegrad promises.
"""
import argparse
import importlib
import os
import sys
import types

# the tapegrad of this checkout, not an installed one (``python tools/...`` puts tools/ first on the path)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NAMESPACES = ("torch", "Tensor", "torch.nn.functional", "torch.nn", "torch.linalg", "torch.special", "torch.fft",
              "torch.autograd", "torch.utils.data")


def torch_names(ns):
    """The public names of torch's namespace ``ns`` ("Tensor" for the Tensor class)."""
    import torch
    if ns == "Tensor":
        return {n for n in dir(torch.Tensor) if not n.startswith("_")}
    mod = importlib.import_module(ns)
    names = set(getattr(mod, "__all__", ()) or ()) | {n for n in dir(mod) if not n.startswith("_")}
    out = set()
    for n in names:
        obj = getattr(mod, n, None)
        if isinstance(obj, types.ModuleType) and not obj.__name__.startswith("torch"):
            continue            # torch.os, torch.math, ...: imports, not API
        out.add(n)
    return out


def tapegrad_object(ns):
    """tapegrad's object for torch's namespace ``ns``, or None when tapegrad has no such module."""
    import tapegrad
    if ns == "Tensor":
        return tapegrad.Tensor
    try:
        return importlib.import_module("tapegrad" + ns[len("torch"):])
    except ImportError:
        return None


def missing(ns):
    """``(torch's public names, the ones tapegrad lacks, whether tapegrad has the namespace at all)``."""
    theirs = torch_names(ns)
    ours = tapegrad_object(ns)
    if ours is None:
        return theirs, sorted(theirs), False
    lacking = []
    for n in sorted(theirs):
        try:
            getattr(ours, n)
        except Exception:       # AttributeError, or a lazy import that fails: absent either way
            lacking.append(n)
    return theirs, lacking, True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--counts", action="store_true", help="print the counts only")
    ap.add_argument("--ns", nargs="*", default=NAMESPACES, choices=NAMESPACES, help="namespaces to compare")
    args = ap.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.exit("missing_names: torch is not installed; it is the reference this script compares with")
    report = {ns: missing(ns) for ns in args.ns}
    total_t = total_m = 0
    print(f"{'namespace':<22}{'torch':>7}{'missing':>9}")
    for ns, (theirs, lacking, present) in report.items():
        total_t, total_m = total_t + len(theirs), total_m + len(lacking)
        print(f"{ns:<22}{len(theirs):>7}{len(lacking):>9}{'' if present else '  (absent)'}")
    print(f"{'all':<22}{total_t:>7}{total_m:>9}")
    import tapegrad
    print(f"(tapegrad from {os.path.dirname(tapegrad.__file__)})")
    if not args.counts:
        for ns, (_, lacking, _) in report.items():
            print(f"\n{ns} ({len(lacking)} missing):")
            print("  " + " ".join(lacking) if lacking else "  (none)")


if __name__ == "__main__":
    main()
