"""``tapegrad.compile``: capture a call once, replay it as a flat list of backend steps.

The package: ``tracer.py`` records one eager call (forward ops, the backward's
VJPs and ``.grad`` accumulation through ``sweep.py``, in-place writes, random
draws, optimizer effects), ``guards.py`` computes the key a trace is valid
under, ``replay.py`` runs the steps, ``api.py`` ties them together with a
cache and ``stats()``. The hooks it records through are one floor down
(Note [capture hook] in ``tapegrad/tape/capture.py``).
"""
from .api import CompiledFunction, CompiledModule, compile  # noqa: A004

__all__ = ["compile", "CompiledFunction", "CompiledModule"]


# Importing this package binds ``tapegrad.compile`` to it (the import system sets the attribute after
# this file runs), so the package is callable too: ``tapegrad.compile(fn)`` works whichever got bound.
class _CallablePackage(type(__import__("sys"))):
    def __call__(self, *args, **kwargs):
        return compile(*args, **kwargs)


__import__("sys").modules[__name__].__class__ = _CallablePackage
__signature__ = __import__("inspect").signature(compile)      # inspect.signature(tapegrad.compile) as torch's
