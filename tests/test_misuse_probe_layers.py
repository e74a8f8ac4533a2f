"""Layers and losses given bad arguments or shapes: PyTorch's errors, never NumPy's, a Python
ZeroDivisionError or a silently wrong result. Each case runs on tapegrad and, where installed,
on PyTorch."""

import pytest

import tapegrad as tg
from tests.op_checks import needs_torch, torch

LIBS = ["tapegrad", pytest.param("torch", marks=needs_torch)]


def lib(name):
    return tg if name == "tapegrad" else torch


_W = "weight of size \\[4, 3, 3, 3\\], expected bias to be 1-dimensional with 4 elements, but " \
     "got bias of size "


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("kwargs,words", [
    (dict(stride=0), "non-positive stride is not supported"),
    (dict(stride=(1, -1)), "non-positive stride is not supported"),
    (dict(padding=-1), "negative padding is not supported"),
    (dict(stride=0, padding=-1), "negative padding is not supported"),
    (dict(dilation=0), "dilation should be greater than zero, but got \\[0, 0\\]"),
    (dict(groups=0), "non-positive groups is not supported"),
    (dict(bias=(3,)), "Given " + _W + "\\[3\\] instead"),
    (dict(bias=(4, 1)), "Given " + _W + "\\[4, 1\\] instead"),
    (dict(bias=()), "Given " + _W + "\\[\\] instead")])
def test_conv2d_bad_arguments(name, kwargs, words):
    L = lib(name)
    kwargs = {k: L.ones(v) if k == "bias" else v for k, v in kwargs.items()}
    x, w = L.ones(1, 3, 5, 5, requires_grad=True), L.ones(4, 3, 3, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=f"^{words}$"):
        L.nn.functional.conv2d(x, w, **kwargs)


@pytest.mark.parametrize("name", LIBS)
def test_conv1d_dilation_and_transposed_bias_words(name):
    L = lib(name)
    F = L.nn.functional
    with pytest.raises(RuntimeError, match="^dilation should be greater than zero, but got "
                                           "\\[1, 0\\]$"):
        F.conv1d(L.ones(1, 3, 5), L.ones(4, 3, 3), dilation=0)
    with pytest.raises(RuntimeError, match="^Given transposed=1, weight of size \\[4, 2, 3, 3\\], "
                                           "expected bias to be 1-dimensional with 4 elements, "
                                           "but got bias of size \\[2\\] instead$"):
        F.conv_transpose2d(L.ones(1, 4, 5, 5), L.ones(4, 2, 3, 3), groups=2, bias=L.ones(2))
    # the right bias still works, and adds per output channel
    y = F.conv2d(L.ones(1, 3, 5, 5), L.ones(4, 3, 3, 3), bias=L.arange(4.0))
    assert y[0, :, 0, 0].tolist() == [27.0, 28.0, 29.0, 30.0]


_POOLS = {"max2": lambda F, x, **k: F.max_pool2d(x, **k), "avg2": lambda F, x, **k:
          F.avg_pool2d(x, **k), "max1": lambda F, x, **k: F.max_pool1d(x[0], **k),
          "avg1": lambda F, x, **k: F.avg_pool1d(x[0], **k),
          "max3": lambda F, x, **k: F.max_pool3d(x[None], **k)}


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("pool,kwargs,words", [
    ("max2", dict(kernel_size=2, stride=0), "stride should not be zero"),
    ("avg2", dict(kernel_size=0), "stride should not be zero"),
    ("max3", dict(kernel_size=2, stride=(1, 0, 1)), "stride should not be zero"),
    ("max2", dict(kernel_size=2, padding=-1), "pad must be non-negative, but got pad: -1"),
    ("avg1", dict(kernel_size=2, padding=-1), "pad must be non-negative, but got pad: -1"),
    ("max2", dict(kernel_size=(2, -1)), "kernel size should be greater than zero, but got kH: 2 "
                                        "kW: -1"),
    ("avg1", dict(kernel_size=-1), "kernel size should be greater than zero, but got kH: 1 "
                                   "kW: -1"),
    ("avg2", dict(kernel_size=2, stride=-1), "stride should be greater than zero, but got dH: -1 "
                                             "dW: -1"),
    ("max2", dict(kernel_size=2, dilation=0), "dilation should be greater than zero, but got "
                                              "dilationH: 0 dilationW: 0"),
    ("max3", dict(kernel_size=2, dilation=0), "dilation should be greater than zero, but got "
                                              "dilationT: 0 dilationH: 0 dilationW: 0"),
    ("max1", dict(kernel_size=0, stride=0), "max_pool1d\\(\\) kernel_size must be greater than "
                                            "zero, but got 0"),
    ("max1", dict(kernel_size=2, stride=-1), "max_pool1d\\(\\) stride must be greater than zero, "
                                             "but got -1"),
    ("max1", dict(kernel_size=2, padding=-1, dilation=0), "max_pool1d\\(\\) padding must be "
                                                          "non-negative, but got -1"),
    ("max1", dict(kernel_size=2, dilation=0), "max_pool1d\\(\\) dilation must be greater than "
                                              "zero, but got 0")])
def test_pooling_bad_arguments(name, pool, kwargs, words):
    L = lib(name)
    with pytest.raises(RuntimeError, match=f"^{words}$"):
        _POOLS[pool](L.nn.functional, L.ones(1, 1, 4, 4, requires_grad=True), **kwargs)


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("call,words", [
    (lambda L, F: F.dropout2d(L.ones(3)), "Feature dropout requires at least 2 dimensions in the "
                                          "input"),
    (lambda L, F: F.embedding(L.tensor([1]), L.ones(3)), "'weight' must be 2-D"),
    (lambda L, F: F.embedding(L.tensor([1]), L.ones(3, 2, 2)), "'weight' must be 2-D"),
    (lambda L, F: F.adaptive_avg_pool2d(L.ones(1, 1, 4, 4), (2, -1)),
     "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but "
     "received \\{2, -1\\}"),
    (lambda L, F: F.adaptive_avg_pool1d(L.ones(1, 1, 4), -1),
     "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but "
     "received \\{1, -1\\}"),
    (lambda L, F: F.adaptive_max_pool2d(L.ones(1, 1, 4, 4), -1),
     "Trying to create tensor with negative dimension -1: \\[1, 1, -1, -1\\]")])
def test_layer_input_misuse(name, call, words):
    L = lib(name)
    with pytest.raises(RuntimeError, match=f"^{words}$"):
        call(L, L.nn.functional)


@pytest.mark.parametrize("name", LIBS)
def test_feature_dropout_of_1d_input_outside_training_and_unique_dims(name):
    L = lib(name)
    F = L.nn.functional
    x = L.ones(3)
    assert F.dropout2d(x, training=False).tolist() == [1.0, 1.0, 1.0]
    assert F.dropout2d(x, p=0.0).tolist() == [1.0, 1.0, 1.0]
    for f in (L.unique, L.unique_consecutive):
        with pytest.raises(IndexError, match="^Dimension out of range \\(expected to be in range "
                                             "of \\[-1, 0\\], but got -2\\)$"):
            f(x, dim=-2)
        with pytest.raises(IndexError, match="^Dimension specified as 0 but tensor has no "
                                             "dimensions$"):
            f(L.tensor(1.0), dim=0)
        assert f(L.tensor([[1.0, 1.0], [2.0, 2.0]]), dim=-1).tolist() == [[1.0], [2.0]]


_TYPE_NAMES = {"int32": "Int", "int16": "Short", "int8": "Char", "bool": "Bool"}


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("dtype", ["int32", "int16", "int8", "bool"])
def test_class_targets_must_be_long_or_byte(name, dtype):
    L = lib(name)
    F = L.nn.functional
    x, t = L.ones(2, 3, requires_grad=True), L.tensor([0, 1], dtype=getattr(L, dtype))
    words = f"^expected target dtype to be Long or Byte, but got {_TYPE_NAMES[dtype]}$"
    for loss in (F.cross_entropy, F.nll_loss):
        with pytest.raises(RuntimeError, match=words):
            loss(x, t)
    for ok in (L.int64, L.uint8):
        assert abs(F.cross_entropy(x, L.tensor([0, 1], dtype=ok)).item() - 1.0986123) < 1e-6


@pytest.mark.parametrize("name", LIBS)
def test_binary_losses_refuse_integer_and_bool_targets(name):
    L = lib(name)
    F = L.nn.functional
    x = L.full((3,), 0.5, dtype=L.float32, requires_grad=True)
    with pytest.raises(RuntimeError, match="^Found dtype Long but expected Float$"):
        F.binary_cross_entropy(x, L.ones(3, dtype=L.int64))
    with pytest.raises(RuntimeError, match="^Found dtype Bool but expected Float$"):
        F.binary_cross_entropy(x, L.ones(3, dtype=L.bool))
    with pytest.raises(RuntimeError, match="^result type Float can't be cast to the desired "
                                           "output type Long$"):
        F.binary_cross_entropy_with_logits(x, L.ones(3, dtype=L.int64))
    with pytest.raises(RuntimeError, match="^Subtraction, the `-` operator, with two bool "
                                           "tensors is not supported"):
        F.binary_cross_entropy_with_logits(x, L.ones(3, dtype=L.bool))
    loss = F.binary_cross_entropy(x, L.ones(3, dtype=L.float32))
    loss.backward()
    assert abs(loss.item() - 0.6931472) < 1e-6 and abs(x.grad[0].item() + 2 / 3) < 1e-6


@pytest.mark.parametrize("name", LIBS)
@pytest.mark.parametrize("dtype,words", [("int64", '"histogram_cpu" not implemented for \'Long\''),
                                         ("int32", '"histogram_cpu" not implemented for \'Int\''),
                                         ("bool", '"linspace_cpu" not implemented for \'Bool\'')])
def test_histc_of_integers_is_not_implemented(name, dtype, words):
    L = lib(name)
    with pytest.raises(NotImplementedError, match=f"^{words}$"):
        L.histc(L.tensor([1, 0], dtype=getattr(L, dtype)))
    assert L.histc(L.tensor([1.0, 2.0]), bins=2).tolist() == [1.0, 1.0]
