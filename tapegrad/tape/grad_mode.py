"""Grad mode: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``is_grad_enabled`` (thread-local).

It lives in the tape layer (Note [the tape floor] in tape/__init__.py): every op reads it.
"""
import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "is_inference_mode_enabled"]


class _State(threading.local):
    def __init__(self):
        self.enabled = True
        self.inference = False


STATE = _State()   # read on the hot path by ops.registry.apply


def is_grad_enabled():
    """Return True if ops are currently recorded on the tape.

    Example:
        >>> import tapegrad
        >>> tapegrad.is_grad_enabled()
        True
    """
    return STATE.enabled


class _Mode:
    """Base of the grad-mode context managers; usable as decorators too."""
    _enter_value = True

    def __enter__(self):
        self._prev = STATE.enabled
        STATE.enabled = self._enter_value

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_Mode):
    """Context manager and decorator that turns recording off.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2, requires_grad=True)
        >>> with tapegrad.no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """
    _enter_value = False


class enable_grad(_Mode):
    """Context manager and decorator that turns recording on (inside ``no_grad``).

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2, requires_grad=True)
        >>> with tapegrad.no_grad():
        ...     with tapegrad.enable_grad():
        ...         y = x * 2
        >>> y.requires_grad
        True
    """
    _enter_value = True


class set_grad_enabled(_Mode):
    """Set grad mode on or off: as a function, a context manager, or a decorator.

    Example:
        >>> import tapegrad
        >>> with tapegrad.set_grad_enabled(False):
        ...     tapegrad.is_grad_enabled()
        False
    """

    def __init__(self, mode):
        self._prev = STATE.enabled
        self._enter_value = bool(mode)
        STATE.enabled = bool(mode)

    def __enter__(self):
        STATE.enabled = self._enter_value

    def __call__(self, fn):
        mode = self._enter_value
        STATE.enabled = self._prev

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


def is_inference_mode_enabled():
    """Return True inside ``inference_mode()``.

    Example:
        >>> import tapegrad
        >>> with tapegrad.inference_mode():
        ...     tapegrad.is_inference_mode_enabled()
        True
    """
    return STATE.inference


class inference_mode:
    """Context manager and decorator for inference: recording off, as ``no_grad``.

    PyTorch's inference mode also skips version counting on the tensors made
    inside it; tapegrad's version counters cost nothing worth skipping, so
    here it is ``no_grad`` plus the flag ``is_inference_mode_enabled()``.
    ``inference_mode(False)`` leaves grad mode as it is. Usable as
    ``@inference_mode()``, ``@inference_mode`` or ``with inference_mode():``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2, requires_grad=True)
        >>> with tapegrad.inference_mode():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    def __new__(cls, mode=True):
        if callable(mode):                       # @inference_mode without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        self._prev = (STATE.enabled, STATE.inference)
        STATE.inference = self.mode
        if self.mode:
            STATE.enabled = False
        return self

    def __exit__(self, *exc):
        STATE.enabled, STATE.inference = self._prev
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)
        return wrapper
