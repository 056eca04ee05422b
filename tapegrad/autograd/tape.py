"""Old import path of the tape's text listing and DOT export, kept as a re-export: the module is
``tapegrad/autograd/export.py`` (one thing is called "tape": the recording layer, ``tapegrad/tape/``)."""
from .export import format_tape, to_dot  # noqa: F401

__all__ = ["format_tape", "to_dot"]
