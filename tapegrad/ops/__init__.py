"""Every op, declared once with its forward and VJP, grouped by family.

Importing this package registers all ops in ``registry.REGISTRY``.
"""
from . import registry
from .registry import REGISTRY, apply, op, sum_to
from . import elementwise  # noqa: F401  (registers ops)
from . import reduction, shape, linalg  # noqa: F401,E402
