"""``nn.functional.pdist``: the pairwise row distances, which PyTorch exposes both as ``torch.pdist`` and here
(one function, ops/numeric_extra.py)."""
from ...ops.numeric_extra import pdist

__all__ = ["pdist"]
