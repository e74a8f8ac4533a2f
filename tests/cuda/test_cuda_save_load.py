"""tg.save / tg.load of CUDA tensors, state dicts and optimizer states: tensors load on the
device they were saved from, or where map_location sends them, as torch.load's do; on
numba-cuda's simulator (see conftest.py)."""

import io

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg


def _roundtrip(obj, **kw):
    b = io.BytesIO()
    tg.save(obj, b)
    b.seek(0)
    return tg.load(b, **kw)


MAPS = {  # map_location -> (device of a tensor saved from cuda, of one saved from the cpu)
    "none": (None, "cuda:0", "cpu"), "cpu": ("cpu", "cpu", "cpu"),
    "cuda": ("cuda", "cuda:0", "cuda:0"), "device": (tg.device("cuda"), "cuda:0", "cuda:0"),
    "cpu_device": (tg.device("cpu"), "cpu", "cpu"),
    "dict_to_cpu": ({"cuda:0": "cpu"}, "cpu", "cpu"),
    "dict_to_cuda": ({"cpu": "cuda:0"}, "cuda:0", "cuda:0"),
    "callable_keep": (lambda s, loc: s, "cpu", "cpu"),
    "callable_none": (lambda s, loc: None, "cuda:0", "cpu"),
    "callable_cuda": (lambda s, loc: s.cuda(), "cuda:0", "cuda:0"),
}


@pytest.mark.parametrize("name", sorted(MAPS))
def test_tensor_devices_follow_map_location(name):
    map_location, from_cuda, from_cpu = MAPS[name]
    x = tg.tensor([1.0, -2.0, 3.5])
    got_cuda = _roundtrip(x.cuda(), map_location=map_location)
    got_cpu = _roundtrip(x, map_location=map_location)
    assert str(got_cuda.device) == from_cuda and str(got_cpu.device) == from_cpu
    assert got_cuda.cpu().tolist() == got_cpu.cpu().tolist() == x.tolist()


def test_device_matches_torch_load_on_cpu_tensors():
    """(PyTorch's CPU build moves nothing onto cuda; what it reports for a CPU save is the
    reference for the mappings that keep or send to the CPU.)"""
    torch = pytest.importorskip("torch")
    for map_location in (None, "cpu", {"cuda:0": "cpu"}, lambda s, loc: s):
        b = io.BytesIO()
        torch.save(torch.ones(2), b)
        b.seek(0)
        assert str(torch.load(b, map_location=map_location).device) == "cpu"
        b.seek(0)
        assert str(tg.load(b, map_location=map_location).device) == "cpu"


def _torch_file_tagged_cuda(torch, obj):
    """What torch.save writes for ``obj`` on a GPU: its storages tagged 'cuda:0' (PyTorch's
    CPU build tags through its package registry, here briefly told to say cuda)."""
    import torch.serialization as ts

    registry = list(ts._package_registry)
    ts.register_package(0, lambda storage: "cuda:0", lambda storage, location: None)
    try:
        b = io.BytesIO()
        torch.save(obj, b)
    finally:
        ts._package_registry[:] = registry
    b.seek(0)
    return b


def test_torch_device_objects_as_map_location():
    torch = pytest.importorskip("torch")
    x = tg.tensor([1.0, 2.0])
    assert _roundtrip(x, map_location=torch.device("cuda")).device == "cuda"
    assert _roundtrip(x.cuda(), map_location=torch.device("cpu")).device == "cpu"
    assert _roundtrip(x.cuda(), map_location=b"cpu").device == "cpu"


def test_torch_file_tagged_cuda_loads_on_cuda():
    torch = pytest.importorskip("torch")
    b = _torch_file_tagged_cuda(torch, {"w": torch.arange(3.0)})
    got = tg.load(b)
    assert got["w"].device == "cuda" and got["w"].cpu().tolist() == [0.0, 1.0, 2.0]
    b.seek(0)
    assert tg.load(b, map_location={"cuda:0": "cpu"})["w"].device == "cpu"
    b.seek(0)
    assert tg.load(b, map_location=lambda s, loc: s.cuda() if loc == "cuda:0" else None)[
        "w"].device == "cuda"
    plain = io.BytesIO()
    torch.save({"w": torch.arange(3.0)}, plain)
    plain.seek(0)
    assert tg.load(plain, map_location="cuda")["w"].device == "cuda"


def test_module_state_dict_on_cuda():
    torch = pytest.importorskip("torch")
    tg.manual_seed(0)
    m = tg.nn.Linear(3, 2).cuda()
    sd = _roundtrip(m.state_dict())
    assert all(v.device == "cuda" for v in sd.values())
    m2 = tg.nn.Linear(3, 2).cuda()
    m2.load_state_dict(sd)
    x = tg.tensor(np.arange(6.0).reshape(2, 3), dtype=tg.float32)
    np.testing.assert_array_equal(m2(x.cuda()).detach().cpu().numpy(),
                                  m(x.cuda()).detach().cpu().numpy())
    on_cpu = _roundtrip(m.state_dict(), map_location="cpu")
    assert all(v.device == "cpu" for v in on_cpu.values())
    tm = torch.nn.Linear(3, 2)
    tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in on_cpu.items()})
    np.testing.assert_allclose(tm(torch.tensor(x.numpy())).detach().numpy(),
                               m(x.cuda()).detach().cpu().numpy(), rtol=1e-6)


def test_optimizer_state_on_cuda():
    m = tg.nn.Linear(2, 2).cuda()
    opt = tg.optim.Adam(m.parameters(), lr=0.1)
    m(tg.ones(1, 2, device="cuda")).sum().backward()
    opt.step()
    sd = _roundtrip(opt.state_dict())
    devices = {k: v.device.type for s in sd["state"].values() for k, v in s.items()}
    assert devices == {"step": "cpu", "exp_avg": "cuda", "exp_avg_sq": "cuda"}  # (PyTorch's)
    opt2 = tg.optim.Adam(m.parameters(), lr=0.1)
    opt2.load_state_dict(sd)
    for s, s2 in zip(opt.state.values(), opt2.state.values()):
        np.testing.assert_array_equal(s["exp_avg"].cpu().numpy(), s2["exp_avg"].cpu().numpy())


def test_parameters_and_requires_grad_kept_on_cuda():
    p = tg.nn.Parameter(tg.ones(2, device="cuda"))
    q = _roundtrip({"p": p, "r": tg.ones(2, device="cuda", requires_grad=True)})
    assert type(q["p"]) is tg.nn.Parameter and q["p"].device == "cuda" and q["p"].is_leaf
    assert q["r"].requires_grad and q["r"].is_leaf and q["r"].device == "cuda"


def test_cuda_save_without_cuda_names_map_location(monkeypatch):
    import tapegrad._serial_device as sd

    b = io.BytesIO()
    tg.save(tg.ones(2, device="cuda"), b)
    monkeypatch.setattr(sd, "available", lambda: False)
    b.seek(0)
    with pytest.raises(RuntimeError, match=r"torch.cuda.is_available\(\) is False.*"
                       r"map_location=torch.device\('cpu'\)"):
        tg.load(b)
    b.seek(0)
    assert tg.load(b, map_location="cpu").tolist() == [1.0, 1.0]
