"""``alias``: a public alias (``clip`` for ``clamp``) with its own name and docstring.

The alias is a copy of the function object (the same code, defaults and
globals), so calling it costs exactly what calling the original costs, its
signature is the original's, and ``help(tapegrad.clip)`` names ``clip``. Its
globals are the original's module, so pytest's ``--doctest-modules`` collects
its example from the module that defines both names.
"""
import types

__all__ = ["alias"]


def alias(fn, name, example, result):
    """Return a copy of ``fn`` named ``name`` whose docstring says whose alias it is.

    Args:
        fn: the function aliased (a plain Python function).
        name: the alias's public name.
        example: one doctest line calling the alias; ``result`` is what it prints.

    Example:
        >>> from tapegrad.ops._alias import alias
        >>> def double(x):
        ...     '''Twice x.'''
        ...     return 2 * x
        >>> twice = alias(double, "twice", "twice(2)", "4")
        >>> twice.__name__, twice(3)
        ('twice', 6)
        >>> print(twice.__doc__.splitlines()[0])
        Alias of ``double``: twice x.
    """
    f = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    f.__kwdefaults__ = dict(fn.__kwdefaults__) if fn.__kwdefaults__ else None
    f.__module__ = fn.__module__
    f.__qualname__ = name
    summary = fn.__doc__.strip().splitlines()[0] if fn.__doc__ else ""
    if summary[1:2].islower():          # "True division" -> "Alias of ``div``: true division"
        summary = summary[0].lower() + summary[1:]
    f.__doc__ = f"""Alias of ``{fn.__name__}``: {summary}

    Example:
        >>> import tapegrad
        >>> {example}
        {result}
    """
    return f
