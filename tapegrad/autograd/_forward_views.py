"""How the tangent of a view follows in-place writes (the ``_Level`` methods behind them).

# Note [forward views]
In PyTorch the tangent of a view is a view of its base's tangent, so an
in-place write through a view changes the base's tangent and every other
view's. Here tangents are separate tensors, and the level keeps them
consistent at the writes: after an in-place op on ``t`` (ops/inplace.py,
ops/_setitem.py) ``wrote(t)`` replaces, when ``t`` is a view, the region of
``t`` (its flat positions in the base, Note [copy slices]) in the base's
tangent (zeros when it had none) by ``t``'s new tangent, with recorded ops
(so the tangent stays differentiable); a recorded copy-slices rebase already
did that through the setitem JVP, and only bumps the count. Each written
base counts its writes (``written``); a view whose tangent was last read
before the latest write re-reads its region of the base's tangent on its
next lookup (``_fresh``), which covers views made under no_grad and views
the copy-slices path does not list. The base of a view is ``_base``, except
that a ``make_dual`` result (itself a view of its primal) is the base of the
views made from it, as in PyTorch. When no write happened at a level the
lookup costs one dict truth test. The snapshot of a written tensor without a
node keeps its tangent, and in grad mode an op that saves its input runs on a
copy, so a tangent's recorded graph never saves overwritten values.
"""
import weakref

__all__ = []


def weak_put(d, obj, val):
    """``d[id(obj)] = (weakref to obj, val)``, the entry dropped when ``obj`` dies."""
    k = id(obj)

    def drop(r, k=k):
        cur = d.get(k)
        if cur is not None and cur[0] is r:
            del d[k]
    d[k] = (weakref.ref(obj, drop), val)


def _copy_slices():
    from ..ops import _copy_slices as cs
    return cs


def _hook():
    from ..ops import registry
    return registry.FWD_HOOK


class ViewTangents:
    """Mixin of ``forward_ad._Level``: keeps view and base tangents consistent (Note [forward views]).

    Needs ``get``, ``_raw`` and ``set`` and the ``written``, ``stamps`` and ``aliases`` dicts of the level.
    """

    def _base_of(self, t):
        """The tensor whose tangent ``t``'s tangent is a view of: ``t._base``, or the ``make_dual``
        result ``t`` was made from (Note [forward views]); None for a tensor that is no view."""
        b = t._base
        if b is None:
            return None
        e = self.aliases.get(id(b))
        if e is not None and e[0]() is b:
            for r in e[1]:
                a = r()
                if a is t:
                    return None
                if a is not None and _copy_slices().positions(a._data, t._data) is not None:
                    return a
        return b

    def _fresh(self, t):
        """Re-read view ``t``'s tangent from its base's when the base was written since (Note [forward views])."""
        b = self._base_of(t)
        if b is None:
            return
        e = self.written.get(id(b))
        if e is None or e[0]() is not b:
            return
        s = self.stamps.get(id(t))
        if s is not None and s[0]() is t and s[1] == e[1]:
            return
        weak_put(self.stamps, t, e[1])
        pos = _copy_slices().positions(b._data, t._data)
        if pos is None:
            return
        tb = self._raw(b)
        self.set(t, None if tb is None else self._pick(tb, pos, t))

    def wrote(self, t, rebased=False):
        """An in-place op wrote ``t``, whose tangent is already its new one: ``t``'s base (if ``t`` is a view)
        takes the old base tangent with ``t``'s region replaced by ``t``'s tangent (unless a recorded rebase,
        Note [copy slices], already did that), and the base's views re-read theirs (Note [forward views])."""
        b = self._base_of(t)
        if b is None:
            b = t
        elif not rebased:
            pos = _copy_slices().positions(b._data, t._data)
            if pos is None:             # a reshape that copied: no view after all
                return
            tt, tb = self._raw(t), self._raw(b)
            if tt is None and tb is None:
                return
            self.set(b, self._put(tb, b, pos, t, tt))
        e = self.written.get(id(b))
        n = 1 if e is None or e[0]() is not b else e[1] + 1
        weak_put(self.written, b, n)
        if t is not b:
            weak_put(self.stamps, t, n)

    def check_write(self, name, t, others=()):
        """Raise, before anything is written, when an in-place op ``name`` on ``t`` would leave a tangent
        wrong: ``t`` is a view of a reshape that copied (its ``_base`` is the tensor the reshape read, so
        the write could not reach the copy's tangent)."""
        b = t._base
        if b is None:
            return
        owner = getattr(t._data, "base", None)
        nbytes = getattr(owner, "nbytes", None)
        if nbytes is None or nbytes == t._data.nbytes or _copy_slices().positions(b._data, t._data) is not None:
            return
        if self._raw(t) is None and all(getattr(o, "_data", None) is None or self._raw(o) is None
                                        for o in others):
            return
        raise NotImplementedError(
            f"{name}: forward-mode AD through an in-place write into a view (shape {tuple(t.shape)}) of a reshape "
            f"that copied (of a tensor of shape {tuple(b.shape)}) is not supported: the write cannot reach the "
            "copy's tangent. clone() the reshaped tensor before taking the view, or write out of place")

    def _pick(self, tb, pos, t):
        """The tangent of view ``t``: its region (flat positions ``pos``) of the base tangent ``tb``."""
        cs = _copy_slices()
        return self._quiet(lambda: cs._pick(tb, cs._key(tb._backend, tuple(tb._data.shape), pos),
                                            tuple(t._data.shape)))

    def _put(self, tb, b, pos, t, tt):
        """The base tangent ``tb`` (zeros when None) with view ``t``'s region replaced by ``tt`` (zeros when None)."""
        from .. import _creation
        from ..ops.registry import REGISTRY, apply
        cs = _copy_slices()
        setitem_op, reshape_op = REGISTRY["setitem"], REGISTRY["reshape"]

        def run():
            base = _creation.zeros_like(b) if tb is None else tb
            val = _creation.zeros_like(t) if tt is None else tt
            shape = tuple(base._data.shape)
            new = apply(setitem_op, cs._flat(base), apply(reshape_op, val, shape=(int(pos.size),)), basic=None,
                        adv=cs._key(base._backend, shape, pos))
            return apply(reshape_op, new, shape=shape) if not shape else new
        return self._quiet(run)

    @staticmethod
    def _quiet(fn):
        hook = _hook()
        saved, hook[0] = hook[0], None      # tangents carry no tangents
        try:
            return fn()
        finally:
            hook[0] = saved
