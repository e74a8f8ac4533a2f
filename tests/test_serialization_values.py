"""tg.save / tg.load of the plain values checkpoints hold besides tensors (sets, bytes, complex
numbers, slices, dtypes, devices, Size), in tapegrad's files and in torch.save's; and
map_location given as a dict onto the CPU."""

import io

import numpy as np
import pytest

import tapegrad as tg

VALUES = {"set": {1, "a", (2, 3)}, "frozenset": frozenset([1.5]), "bytes": b"ab\xff\x00",
          "empty_bytes": b"", "complex": 1 + 2j, "inf_complex": complex(float("inf"), -0.5),
          "slice": slice(1, None, 2), "dtype": tg.float32, "dtype_int": tg.int64,
          "device": tg.device("cpu"), "size": tg.Size([2, 3]),
          "nested": [{"vocab": {"x", "y"}}, (slice(None), tg.bool)]}


def _roundtrip(obj, **kw):
    buf = io.BytesIO()
    tg.save(obj, buf)
    buf.seek(0)
    return tg.load(buf, **kw)


@pytest.mark.parametrize("name", list(VALUES))
def test_value_roundtrip(name):
    got = _roundtrip({name: VALUES[name]})[name]
    assert got == VALUES[name]
    assert type(got) is type(VALUES[name])


def test_map_location_dict_onto_cpu():
    x = tg.tensor([1.0, 2.0])
    assert _roundtrip(x, map_location={"cuda:0": "cpu"}).tolist() == [1.0, 2.0]
    with pytest.raises(NotImplementedError):
        _roundtrip(x, map_location={"cpu": "meta"})


def test_unsupported_dtype_and_object_still_refused():
    with pytest.raises(TypeError, match="cannot save"):
        tg.save({"o": object()}, io.BytesIO())
    with pytest.raises(TypeError, match="cannot save the dtype"):
        tg.save({"o": np.dtype("datetime64[s]")}, io.BytesIO())


def test_torch_file_values():
    torch = pytest.importorskip("torch")
    obj = {"dtype": torch.float32, "long": torch.long, "set": {1, 2}, "c": 1 + 2j,
           "b": b"ab\xff", "sl": slice(1, 2), "dev": torch.device("cpu"),
           "size": torch.Size([2, 3]), "fs": frozenset([1]), "w": torch.ones(2)}
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    got = tg.load(buf)
    assert got["dtype"] == tg.float32 and got["long"] == tg.int64
    assert got["set"] == {1, 2} and got["fs"] == frozenset([1]) and got["c"] == 1 + 2j
    assert got["b"] == b"ab\xff" and got["sl"] == slice(1, 2)
    assert got["dev"] == tg.device("cpu") and got["size"] == tg.Size([2, 3])
    assert got["w"].tolist() == [1.0, 1.0]


def test_torch_file_counter_and_bytearray():
    """collections.Counter (the milestones in a MultiStepLR's state_dict) and bytearray, which
    torch.load's weights-only unpickler reads, were refused by tg.load."""
    torch = pytest.importorskip("torch")
    w = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SGD([w], lr=1.0)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 2, 5])
    obj = {"sched": sched.state_dict(), "ba": bytearray(b"a\x00b")}
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    want = torch.load(buf)
    buf.seek(0)
    got = tg.load(buf)
    assert type(got["sched"]["milestones"]) is type(want["sched"]["milestones"])
    assert got["sched"]["milestones"] == want["sched"]["milestones"]
    assert type(got["ba"]) is bytearray and got["ba"] == want["ba"]
    assert got["sched"] == want["sched"]
