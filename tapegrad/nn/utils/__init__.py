"""``tapegrad.nn.utils``: helpers around modules, as ``torch.nn.utils`` (``rnn``: padding and packing sequences)."""
from . import rnn  # noqa: F401
