"""Indexing: __getitem__ (ints, slices, None, Ellipsis, bool masks, integer arrays), gather,
index_select, masked_fill, and their scatter-add gradients."""
from .registry import op, apply

__all__ = []
METHODS = {}
