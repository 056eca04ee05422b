"""``tapegrad.nn.utils.rnn``, as ``torch.nn.utils.rnn``: padding and packing variable-length sequences.

The code lives in ``tapegrad/nn/_rnn_utils.py``, below ``nn.modules`` (the
recurrent modules take ``PackedSequence``), so importing the modules never
imports this package, whose other parts (parametrize) build on the modules.
"""
from .._rnn_utils import *  # noqa: F401,F403
from .._rnn_utils import __all__  # noqa: F401
