"""Which optimizer hyperparameters and state values a traced call read, so that exactly those are guarded.

# Note [optimizer reads]
A trace bakes in every Python number it read. ``Optimizer.step`` and
``zero_grad`` are replayed as calls (Note [capture hook]) and read ``lr``,
``betas`` and Adam's ``step`` counter live, so a scheduler changing ``lr``
between calls must not retrace. The traced code itself may read them too
(``w.sub_(opt.param_groups[0]["lr"] * w.grad)``, a bias correction from
``opt.state[p]["step"]``, through any helper, ``getattr`` or alias): such a
number is baked into the trace and must be guarded by value.

While a call is traced, ``Recorder.wrap`` puts a ``_ReadDict`` in place of
every group dict of ``param_groups``, every per-parameter dict of ``state``
and ``defaults``, for each optimizer the guards reach. A ``_ReadDict`` keeps
a mirror of the original's items (so C code reading it sees the right
values), forwards every write to the original, and records each key read
or written (``len``, iteration, ``items()``... record the whole dict). Around
an effect on an optimizer (``opt.step()``) the originals are put back, so the
replayed call's own reads are not recorded and it sees the very objects it
sees eagerly; afterwards the dicts are wrapped again. ``unwrap`` puts the
originals back when the call ends (or raises, or the trace aborts), so
schedulers and the user see the same identities as before the call.

Each recorded key is guarded at the value it had when the trace began (the
replayed effects recompute the rest from it), a key absent then by its
absence, a whole-dict read by its length and every item. Dicts made during
the call (a first ``Adam.step`` creating ``state[p]``) are not wrapped: their
existence is already guarded (the length and entries of ``state``).
``guards.key`` leaves these numbers out; a cached trace is used only while
its recorded values hold (``hold``), and the generated check tests the same
values (compile/fastguard.py).
"""
from .._tensor import Tensor
from .guards import _MISSING as MISSING

__all__ = ["Recorder", "hold", "same"]

LEN = object()              # the key of a length read
_SKIP = frozenset(["params"])      # a group's parameter list: its identity and items are always guarded


def same(a, b):
    """Whether the value ``a`` may stand for ``b`` in a guard: numbers and strings by exact type and value,
    tuples of them item by item, anything else by identity."""
    if a is b:
        return True
    c = a.__class__
    if c is not b.__class__:
        return False
    if c is tuple:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if c in (int, float, complex, str, bytes):
        return a == b or (a != a and b != b)
    return False


def hold(reads):
    """Whether every recorded read ``(dict, key, value)`` still sees its value (Note [optimizer reads])."""
    for d, k, v in reads:
        if k is LEN:
            if len(d) != v:
                return False
        elif not same(d.get(k, MISSING), v):
            return False
    return True


class Recorder:
    """Records reads of the optimizers' dicts during one traced call (Note [optimizer reads])."""

    def __init__(self, optimizers, objs=()):
        self.optimizers = list(optimizers)
        # what the call captured that aliases an optimizer's dicts without the optimizer: a list of param
        # groups (``groups = opt.param_groups``), a state dict (``st = opt.state``)
        self.lists = [o for o in objs if o.__class__ is list and any(g.__class__ is dict and "params" in g
                                                                       for g in o)]
        self.states = [o for o in objs if o.__class__ is dict and any(v.__class__ is dict for v in o.values())
                       and all(isinstance(k, Tensor) for k in o)]
        self.start = {}             # id(original) -> (original, its items when the trace began)
        self.touched = {}           # id(original) -> set of keys, or None for a whole-dict read
        self.placed = []            # (container, key, wrapper, original)
        self.active = False
        for _, _, d in self._slots():
            if d.__class__ is dict:
                self.start.setdefault(id(d), (d, dict(d)))

    def _slots(self):
        """``(container, key, dict)`` for every dict that may be wrapped (key None: an optimizer's
        ``defaults``)."""
        for o in self.optimizers:
            groups = getattr(o, "param_groups", None)
            if groups.__class__ is list:
                yield from ((groups, i, g) for i, g in enumerate(groups))
            state = getattr(o, "state", None)
            if isinstance(state, dict):
                yield from ((state, k, st) for k, st in list(state.items()))
            yield o, None, o.__dict__.get("defaults")
        for groups in self.lists:
            yield from ((groups, i, g) for i, g in enumerate(groups) if g.__class__ is dict and "params" in g)
        for state in self.states:
            yield from ((state, k, st) for k, st in list(state.items()))

    def wrap(self):
        """Put a recording ``_ReadDict`` in place of each original dict that existed when the trace began."""
        if self.placed:
            return
        self.active = True
        for container, key, d in self._slots():
            if d.__class__ is not dict or id(d) not in self.start:
                continue
            w = _ReadDict(d, self)
            if key is None:
                container.__dict__["defaults"] = w
            else:
                container[key] = w
            self.placed.append((container, key, w, d))

    def unwrap(self):
        """Put every original back where its wrapper still is."""
        placed, self.placed = self.placed, []
        for container, key, w, d in reversed(placed):
            if key is None:                             # an optimizer's ``defaults``
                if container.__dict__.get("defaults") is w:
                    container.__dict__["defaults"] = d
            elif container.__class__ is list:
                if key < len(container) and container[key] is w:
                    container[key] = d
                else:                                   # moved by the call: found by identity
                    for i, x in enumerate(container):
                        if x is w:
                            container[i] = d
            elif container.get(key, MISSING) is w:
                container[key] = d

    def close(self):
        self.unwrap()
        self.active = False

    def touch(self, d, key):
        if not self.active or key in _SKIP:
            return
        ks = self.touched.get(id(d), ())
        if ks is None:
            return
        if ks == ():
            ks = self.touched[id(d)] = set()
        ks.add(key)

    def touch_all(self, d):
        if self.active:
            self.touched[id(d)] = None

    def reads(self):
        """``(dict, key, value when the trace began)`` for every recorded read; ``key`` is ``LEN`` for the
        length."""
        out = []
        for i, ks in self.touched.items():
            d, items = self.start[i]
            if ks is None:
                out.append((d, LEN, len(items)))
                ks = [k for k in items if k not in _SKIP]
            for k in ks:
                out.append((d, k, items.get(k, MISSING)))
        return tuple(out)


class _ReadDict(dict):
    """A stand-in for the dict ``_orig`` that records what is read (Note [optimizer reads])."""

    __slots__ = ("_orig", "_rec")

    def __init__(self, orig, rec):
        dict.__init__(self, orig)
        self._orig = orig
        self._rec = rec

    # ------------------------------------------------------------ reads of one key
    def __getitem__(self, k):
        self._rec.touch(self._orig, k)
        return self._orig[k]

    def get(self, k, default=None):
        self._rec.touch(self._orig, k)
        return self._orig.get(k, default)

    def __contains__(self, k):
        self._rec.touch(self._orig, k)
        return k in self._orig

    # ------------------------------------------------------------ reads of the whole dict
    def _all(self):
        self._rec.touch_all(self._orig)
        return self._orig

    def __len__(self):
        return len(self._all())

    def __iter__(self):
        return iter(self._all())

    def __reversed__(self):
        return reversed(self._all())

    def keys(self):
        return self._all().keys()

    def values(self):
        return self._all().values()

    def items(self):
        return self._all().items()

    def copy(self):
        return self._all().copy()

    def __eq__(self, other):
        return self._all() == other

    def __ne__(self, other):
        return self._all() != other

    def __repr__(self):
        return repr(self._all())

    def __or__(self, other):
        return self._all() | other

    def __ror__(self, other):
        return other | self._all()

    def __reduce_ex__(self, protocol):
        return (dict, (dict(self._all()),))

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        import copy
        return copy.deepcopy(self._all(), memo)

    __hash__ = None

    # ------------------------------------------------------------ writes land in the original
    def __setitem__(self, k, v):
        self._rec.touch(self._orig, k)
        self._orig[k] = v
        dict.__setitem__(self, k, v)

    def __delitem__(self, k):
        self._rec.touch(self._orig, k)
        del self._orig[k]
        dict.__delitem__(self, k)

    def setdefault(self, k, default=None):
        self._rec.touch(self._orig, k)
        v = self._orig.setdefault(k, default)
        dict.__setitem__(self, k, v)
        return v

    def pop(self, k, *default):
        self._rec.touch(self._orig, k)
        dict.pop(self, k, None)
        return self._orig.pop(k, *default)

    def popitem(self):
        k, v = self._all().popitem()
        dict.pop(self, k, None)
        return k, v

    def update(self, *args, **kwargs):
        self._rec.touch_all(self._orig)         # the keys written are known only after the merge
        self._orig.update(*args, **kwargs)
        dict.clear(self)
        dict.update(self, self._orig)
        return None

    def __ior__(self, other):
        self.update(other)
        return self

    def clear(self):
        self._rec.touch_all(self._orig)
        self._orig.clear()
        dict.clear(self)

