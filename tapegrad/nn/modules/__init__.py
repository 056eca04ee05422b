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
