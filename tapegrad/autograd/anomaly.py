"""Old import path of anomaly mode, kept as a re-export: it lives in ``tapegrad/tape/anomaly.py``
(Note [the tape floor] in tape/__init__.py)."""
from ..tape.anomaly import (ENABLED, detect_anomaly, set_detect_anomaly, is_anomaly_enabled,  # noqa: F401
                            check_forward, check_backward)

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]
