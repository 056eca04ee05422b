"""``PairwiseDistance`` and ``CosineSimilarity`` (``torch.nn.modules.distance``)."""
from .. import functional as F
from ..module import Module

__all__ = ["PairwiseDistance", "CosineSimilarity"]


class PairwiseDistance(Module):
    """The p-norm of ``x1 - x2 + eps`` over the last dim.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.PairwiseDistance(eps=0.0)(tapegrad.tensor([[3.0, 4.0]]), tapegrad.zeros(1, 2))
        tensor([5.])
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """Cosine similarity of ``x1`` and ``x2`` along ``dim`` (each norm clamped at ``eps``).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.CosineSimilarity(dim=0)(tapegrad.tensor([1.0, 0.0]), tapegrad.tensor([2.0, 0.0]))
        tensor(1.)
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
