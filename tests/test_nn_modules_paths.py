"""``tg.nn.modules`` has PyTorch's ``torch.nn.modules`` paths (``from torch.nn.modules import
Module``, ``nn.modules.loss._Loss``, ``nn.modules.conv._ConvNd``, ``nn.modules.batchnorm
._BatchNorm``...): the same class objects as ``tg.nn``'s, and the private bases cover the
classes they cover in PyTorch (an ``InstanceNorm`` is no ``_BatchNorm``; it was one)."""

import importlib
import inspect

import pytest

import tapegrad as tg

SUBMODULES = ("activation batchnorm channelshuffle container conv distance dropout flatten fold "
              "instancenorm lazy linear loss module normalization padding pixelshuffle pooling "
              "rnn sparse transformer upsampling utils").split()
BASES = ["loss._Loss", "loss._WeightedLoss", "conv._ConvNd", "conv._ConvTransposeNd",
         "batchnorm._NormBase", "batchnorm._BatchNorm", "instancenorm._InstanceNorm",
         "dropout._DropoutNd", "pooling._MaxPoolNd", "pooling._AvgPoolNd",
         "pooling._AdaptiveAvgPoolNd", "pooling._AdaptiveMaxPoolNd", "pooling._LPPoolNd",
         "pooling._MaxUnpoolNd", "rnn.RNNBase", "rnn.RNNCellBase", "lazy.LazyModuleMixin",
         "module.Module"]


def _get(root, path):
    sub, name = path.split(".")
    return getattr(importlib.import_module(f"{root}.nn.modules.{sub}"), name)


def test_imports_by_pytorch_paths():
    from tapegrad.nn.modules import Linear, Module, ZeroPad2d
    from tapegrad.nn.modules.batchnorm import _BatchNorm
    from tapegrad.nn.modules.conv import _ConvNd
    from tapegrad.nn.modules.loss import _Loss
    from tapegrad.nn.modules.utils import _pair, _triple

    assert Module is tg.nn.Module and Linear is tg.nn.Linear and ZeroPad2d is tg.nn.ZeroPad2d
    assert issubclass(tg.nn.MSELoss, _Loss) and issubclass(tg.nn.Conv2d, _ConvNd)
    assert isinstance(tg.nn.BatchNorm2d(3), _BatchNorm)
    assert not isinstance(tg.nn.InstanceNorm2d(3), _BatchNorm)
    assert _pair(3) == (3, 3) and _triple((1, 2, 3)) == (1, 2, 3)
    assert tg.nn.modules.activation.ReLU is tg.nn.ReLU


@pytest.mark.parametrize("sub", SUBMODULES)
def test_each_pytorch_name_is_tapegrads_class(sub):
    pytest.importorskip("torch")
    tm = importlib.import_module(f"torch.nn.modules.{sub}")
    ours = importlib.import_module(f"tapegrad.nn.modules.{sub}")
    names = getattr(tm, "__all__", None) or [
        n for n, v in vars(tm).items() if inspect.isclass(v) and v.__module__ == tm.__name__]
    shared = [n for n in names if hasattr(tg.nn, n)]
    for n in shared:
        assert getattr(ours, n) is getattr(tg.nn, n), n
        assert n in ours.__all__


def test_private_bases_cover_what_pytorchs_cover():
    torch = pytest.importorskip("torch")
    classes = [n for n in dir(torch.nn) if inspect.isclass(getattr(torch.nn, n))
               and issubclass(getattr(torch.nn, n), torch.nn.Module) and hasattr(tg.nn, n)]
    assert len(classes) > 100
    wrong = [(n, b) for b in BASES for n in classes
             if issubclass(getattr(tg.nn, n), _get("tapegrad", b))
             != issubclass(getattr(torch.nn, n), _get("torch", b))]
    assert wrong == []


def test_consume_prefix_in_state_dict_if_present():
    from tapegrad.nn.modules.utils import consume_prefix_in_state_dict_if_present

    sd = tg.nn.Sequential(tg.nn.Linear(2, 2)).state_dict()
    sd = type(sd)(("module." + k, v) for k, v in sd.items())
    consume_prefix_in_state_dict_if_present(sd, "module.")
    assert sorted(sd) == ["0.bias", "0.weight"]
