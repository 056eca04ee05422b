"""Conv, ConvTranspose, padding, Unfold and Fold layers against PyTorch (the oracle).

Each pair is built with the same arguments, given identical weights, and
compared on outputs, input and parameter gradients, ``repr``, ``state_dict``
keys and shapes, attributes, default initialization bounds and errors.
"""
import math

import numpy as np
import pytest

import tapegrad
from tapegrad import nn

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _copy_params(ours, theirs):
    with torch.no_grad():
        for (n, p), (m, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert n == m and tuple(p.shape) == tuple(q.shape)
            q.copy_(torch.from_numpy(p.detach().numpy().copy()))


def _compare(ours, theirs, x, tol=1e-5, **call):
    _copy_params(ours, theirs)
    tx = tapegrad.tensor(x, requires_grad=True)
    rx = torch.tensor(x, requires_grad=True)
    a, b = ours(tx, **call), theirs(rx, **call)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)
    g = RNG.standard_normal(tuple(b.shape)).astype(x.dtype)
    a.backward(tapegrad.tensor(g))
    b.backward(torch.tensor(g))
    np.testing.assert_allclose(tx.grad.numpy(), rx.grad.numpy(), rtol=tol, atol=tol)
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=tol, atol=tol, err_msg=n)
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


CONV_CASES = [
    ("Conv1d", (3, 4, 3), dict(), (2, 3, 9)),
    ("Conv1d", (4, 6, 2), dict(stride=2, padding=1, dilation=2, groups=2, bias=False), (4, 10)),
    ("Conv2d", (2, 4, 3), dict(padding="same", padding_mode="reflect"), (2, 2, 6, 5)),
    ("Conv2d", (2, 4, (2, 3)), dict(padding="same", dilation=(1, 2), padding_mode="circular"), (2, 2, 6, 7)),
    ("Conv2d", (4, 4, 3), dict(stride=(2, 1), padding=(1, 2), groups=4, padding_mode="replicate"), (1, 4, 7, 6)),
    ("Conv2d", (3, 2, 2), dict(padding="valid", padding_mode="zeros"), (3, 5, 5)),
    ("Conv2d", (2, 3, 4), dict(padding="same", padding_mode="zeros"), (1, 2, 6, 6)),
    ("Conv3d", (2, 2, 2), dict(padding=1, padding_mode="reflect", stride=2), (1, 2, 4, 3, 5)),
    ("Conv3d", (2, 4, (1, 2, 2)), dict(groups=2, dilation=(1, 2, 1)), (2, 4, 4, 5)),
]


@pytest.mark.parametrize("name,args,kw,shape", CONV_CASES)
def test_conv_matches_torch(name, args, kw, shape):
    tapegrad.manual_seed(0)
    _compare(getattr(nn, name)(*args, **kw).double(), getattr(torch.nn, name)(*args, **kw).double(),
             RNG.standard_normal(shape), tol=1e-10)


CONVT_CASES = [
    ("ConvTranspose1d", (3, 4, 3), dict(), (2, 3, 5), {}),
    ("ConvTranspose1d", (4, 2, 3), dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1), (4, 6), {}),
    ("ConvTranspose2d", (2, 4, 3), dict(stride=2, padding=1), (2, 2, 3, 4), {"output_size": (6, 8)}),
    ("ConvTranspose2d", (2, 2, (2, 3)), dict(stride=(1, 2), dilation=(2, 1), bias=False), (1, 2, 3, 3),
     {"output_size": (1, 2, 5, 8)}),
    ("ConvTranspose2d", (4, 2, 2), dict(dilation=3, output_padding=2), (1, 4, 2, 2), {}),
    ("ConvTranspose3d", (2, 2, 2), dict(stride=2, groups=2), (1, 2, 2, 3, 2), {}),
]


@pytest.mark.parametrize("name,args,kw,shape,call", CONVT_CASES)
def test_conv_transpose_matches_torch(name, args, kw, shape, call):
    tapegrad.manual_seed(0)
    _compare(getattr(nn, name)(*args, **kw).double(), getattr(torch.nn, name)(*args, **kw).double(),
             RNG.standard_normal(shape), tol=1e-10, **call)


@pytest.mark.parametrize("name", ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
                                  "ConvTranspose3d"])
def test_default_init_bounds_and_attributes(name):
    tapegrad.manual_seed(0)
    ours, theirs = getattr(nn, name)(6, 4, 3, groups=2), getattr(torch.nn, name)(6, 4, 3, groups=2)
    assert tuple(ours.weight.shape) == tuple(theirs.weight.shape)
    fan_in = theirs.weight.shape[1] * math.prod(theirs.weight.shape[2:])
    bound = 1 / math.sqrt(fan_in)       # kaiming_uniform(a=sqrt(5)) and the bias both give U(-1/sqrt(fan_in), ..)
    w, b = ours.weight.detach().numpy(), ours.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.8 * bound and w.std() > 0.45 * bound        # spread over the range, not a constant
    for attr in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "output_padding",
                 "groups", "padding_mode", "transposed", "_reversed_padding_repeated_twice"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert ours.weight.dtype == tapegrad.float32 and ours.bias.dtype == tapegrad.float32


def test_same_padding_attributes():
    for kw in (dict(kernel_size=4, padding="same", dilation=1), dict(kernel_size=(3, 2), padding="same",
                                                                       dilation=(2, 3))):
        ours, theirs = nn.Conv2d(1, 1, **kw), torch.nn.Conv2d(1, 1, **kw)
        assert ours.padding == theirs.padding
        assert list(ours._reversed_padding_repeated_twice) == list(theirs._reversed_padding_repeated_twice)


@pytest.mark.parametrize("call,exc,match", [
    (lambda m: m.Conv2d(3, 4, 3, groups=2), ValueError, "in_channels must be divisible by groups"),
    (lambda m: m.Conv2d(4, 3, 3, groups=2), ValueError, "out_channels must be divisible by groups"),
    (lambda m: m.Conv2d(4, 4, 3, groups=0), ValueError, "groups must be a positive integer"),
    (lambda m: m.Conv2d(4, 4, 3, padding="full"), ValueError, "Invalid padding string 'full'"),
    (lambda m: m.Conv2d(4, 4, 3, padding="same", stride=2), ValueError, "not supported for strided"),
    (lambda m: m.Conv2d(4, 4, 3, padding_mode="bar"), ValueError, "padding_mode must be one of"),
    (lambda m: m.ConvTranspose2d(4, 4, 3, padding_mode="reflect"), ValueError,
     'Only "zeros" padding mode is supported for ConvTranspose2d'),
])
def test_constructor_errors_match_torch(call, exc, match):
    for lib in (nn, torch.nn):
        with pytest.raises(exc, match=match):
            call(lib)


@pytest.mark.parametrize("size,match", [((9, 9), "requested an output size of"),
                                        ((4, 12, 12), "output_size must have 2 or 4 elements")])
def test_conv_transpose_output_size_errors(size, match):
    for lib, mod in ((tapegrad, nn), (torch, torch.nn)):
        m = mod.ConvTranspose2d(4, 4, 3)
        with pytest.raises(ValueError, match=match):
            m(lib.ones(1, 4, 5, 5), output_size=size)


# ---------------------------------------------------------------- functional errors, with torch's messages
def _conv_errors():
    x = np.ones((2, 4, 8, 8))
    return [
        (lambda F, t: F.conv2d(t(np.ones((2, 3))), t(np.ones((6, 3, 3, 3)))),
         r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: \[2, 3\]"),
        (lambda F, t: F.conv2d(t(x), t(np.ones((6, 3, 3, 3)))),
         r"Given groups=1, weight of size \[6, 3, 3, 3\], expected input\[2, 4, 8, 8\] to have 3 channels, but got "
         r"4 channels instead"),
        (lambda F, t: F.conv2d(t(np.ones((2, 3, 2, 2))), t(np.ones((6, 3, 3, 3)))),
         r"Calculated padded input size per channel: \(2 x 2\). Kernel size: \(3 x 3\). Kernel size can't be "
         r"greater than actual input size"),
        (lambda F, t: F.conv2d(t(x), t(np.ones((3, 2, 3, 3))), groups=2),
         r"Given groups=2, expected weight to be divisible by 2 at dimension 0"),
        (lambda F, t: F.conv2d(t(x), t(np.ones((6, 4, 3, 3))), padding="same", stride=2),
         "padding='same' is not supported for strided convolutions"),
        (lambda F, t: F.conv2d(t(x), t(np.ones((6, 4, 3, 3))), padding="foo"), "Invalid padding string: 'foo'"),
        (lambda F, t: F.conv2d(t(x), t(np.ones((6, 4, 3, 3))), stride=0), "non-positive stride is not supported"),
        (lambda F, t: F.conv2d(t(x), t(np.ones((6, 4, 3, 3))), padding=-1), "negative padding is not supported"),
        (lambda F, t: F.conv2d(t(x), t(np.ones((6, 4, 3, 3))), dilation=0), "non-positive dilation is not supported"),
        (lambda F, t: F.conv2d(t(x), t(np.ones((6, 4, 3, 3))), groups=0), "non-positive groups is not supported"),
        (lambda F, t: F.conv2d(t(x), t(np.ones((6, 4, 3, 3))), stride=(1, 2, 3)),
         r"expected stride to be a single integer value or a list of 2 values to match the convolution dimensions, "
         r"but got stride=\[1, 2, 3\]"),
        (lambda F, t: F.conv2d(t(x), t(np.ones((6, 4, 3, 3))), t(np.ones(5))),
         r"Given weight of size \[6, 4, 3, 3\], expected bias to be 1-dimensional with 6 elements, but got bias of "
         r"size \[5\] instead"),
        (lambda F, t: F.conv_transpose2d(t(x), t(np.ones((3, 3, 3, 3)))),
         r"Given transposed=1, weight of size \[3, 3, 3, 3\], expected input\[2, 4, 8, 8\] to have 3 channels"),
        (lambda F, t: F.conv_transpose2d(t(x), t(np.ones((4, 3, 3, 3))), stride=2, output_padding=2),
         "output padding must be smaller than either stride or dilation"),
        (lambda F, t: F.unfold(t(np.ones((2, 3, 4, 4))), 5), "calculated shape of the array of sliding blocks"),
        (lambda F, t: F.fold(t(np.ones((2, 13, 9))), (4, 4), 2),
         "Expected size of input's dimension 1 to be divisible by the product of kernel_size"),
        (lambda F, t: F.fold(t(np.ones((2, 12, 8))), (4, 4), 2),
         r"expected size of input's dimension 2 to match the calculated number of sliding blocks 3 \* 3 = 9"),
        (lambda F, t: F.unfold(t(np.ones((2, 3, 4, 4, 4))), 2), "Expected 3D or 4D"),
        (lambda F, t: F.fold(t(np.ones(12)), (4, 4), 2), "Expected 2D or 3D"),
    ]


@pytest.mark.parametrize("i", range(len(_conv_errors())))
def test_functional_errors_match_torch(i):
    fn, match = _conv_errors()[i]
    with pytest.raises(RuntimeError, match=match):
        fn(torch.nn.functional, lambda a: torch.tensor(a, dtype=torch.float32))
    with pytest.raises(RuntimeError, match=match):
        fn(nn.functional, lambda a: tapegrad.tensor(a, dtype=tapegrad.float32))


def test_dtype_mismatch_raises():
    with pytest.raises(RuntimeError, match="expected scalar type Double but found Float"):
        nn.functional.conv2d(tapegrad.ones(1, 1, 3, 3, dtype=tapegrad.float64), tapegrad.ones(1, 1, 2, 2))


def test_unbatched_and_empty_batches():
    w = RNG.standard_normal((4, 3, 2, 2))
    for shape in ((3, 5, 5), (0, 3, 5, 5)):
        x = RNG.standard_normal(shape)
        a = nn.functional.conv2d(tapegrad.tensor(x), tapegrad.tensor(w), padding=1)
        b = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1)
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-12)


# ---------------------------------------------------------------- padding layers
PAD_CASES = [("ZeroPad1d", (2,), (2, 3, 4)), ("ZeroPad2d", ((1, 0, 2, -1),), (1, 2, 3, 4)),
             ("ZeroPad3d", (1,), (1, 2, 2, 3)), ("ConstantPad1d", ((2, 1), 3.5), (3, 4)),
             ("ConstantPad2d", (1, -2.0), (2, 2, 3, 3)), ("ConstantPad3d", ((1, 0, 0, 1, 2, 0), 1.0), (1, 2, 2, 2)),
             ("ReflectionPad1d", (2,), (2, 3, 4)), ("ReflectionPad2d", ((1, 2, 0, 1),), (1, 3, 3)),
             ("ReflectionPad3d", (1,), (1, 1, 2, 3, 3)), ("ReplicationPad1d", ((3, 1),), (1, 2, 2)),
             ("ReplicationPad2d", (2,), (2, 1, 2, 3)), ("ReplicationPad3d", ((1, 0, 2, 1, 0, 1),), (1, 2, 2, 2)),
             ("CircularPad1d", (2,), (2, 2, 3)), ("CircularPad2d", ((1, 2, 2, 0),), (1, 2, 3, 3)),
             ("CircularPad3d", (1,), (1, 1, 2, 2, 2))]


@pytest.mark.parametrize("name,args,shape", PAD_CASES)
def test_padding_layers_match_torch(name, args, shape):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert ours.padding == theirs.padding and getattr(ours, "value", None) == getattr(theirs, "value", None)
    _compare(ours, theirs, RNG.standard_normal(shape), tol=1e-12)


@pytest.mark.parametrize("call,exc,match", [
    (lambda F, x: F.pad(x, (1,)), RuntimeError, "Padding length must be divisible by 2"),
    (lambda F, x: F.pad(x, (1,) * 8), RuntimeError, "Padding length should be less than or equal to two times"),
    (lambda F, x: F.pad(x, (1, 1), mode="reflect", value=1.0), RuntimeError,
     'Padding mode "reflect" doesn\'t take in value argument'),
    (lambda F, x: F.pad(x, (3, 3), mode="reflect"), RuntimeError,
     r"Padding size should be less than the corresponding input dimension, but got: padding \(3, 3\) at dimension "
     r"2 of input \[1, 2, 3\]"),
    (lambda F, x: F.pad(x, (4, 3), mode="circular"), RuntimeError, "wrapping around more than once"),
    (lambda F, x: F.pad(x[0, 0], (1, 1), mode="replicate"), NotImplementedError,
     "Padding size 2 is not supported for 1D input tensor"),
    (lambda F, x: F.pad(x, (1, 1, 1, 1, 1, 1, 1, 1)[:6], mode="reflect"), NotImplementedError,
     "Padding size 6 is not supported for 3D input tensor"),
    (lambda F, x: F.pad(x, (1, 1), mode="foo"), NotImplementedError, "Unrecognised padding mode foo"),
    (lambda F, x: F.pad(x[:, :, :0], (1, 1), mode="reflect"), RuntimeError, "Expected 2D or 3D"),
    (lambda F, x: F.pad(x, (-4, 0)), RuntimeError, "narrow\\(\\): length must be non-negative"),
])
def test_pad_errors_match_torch(call, exc, match):
    x = np.arange(6.0).reshape(1, 2, 3)
    with pytest.raises(exc, match=match):
        call(torch.nn.functional, torch.tensor(x))
    with pytest.raises(exc, match=match):
        call(nn.functional, tapegrad.tensor(x))


def test_constant_pad_of_an_integer_tensor_casts_the_value_like_torch():
    x = np.arange(6).reshape(1, 2, 3)
    a = nn.functional.pad(tapegrad.tensor(x), (1, 1), value=2.5)
    b = torch.nn.functional.pad(torch.tensor(x), (1, 1), value=2.5)
    assert a.tolist() == b.tolist() and a.dtype == tapegrad.int64


# ---------------------------------------------------------------- Unfold / Fold
@pytest.mark.parametrize("name,args,kw,shape", [
    ("Unfold", (2,), dict(padding=1, stride=2), (2, 3, 5, 4)),
    ("Unfold", ((2, 3),), dict(dilation=(2, 1)), (3, 6, 5)),
    ("Fold", ((4, 5), 2), dict(), (2, 12, 12)),
    ("Fold", ((5, 5), (2, 3)), dict(padding=1, stride=(2, 1), dilation=(1, 2)), (6, 9)),
])
def test_fold_layers_match_torch(name, args, kw, shape):
    _compare(getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw), RNG.standard_normal(shape),
             tol=1e-12)


def test_circular_pad_wider_than_what_negative_pads_leave_raises():
    # PyTorch checks the uncropped size and reads uninitialized memory here; we refuse instead
    x = tapegrad.arange(6.0).reshape(1, 2, 3)
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        nn.functional.pad(x, (-2, 2), mode="circular")
    assert nn.functional.pad(x, (-1, 2), mode="circular").tolist() == [[[1.0, 2.0, 1.0, 2.0], [4.0, 5.0, 4.0, 5.0]]]
