"""``python -m benchmarks``: see ``benchmarks/run.py``.

Threads are pinned (inside ``main``, before NumPy is imported) from ``--threads``.
"""
import sys

from .run import main

sys.exit(main())
