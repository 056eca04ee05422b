"""Pytrees for the function transforms: tuples, lists, dicts and namedtuples of leaves.

A spec is ``("leaf",)`` or ``(kind, aux, children_specs)``; anything that is not a
tuple, list or dict (a Tensor, a number, None) is a leaf, as in ``torch.utils._pytree``.
"""

__all__ = ["tree_flatten", "tree_unflatten", "tree_map", "broadcast_prefix"]

LEAF = ("leaf",)


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def tree_flatten(tree):
    """``(leaves, spec)`` of a pytree, leaves in depth-first order (dict keys in insertion order).

    Example:
        >>> tree_flatten((1, {"a": 2, "b": [3]}))[0]
        [1, 2, 3]
    """
    leaves = []
    spec = _flatten(tree, leaves)
    return leaves, spec


def _flatten(tree, leaves):
    if isinstance(tree, dict):
        keys = list(tree)
        return ("dict", keys, [_flatten(tree[k], leaves) for k in keys])
    if _is_namedtuple(tree):
        return ("namedtuple", type(tree), [_flatten(v, leaves) for v in tree])
    if isinstance(tree, (tuple, list)):
        return (type(tree).__name__, None, [_flatten(v, leaves) for v in tree])
    leaves.append(tree)
    return LEAF


def tree_unflatten(leaves, spec):
    """The pytree of ``spec`` with its leaves taken in order from ``leaves``.

    Example:
        >>> leaves, spec = tree_flatten([1, (2, 3)])
        >>> tree_unflatten([4, 5, 6], spec)
        [4, (5, 6)]
    """
    it = iter(leaves)
    return _build(spec, it)


def _build(spec, it):
    if spec is LEAF or spec == LEAF:
        return next(it)
    kind, aux, children = spec
    vals = [_build(c, it) for c in children]
    if kind == "dict":
        return dict(zip(aux, vals))
    if kind == "namedtuple":
        return aux(*vals)
    return tuple(vals) if kind == "tuple" else list(vals)


def tree_map(fn, tree):
    """Apply ``fn`` to every leaf of ``tree``.

    Example:
        >>> tree_map(lambda v: v * 10, {"a": (1, 2)})
        {'a': (10, 20)}
    """
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(v) for v in leaves], spec)


def broadcast_prefix(prefix, spec, what):
    """One value per leaf of ``spec``: ``prefix`` is a pytree whose leaves stand for whole subtrees.

    Example:
        >>> broadcast_prefix((0, None), tree_flatten((1, [2, 3]))[1], "in_dims")
        [0, None, None]
    """
    out = []
    _bcast(prefix, spec, out, what)
    return out


def _bcast(prefix, spec, out, what):
    if spec == LEAF or not isinstance(prefix, (tuple, list, dict)):
        if isinstance(prefix, (tuple, list, dict)):
            raise ValueError(f"{what}: the structure {prefix!r} does not match the inputs: a container "
                             "stands where the input is a single value")
        out.extend([prefix] * _count(spec))
        return
    kind, aux, children = spec
    if isinstance(prefix, dict) != (kind == "dict"):
        raise ValueError(f"{what}: the structure {prefix!r} does not match a {kind} input")
    if kind == "dict":
        if set(prefix) != set(aux):
            raise ValueError(f"{what}: the keys {sorted(prefix)} do not match the input's keys {sorted(aux)}")
        for k, c in zip(aux, children):
            _bcast(prefix[k], c, out, what)
        return
    if len(prefix) != len(children):
        raise ValueError(f"{what}: the structure has {len(prefix)} entries but the input has "
                         f"{len(children)}")
    for p, c in zip(prefix, children):
        _bcast(p, c, out, what)


def _count(spec):
    if spec == LEAF:
        return 1
    return sum(_count(c) for c in spec[2])
