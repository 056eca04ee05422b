"""``Embedding`` and ``EmbeddingBag`` (``torch.nn.modules.sparse``)."""
from ... import _creation as C
from ... import backend as B
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["Embedding", "EmbeddingBag"]


def _padding(padding_idx, num_embeddings, cls):
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{cls}: padding_idx={padding_idx} must be within num_embeddings ({num_embeddings})")
    return padding_idx % num_embeddings


def _table(self, num_embeddings, embedding_dim, _weight, _freeze, device, dtype, cls):
    if _weight is not None:
        if tuple(_weight.shape) != (num_embeddings, embedding_dim):
            raise ValueError(f"{cls}: _weight has shape {tuple(_weight.shape)}, expected "
                             f"{(num_embeddings, embedding_dim)}")
        self.weight = Parameter(_weight, requires_grad=not _freeze)     # shares _weight's storage, as PyTorch
    else:
        self.weight = Parameter(C.empty(num_embeddings, embedding_dim, dtype=dtype, device=device),
                                requires_grad=not _freeze)
        self.reset_parameters()


def _reset(self):
    init.normal_(self.weight)
    if self.padding_idx is not None:
        a = self.weight._data
        B.BY_TYPE[type(a)].setitem(a, self.padding_idx, 0)


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``, initialized N(0, 1).

    The row ``padding_idx`` (if given) starts at zero and receives no gradient; ``max_norm`` renormalizes
    the looked-up rows in place; ``scale_grad_by_freq`` divides row gradients by their count in the input.

    Example:
        >>> import tapegrad
        >>> emb = tapegrad.nn.Embedding(10, 3, padding_idx=0)
        >>> emb(tapegrad.tensor([[0, 4]])).shape
        tapegrad.Size([1, 2, 3])
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _padding(padding_idx, num_embeddings, "Embedding")
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        _table(self, num_embeddings, embedding_dim, _weight, _freeze, device, dtype, "Embedding")

    def reset_parameters(self):
        """Re-draw the table from N(0, 1), zeroing the padding row."""
        _reset(self)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An ``Embedding`` whose table is ``embeddings`` (shared, not copied); frozen unless ``freeze=False``.

        Example:
            >>> import tapegrad
            >>> emb = tapegrad.nn.Embedding.from_pretrained(tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]]))
            >>> emb(tapegrad.tensor([1])), emb.weight.requires_grad
            (tensor([[3., 4.]]), False)
        """
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings (``F.embedding_bag``), table initialized N(0, 1).

    Example:
        >>> import tapegrad
        >>> bag = tapegrad.nn.EmbeddingBag(10, 3, mode="sum")
        >>> bag
        EmbeddingBag(10, 3, mode='sum')
        >>> bag(tapegrad.tensor([1, 2, 4, 5]), tapegrad.tensor([0, 2])).shape
        tapegrad.Size([2, 3])
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None, device=None,
                 dtype=None):
        super().__init__()
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode has to be one of sum, mean or max, got {mode!r}")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset
        self.padding_idx = _padding(padding_idx, num_embeddings, "EmbeddingBag")
        _table(self, num_embeddings, embedding_dim, _weight, False, device, dtype, "EmbeddingBag")

    def reset_parameters(self):
        """Re-draw the table from N(0, 1), zeroing the padding row."""
        _reset(self)

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset,
                               self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm!r}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type!r}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq!r}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx!r}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        """An ``EmbeddingBag`` over the table ``embeddings`` (shared); frozen unless ``freeze=False``.

        Example:
            >>> import tapegrad
            >>> bag = tapegrad.nn.EmbeddingBag.from_pretrained(tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]]))
            >>> bag(tapegrad.tensor([[0, 1]]))
            tensor([[2., 3.]])
        """
        if embeddings.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-D, got shape "
                             f"{tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm=max_norm, norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq,
                  mode=mode, sparse=sparse, _weight=embeddings, include_last_offset=include_last_offset,
                  padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
