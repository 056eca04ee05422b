"""The layer, activation, loss and recurrent-cell modules of ``tapegrad.nn``."""
from .container import Sequential, ModuleList, ModuleDict
from .linear import Identity, Linear
from .flatten import Flatten
from .dropout import Dropout
from .sparse import Embedding
from .activation import ReLU, Tanh, Sigmoid, GELU, Softmax, LogSoftmax
from .loss import MSELoss, L1Loss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss
from .rnn import RNNCell, LSTMCell

__all__ = ["Sequential", "ModuleList", "ModuleDict", "Identity", "Linear", "Flatten", "Dropout", "Embedding",
           "ReLU", "Tanh", "Sigmoid", "GELU", "Softmax", "LogSoftmax", "MSELoss", "L1Loss", "CrossEntropyLoss",
           "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "RNNCell", "LSTMCell"]
from ._attention import MultiheadAttention  # noqa: E402
__all__ += ["MultiheadAttention"]
from .normalization import LayerNorm
__all__ += ["LayerNorm"]
from .transformer import (Transformer, TransformerEncoder, TransformerDecoder, TransformerEncoderLayer,  # noqa: E402
                          TransformerDecoderLayer)
__all__ += ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
            "TransformerDecoderLayer"]
from .rnn import GRUCell, RNNBase, RNN, LSTM, GRU  # noqa: E402
__all__ += ["GRUCell", "RNNBase", "RNN", "LSTM", "GRU"]
from .padding import *  # noqa: F401,F403,E402
from . import padding as _padding  # noqa: E402
__all__ += _padding.__all__
from .conv import *  # noqa: F401,F403,E402
from .fold import *  # noqa: F401,F403,E402
from . import conv as _conv, fold as _fold  # noqa: E402
__all__ += _conv.__all__ + _fold.__all__
from .container import ParameterList, ParameterDict  # noqa: E402
__all__ += ["ParameterList", "ParameterDict"]
from .loss import (SmoothL1Loss, HuberLoss, KLDivLoss, PoissonNLLLoss, GaussianNLLLoss, SoftMarginLoss,  # noqa: E402
                   MultiLabelSoftMarginLoss, CosineEmbeddingLoss, MarginRankingLoss, TripletMarginLoss,
                   HingeEmbeddingLoss, MultiMarginLoss, MultiLabelMarginLoss, CTCLoss)
from .dropout import Dropout1d, Dropout2d, Dropout3d, AlphaDropout, FeatureAlphaDropout  # noqa: E402
from .sparse import EmbeddingBag  # noqa: E402
from .linear import Bilinear  # noqa: E402
from .flatten import Unflatten  # noqa: E402
from .distance import PairwiseDistance, CosineSimilarity  # noqa: E402
__all__ += ["SmoothL1Loss", "HuberLoss", "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss", "SoftMarginLoss",
            "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss", "MarginRankingLoss", "TripletMarginLoss",
            "HingeEmbeddingLoss", "MultiMarginLoss", "MultiLabelMarginLoss", "CTCLoss", "Dropout1d", "Dropout2d",
            "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "EmbeddingBag", "Bilinear", "Unflatten",
            "PairwiseDistance", "CosineSimilarity"]
from .normalization import LayerNorm, GroupNorm, RMSNorm, LocalResponseNorm
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
__all__ += ["LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d",
            "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]
from .activation import (LeakyReLU, PReLU, ReLU6, ELU, SELU, CELU, SiLU, Mish, Softplus, Softsign, Hardtanh,
                         Hardswish, Hardsigmoid, Tanhshrink, Softshrink, Hardshrink, Threshold, GLU, LogSigmoid,
                         Softmin, Softmax2d)
__all__ += ["LeakyReLU", "PReLU", "ReLU6", "ELU", "SELU", "CELU", "SiLU", "Mish", "Softplus", "Softsign", "Hardtanh",
            "Hardswish", "Hardsigmoid", "Tanhshrink", "Softshrink", "Hardshrink", "Threshold", "GLU", "LogSigmoid",
            "Softmin", "Softmax2d"]
from .pooling import *  # noqa: F401,F403,E402
from . import pooling as _pooling  # noqa: E402
__all__ += _pooling.__all__
from .upsampling import *  # noqa: F401,F403,E402
from .pixelshuffle import *  # noqa: F401,F403,E402
from . import upsampling as _upsampling, pixelshuffle as _pixelshuffle  # noqa: E402
__all__ += _upsampling.__all__ + _pixelshuffle.__all__
from .channelshuffle import ChannelShuffle  # noqa: E402
__all__ += ["ChannelShuffle"]
