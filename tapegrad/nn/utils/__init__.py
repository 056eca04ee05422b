"""``tapegrad.nn.utils``, as ``torch.nn.utils``: gradient clipping, parameter/vector conversion,
parametrizations, weight and spectral norm, and ``rnn`` (padding and packing sequences)."""
from . import rnn  # noqa: F401
from . import clip_grad, convert_parameters, parametrize, parametrizations  # noqa: F401
from .clip_grad import (clip_grad_norm_, clip_grad_norm, clip_grad_value_, get_total_norm,  # noqa: F401
                        clip_grads_with_norm_)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from .weight_norm import weight_norm, remove_weight_norm  # noqa: F401
from .spectral_norm import spectral_norm, remove_spectral_norm  # noqa: F401
