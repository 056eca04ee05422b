"""Autograd: the engine entry points, grad mode, custom Functions, gradcheck, functional API, anomaly mode,
tape views.

``tapegrad.autograd.backward`` and ``tapegrad.autograd.grad`` are the two
ways to run the reverse sweep.
"""
from ..tape.grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled
from ..tape.anomaly import detect_anomaly, set_detect_anomaly
from .api import backward, grad
from .gradcheck import gradcheck, gradgradcheck
from .function import Function, FunctionCtx
from .export import format_tape, to_dot
from . import functional
from .variable import Variable
from . import forward_ad  # noqa: F401  (tapegrad.autograd.forward_ad, as torch)

__all__ = ["Variable", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "detect_anomaly", "set_detect_anomaly", "gradcheck", "gradgradcheck", "Function", "FunctionCtx",
           "functional", "format_tape", "to_dot"]
