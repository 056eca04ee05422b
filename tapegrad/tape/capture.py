"""The capture hook ``tapegrad.compile`` records through (Note [capture hook]).

# Note [capture hook]
While ``tapegrad.compile`` traces a call, ``ACTIVE[0]`` holds its recorder;
otherwise it is None and the eager paths pay one list read per op
(``ops.registry.apply``), per backward (``autograd.engine.run``) and per host
read. The recorder lives in ``tapegrad/compile/`` (floor 8); this floor only
holds the slot, so the ops and the engine reach it without importing upward.
Calls that mutate state outside the ops (``Optimizer.step``, ``zero_grad``) are
marked ``@effect``: while tracing they are recorded whole and replayed by
calling them again, so they read their hyperparameters (``lr``) live.
"""
import functools

__all__ = ["ACTIVE", "effect", "host_read", "source"]

ACTIVE = [None]


def effect(fn):
    """Mark ``fn`` as a state-changing call that a trace records whole (Note [capture hook]).

    Example:
        >>> from tapegrad.tape.capture import effect
        >>> @effect
        ... def bump(box):
        ...     box[0] += 1
        >>> box = [0]; bump(box); box
        [1]
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        cap = ACTIVE[0]
        if cap is None:
            return fn(*args, **kwargs)
        return cap.effect(fn, args, kwargs)
    return wrapper


def host_read(tensor, what):
    """Tell an active trace that ``what`` (``"item()"``...) reads ``tensor``'s values on the host."""
    cap = ACTIVE[0]
    if cap is not None:
        cap.host_read(tensor, what)


def source(array, fn, *args):
    """Tell an active trace that ``array`` is ``fn(*args)`` drawn afresh (a dropout mask); returns ``array``."""
    cap = ACTIVE[0]
    if cap is not None:
        cap.source(array, fn, args)
    return array
