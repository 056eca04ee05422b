"""The layer, activation, loss and recurrent-cell modules of ``tapegrad.nn``."""
from .container import Sequential, ModuleList, ModuleDict
from .layers import Identity, Linear, Flatten, Dropout, Embedding
from .activations import ReLU, Tanh, Sigmoid, GELU, Softmax, LogSoftmax
from .losses import MSELoss, L1Loss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss
from .rnn import RNNCell, LSTMCell

__all__ = ["Sequential", "ModuleList", "ModuleDict", "Identity", "Linear", "Flatten", "Dropout", "Embedding",
           "ReLU", "Tanh", "Sigmoid", "GELU", "Softmax", "LogSoftmax", "MSELoss", "L1Loss", "CrossEntropyLoss",
           "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "RNNCell", "LSTMCell"]
