"""Autograd: the engine entry points, grad mode, custom Functions, gradcheck, anomaly mode.

``tapegrad.autograd.backward`` and ``tapegrad.autograd.grad`` are the two
ways to run the reverse sweep.
"""
from .grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled
from .anomaly import detect_anomaly, set_detect_anomaly
from .api import backward, grad
from .gradcheck import gradcheck, gradgradcheck

__all__ = ["backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "detect_anomaly", "set_detect_anomaly", "gradcheck", "gradgradcheck"]
