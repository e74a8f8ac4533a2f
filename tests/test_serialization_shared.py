"""tg.save / tg.load keep memory shared between the saved tensors (a tensor saved twice, a
tensor and its views), as torch.save / torch.load do; a lone slice is still saved compactly."""

import io

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _roundtrip(lib, obj):
    buf = io.BytesIO()
    lib.save(obj, buf)
    size = len(buf.getvalue())
    buf.seek(0)
    return lib.load(buf), size


def _program(lib):
    x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64)
    saved = {"x": x, "again": x, "col": x[:, 1], "t": x.t(), "row": x[1:], "other": x.clone()}
    got, _ = _roundtrip(lib, saved)
    got["x"].add_(10.0)
    return {k: (v.numpy().tolist(), v.stride()) for k, v in got.items()}


def test_views_and_repeats_share_after_load_as_torch():
    assert _program(tg) == _program(torch)


def test_fortran_ordered_base_and_parameters():
    base = tg.tensor(np.asfortranarray(np.arange(12.0).reshape(3, 4)))
    got, _ = _roundtrip(tg, [base, base[:, 1:].t(), base[1]])
    np.testing.assert_array_equal(got[1].numpy(), np.arange(12.0).reshape(3, 4)[:, 1:].T)
    got[0].add_(100.0)
    np.testing.assert_array_equal(got[2].numpy(), np.arange(4.0, 8.0) + 100.0)
    p = tg.nn.Parameter(tg.ones(3))
    got, _ = _roundtrip(tg, {"p": p, "view": p.detach()[1:]})
    assert type(got["p"]) is tg.nn.Parameter and got["p"].requires_grad
    with tg.no_grad():
        got["p"].add_(1.0)
    assert got["view"].tolist() == [2.0, 2.0]


def test_lone_slice_saved_compactly():
    big = tg.zeros(100000)
    got, size = _roundtrip(tg, {"s": big[:3]})
    assert got["s"].tolist() == [0.0, 0.0, 0.0] and size < 5000


def test_malformed_shared_node_refused():
    import json
    import zipfile

    buf = io.BytesIO()
    x = tg.arange(4.0)
    tg.save([x, x[1:]], buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    tree = json.loads(src.read("structure.json"))
    tree["root"]["v"][1]["offset"] = 10 ** 6
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in src.namelist():
            z.writestr(name, json.dumps(tree) if name == "structure.json" else src.read(name))
    out.seek(0)
    with pytest.raises(RuntimeError, match="not a valid tapegrad save file"):
        tg.load(out)


def test_torch_file_views_share_after_tg_load():
    x = torch.arange(6.0, dtype=torch.float64).reshape(2, 3)
    buf = io.BytesIO()
    torch.save({"x": x, "t": x.t(), "row": x[1], "wide": x[0].expand(2, 3)}, buf)
    buf.seek(0)
    got = tg.load(buf)
    buf.seek(0)
    ref = torch.load(buf)
    got["x"].add_(10.0)
    ref["x"].add_(10.0)
    for k in ("x", "t", "row", "wide"):
        np.testing.assert_array_equal(got[k].numpy(), ref[k].numpy())
        assert got[k].stride() == ref[k].stride()
