"""Old import path of grad mode, kept as a re-export: it lives in ``tapegrad/tape/grad_mode.py``
(Note [the tape floor] in tape/__init__.py)."""
from ..tape.grad_mode import STATE, no_grad, enable_grad, set_grad_enabled, is_grad_enabled  # noqa: F401

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]
