"""Version counters PyTorch's modules and utilities leave: new normalization parameters and
buffers at 1 (written once by reset_parameters / reset_running_stats), and
``clip_grad_value_``'s two in-place clamps (one without ``foreach``)."""

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

MODULES = [lambda nn: nn.BatchNorm1d(3), lambda nn: nn.BatchNorm2d(3, affine=False),
           lambda nn: nn.BatchNorm3d(3, track_running_stats=False),
           lambda nn: nn.InstanceNorm1d(3, affine=True, track_running_stats=True),
           lambda nn: nn.GroupNorm(1, 3), lambda nn: nn.LayerNorm(3)]


@pytest.mark.parametrize("make", MODULES)
def test_new_normalization_state_versions_as_torch(make):
    def versions(m):
        return [(n, t._version) for n, t in list(m.named_parameters()) + list(m.named_buffers())]

    assert versions(make(tg.nn)) == versions(make(torch.nn))


@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_value_versions_as_torch(foreach):
    got = []
    for lib in (tg, torch):
        lin = lib.nn.Linear(3, 2)
        lin(lib.ones(1, 3, dtype=lin.weight.dtype)).sum().backward()
        before = lin.weight.grad._version
        lib.nn.utils.clip_grad_value_(lin.parameters(), 0.1, foreach=foreach)
        got.append((lin.weight.grad._version - before, lin.bias.grad._version - before,
                    lin.weight.grad.abs().max().item()))
    assert got[0][:2] == got[1][:2] and got[0][2] == pytest.approx(got[1][2])
