"""The ``torch.*`` aliases of ``nn.functional`` ops that PyTorch programs call (``torch.conv2d``,
``torch.max_pool2d``, ``torch.batch_norm``, ``torch.selu_`` ...), with torch's own signatures
(``torch.batch_norm``'s weight-first order); the dropouts are in tapegrad/_torch_dropout.py.

``nn`` is a lazily loaded subpackage one floor up; each function imports
``nn.functional`` when called (a lazy import, so ``import tapegrad`` stays
light), then calls the op it names.
"""

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "max_pool1d",
           "max_pool2d", "max_pool3d", "avg_pool1d", "adaptive_avg_pool1d", "batch_norm", "instance_norm",
           "group_norm", "rms_norm", "pixel_shuffle", "pixel_unshuffle",
           "cosine_similarity", "pairwise_distance", "prelu", "selu", "selu_", "celu", "celu_", "threshold",
           "threshold_", "hardshrink", "bilinear", "constant_pad_nd"]


def _F():
    from .nn import functional
    return functional


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (``nn.functional.conv1d``).

    Example:
        >>> import tapegrad
        >>> tapegrad.conv1d(tapegrad.ones(1, 1, 4), tapegrad.ones(1, 1, 2))
        tensor([[[2., 2., 2.]]])
    """
    return _F().conv1d(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (``nn.functional.conv2d``).

    Example:
        >>> import tapegrad
        >>> tapegrad.conv2d(tapegrad.ones(1, 1, 3, 3), tapegrad.ones(1, 1, 2, 2)).shape
        tapegrad.Size([1, 1, 2, 2])
    """
    return _F().conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution (``nn.functional.conv3d``).

    Example:
        >>> import tapegrad
        >>> tapegrad.conv3d(tapegrad.ones(1, 1, 3, 3, 3), tapegrad.ones(2, 1, 2, 2, 2)).shape
        tapegrad.Size([1, 2, 2, 2, 2])
    """
    return _F().conv3d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution (``nn.functional.conv_transpose1d``).

    Example:
        >>> import tapegrad
        >>> tapegrad.conv_transpose1d(tapegrad.ones(1, 1, 2), tapegrad.ones(1, 1, 2))
        tensor([[[1., 2., 1.]]])
    """
    return _F().conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution (``nn.functional.conv_transpose2d``).

    Example:
        >>> import tapegrad
        >>> tapegrad.conv_transpose2d(tapegrad.ones(1, 1, 2, 2), tapegrad.ones(1, 3, 2, 2), stride=2).shape
        tapegrad.Size([1, 3, 4, 4])
    """
    return _F().conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution (``nn.functional.conv_transpose3d``).

    Example:
        >>> import tapegrad
        >>> tapegrad.conv_transpose3d(tapegrad.ones(1, 1, 2, 2, 2), tapegrad.ones(1, 1, 2, 2, 2)).shape
        tapegrad.Size([1, 1, 3, 3, 3])
    """
    return _F().conv_transpose3d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """1-D max pooling (``nn.functional.max_pool1d`` without indices).

    Example:
        >>> import tapegrad
        >>> tapegrad.max_pool1d(tapegrad.tensor([[1.0, 3.0, 2.0, 0.0]]), 2)
        tensor([[3., 2.]])
    """
    return _F().max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """2-D max pooling (``nn.functional.max_pool2d`` without indices).

    Example:
        >>> import tapegrad
        >>> tapegrad.max_pool2d(tapegrad.arange(16.0).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    return _F().max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """3-D max pooling (``nn.functional.max_pool3d`` without indices).

    Example:
        >>> import tapegrad
        >>> tapegrad.max_pool3d(tapegrad.arange(8.0).reshape(1, 1, 2, 2, 2), 2).flatten()
        tensor([7.])
    """
    return _F().max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling (``nn.functional.avg_pool1d``).

    Example:
        >>> import tapegrad
        >>> tapegrad.avg_pool1d(tapegrad.tensor([[1.0, 3.0, 2.0, 0.0]]), 2)
        tensor([[2., 1.]])
    """
    return _F().avg_pool1d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def adaptive_avg_pool1d(input, output_size):
    """1-D adaptive average pooling (``nn.functional.adaptive_avg_pool1d``).

    Example:
        >>> import tapegrad
        >>> tapegrad.adaptive_avg_pool1d(tapegrad.tensor([[1.0, 3.0, 2.0, 0.0]]), 1)
        tensor([[1.5000]])
    """
    return _F().adaptive_avg_pool1d(input, output_size)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    """Batch normalization with ``torch.batch_norm``'s argument order (``cudnn_enabled`` is accepted, unused).

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([[1.0], [3.0]])
        >>> tapegrad.batch_norm(x, None, None, None, None, True, 0.1, 0.0, False)
        tensor([[-1.],
                [ 1.]])
    """
    return _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    """Instance normalization with ``torch.instance_norm``'s argument order (``cudnn_enabled`` unused).

    Example:
        >>> import tapegrad
        >>> tapegrad.instance_norm(tapegrad.tensor([[[1.0, 3.0]]]), None, None, None, None, True, 0.1, 0.0, False)
        tensor([[[-1.,  1.]]])
    """
    return _F().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    """Group normalization (``nn.functional.group_norm``; ``cudnn_enabled`` is accepted, unused).

    Example:
        >>> import tapegrad
        >>> tapegrad.group_norm(tapegrad.tensor([[1.0, 3.0]]), 1, eps=0.0)
        tensor([[-1.,  1.]])
    """
    return _F().group_norm(input, num_groups, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """RMS normalization over the last dims (``nn.functional.rms_norm``).

    Example:
        >>> import tapegrad
        >>> tapegrad.rms_norm(tapegrad.tensor([[3.0, 4.0]]), (2,), eps=0.0)
        tensor([[0.8485, 1.1314]])
    """
    return _F().rms_norm(input, normalized_shape, weight, eps)


def pixel_shuffle(input, upscale_factor):
    """``(*, C r^2, H, W) -> (*, C, H r, W r)`` (``nn.functional.pixel_shuffle``).

    Example:
        >>> import tapegrad
        >>> tapegrad.pixel_shuffle(tapegrad.ones(1, 4, 2, 2), 2).shape
        tapegrad.Size([1, 1, 4, 4])
    """
    return _F().pixel_shuffle(input, upscale_factor)


def pixel_unshuffle(input, downscale_factor):
    """``(*, C, H r, W r) -> (*, C r^2, H, W)`` (``nn.functional.pixel_unshuffle``).

    Example:
        >>> import tapegrad
        >>> tapegrad.pixel_unshuffle(tapegrad.ones(1, 1, 4, 4), 2).shape
        tapegrad.Size([1, 4, 2, 2])
    """
    return _F().pixel_unshuffle(input, downscale_factor)


def cosine_similarity(x1, x2, dim=1, eps=1e-08):
    """Cosine similarity along ``dim`` (``nn.functional.cosine_similarity``).

    Example:
        >>> import tapegrad
        >>> tapegrad.cosine_similarity(tapegrad.tensor([[1.0, 0.0]]), tapegrad.tensor([[1.0, 1.0]]))
        tensor([0.7071])
    """
    return _F().cosine_similarity(x1, x2, dim, eps)


def pairwise_distance(x1, x2, p=2.0, eps=1e-06, keepdim=False):
    """The ``p``-norm distance between rows (``nn.functional.pairwise_distance``).

    Example:
        >>> import tapegrad
        >>> tapegrad.pairwise_distance(tapegrad.tensor([[0.0, 0.0]]), tapegrad.tensor([[3.0, 4.0]]), eps=0.0)
        tensor([5.])
    """
    return _F().pairwise_distance(x1, x2, p, eps, keepdim)


def prelu(input, weight):
    """``max(0, x) + weight * min(0, x)`` (``nn.functional.prelu``).

    Example:
        >>> import tapegrad
        >>> tapegrad.prelu(tapegrad.tensor([-2.0, 2.0]), tapegrad.tensor([0.25]))
        tensor([-0.5000,  2.0000])
    """
    return _F().prelu(input, weight)


def selu(input, inplace=False):
    """The scaled ELU (``nn.functional.selu``).

    Example:
        >>> import tapegrad
        >>> tapegrad.selu(tapegrad.tensor([0.0, 1.0]))
        tensor([0.0000, 1.0507])
    """
    return _F().selu(input, inplace)


def selu_(input):
    """In-place ``selu``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([1.0])
        >>> tapegrad.selu_(x) is x
        True
    """
    return _F().selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    """The continuously differentiable ELU (``nn.functional.celu``).

    Example:
        >>> import tapegrad
        >>> tapegrad.celu(tapegrad.tensor([1.0]))
        tensor([1.])
    """
    return _F().celu(input, alpha, inplace)


def celu_(input, alpha=1.0):
    """In-place ``celu``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([1.0])
        >>> tapegrad.celu_(x) is x
        True
    """
    return _F().celu(input, alpha, True)


def threshold(input, threshold, value, inplace=False):
    """``input`` where it exceeds ``threshold``, else ``value`` (``nn.functional.threshold``).

    Example:
        >>> import tapegrad
        >>> tapegrad.threshold(tapegrad.tensor([0.5, 2.0]), 1.0, -1.0)
        tensor([-1.,  2.])
    """
    return _F().threshold(input, threshold, value, inplace)


def threshold_(input, threshold, value):
    """In-place ``threshold``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([0.5, 2.0])
        >>> tapegrad.threshold_(x, 1.0, 0.0) is x
        True
    """
    return _F().threshold(input, threshold, value, True)


def hardshrink(input, lambd=0.5):
    """``input`` where ``|input| > lambd``, else 0 (``nn.functional.hardshrink``).

    Example:
        >>> import tapegrad
        >>> tapegrad.hardshrink(tapegrad.tensor([0.25, -1.0]))
        tensor([ 0., -1.])
    """
    return _F().hardshrink(input, lambd)


def bilinear(input1, input2, weight, bias=None):
    """``x1^T A x2 + b`` (``nn.functional.bilinear``).

    Example:
        >>> import tapegrad
        >>> tapegrad.bilinear(tapegrad.ones(1, 2), tapegrad.ones(1, 3), tapegrad.ones(4, 2, 3)).shape
        tapegrad.Size([1, 4])
    """
    return _F().bilinear(input1, input2, weight, bias)


def constant_pad_nd(input, pad, value=0):
    """Pad with a constant (``nn.functional.pad(input, pad, "constant", value)``).

    Example:
        >>> import tapegrad
        >>> tapegrad.constant_pad_nd(tapegrad.ones(2), (1, 0), 9.0)
        tensor([9., 1., 1.])
    """
    return _F().pad(input, pad, "constant", value)


METHODS = {"hardshrink": hardshrink, "prelu": prelu}
