"""Normalization functions of ``nn.functional``: ``layer_norm`` (one recorded op, tapegrad/ops/normalization.py)."""
from ...ops.normalization import layer_norm  # noqa: F401  (one definition: a recorded primitive)

__all__ = ["layer_norm"]
