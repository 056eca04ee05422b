"""``nn.functional.pdist``: the pairwise row distances, which PyTorch exposes both as ``torch.pdist`` and here
(one function, ops/math_extra.py)."""
from ...ops.math_extra import pdist

__all__ = ["pdist"]
