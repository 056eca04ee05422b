"""Basic layers: ``Identity``, ``Linear``, ``Flatten``, ``Dropout``, ``Embedding``."""
import math

from ... import _creation as C
from ... import backend as B
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["Identity", "Linear", "Flatten", "Dropout", "Embedding"]


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Identity()(tapegrad.ones(2))
        tensor([1., 1.])
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """``y = x @ W.T + b`` with PyTorch's default initialization.

    ``weight`` ``(out_features, in_features)`` is kaiming-uniform with
    ``a=sqrt(5)``, i.e. U(-1/sqrt(in), 1/sqrt(in)); ``bias`` is U(-1/sqrt(in), 1/sqrt(in)).

    Example:
        >>> import tapegrad
        >>> layer = tapegrad.nn.Linear(3, 2)
        >>> layer
        Linear(in_features=3, out_features=2, bias=True)
        >>> layer(tapegrad.ones(5, 3)).shape
        tapegrad.Size([5, 2])
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        for n, v in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"Linear: {n} must be a non-negative int, got {v!r}")
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(C.empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(C.empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw weight and bias from PyTorch's default distributions."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """Flatten dims ``start_dim..end_dim`` into one.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.Flatten()(tapegrad.zeros(2, 3, 4)).shape
        tapegrad.Size([2, 12])
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        shape = tuple(input.shape)
        n = max(len(shape), 1)
        s, e = self.start_dim, self.end_dim
        if not (-n <= s < n and -n <= e < n):
            raise IndexError(f"Flatten: start_dim={s}, end_dim={e} out of range for an input of shape {shape}")
        s, e = s % n, e % n
        if s > e:
            raise RuntimeError(f"Flatten: start_dim ({s}) cannot come after end_dim ({e})")
        if not shape:
            return input.reshape((1,))
        mid = 1
        for d in shape[s:e + 1]:
            mid *= d
        return input.reshape(shape[:s] + (mid,) + shape[e + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Randomly zero elements with probability ``p`` while training (scaling the rest by 1/(1-p)).

    Example:
        >>> import tapegrad
        >>> d = tapegrad.nn.Dropout(0.5).eval()
        >>> d(tapegrad.ones(3))
        tensor([1., 1., 1.])
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``, initialized N(0, 1).

    The row ``padding_idx`` (if given) starts at zero and receives no gradient.

    Example:
        >>> import tapegrad
        >>> emb = tapegrad.nn.Embedding(10, 3, padding_idx=0)
        >>> emb(tapegrad.tensor([[0, 4]])).shape
        tapegrad.Size([1, 2, 3])
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, _weight=None, device=None, dtype=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx={padding_idx} must be within num_embeddings "
                                 f"({num_embeddings})")
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        if _weight is not None:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {tuple(_weight.shape)}, expected "
                                 f"{(num_embeddings, embedding_dim)}")
            self.weight = Parameter(_weight)
        else:
            self.weight = Parameter(C.empty(num_embeddings, embedding_dim, dtype=dtype, device=device))
            self.reset_parameters()

    def reset_parameters(self):
        """Re-draw the table from N(0, 1), zeroing the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            a = self.weight._data
            B.BY_TYPE[type(a)].setitem(a, self.padding_idx, 0)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
