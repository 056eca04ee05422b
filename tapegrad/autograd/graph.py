"""Old import path of the public node face, kept as a re-export: ``Node``, ``AccumulateGrad``
and ``walk`` live in ``tapegrad/tape/node.py`` (Note [node view] there)."""
from ..tape.node import Node, AccumulateGrad, node_view, walk  # noqa: F401
from .engine import queue_callback

__all__ = ["AccumulateGrad", "node_view", "walk", "queue_callback"]
