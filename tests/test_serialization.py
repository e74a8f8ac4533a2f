"""tg.save / tg.load: exact round trips of tensors, state dicts and containers; no pickle."""

import io
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import nn


def _same(a, b):
    assert type(a) is type(b)
    if isinstance(a, tg.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.numpy() if not a.requires_grad else a.detach().numpy(),
                                      b.detach().numpy())
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys())
        for k in a:
            assert type(k) is type(next(kk for kk in b if kk == k))
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def _roundtrip(obj):
    buf = io.BytesIO()
    tg.save(obj, buf)
    buf.seek(0)
    return tg.load(buf)


def test_tensor_dtypes_and_requires_grad():
    for x in (tg.tensor([1.5, -2.0, 1e-300], dtype=tg.float64, requires_grad=True),
              tg.randn(3, 4, dtype=tg.float32), tg.tensor([[1, 2], [3, 4]], dtype=tg.int32),
              tg.tensor([True, False]), tg.tensor(3.25), tg.zeros(0, 3),
              tg.tensor([1.0, 2.0], dtype=tg.float16), tg.tensor([np.nan, np.inf, -0.0])):
        y = _roundtrip(x)
        _same(x, y)
        assert y.is_leaf and y.grad is None
        np.testing.assert_array_equal(np.signbit(x.detach().numpy()),
                                      np.signbit(y.detach().numpy()))


def test_nested_containers():
    obj = OrderedDict([("b", [1, 2.5, "s", None, True, (3, tg.ones(2))]),
                       ("a", {0: np.arange(6, dtype=np.uint8).reshape(2, 3), 1.5: np.float32(2),
                              "n": float("nan"), "big": 2 ** 80, (1, "t"): np.int64(-7)}),
                       ("empty", ([], {}, ()))])
    _same(obj, _roundtrip(obj))


class _WithBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("scale", tg.rand(3, dtype=tg.float64))
        self.register_buffer("count", tg.tensor(7, dtype=tg.int64))

    def forward(self, x):
        return x * self.scale.float() + self.count.float()


def _model():
    return nn.Sequential(nn.Linear(5, 8), nn.LayerNorm(8), nn.Tanh(), nn.Linear(8, 3),
                         _WithBuffers())


def test_model_state_dict_roundtrip_reproduces_outputs(tmp_path):
    tg.manual_seed(0)
    model = _model()
    sd = model.state_dict()
    path = tmp_path / "model.tg"
    tg.save(sd, path)
    loaded = tg.load(str(path))
    assert type(loaded) is OrderedDict and list(loaded) == list(sd)
    _same(sd, loaded)
    tg.manual_seed(1)
    other = _model()
    other.load_state_dict(loaded)
    x = tg.randn(4, 5)
    np.testing.assert_array_equal(model(x).detach().numpy(), other(x).detach().numpy())
    # keep_vars: parameters come back as parameters
    pv = _roundtrip(model.state_dict(keep_vars=True))
    assert isinstance(pv["0.weight"], nn.Parameter) and pv["0.weight"].requires_grad


def test_optimizer_state_dict_roundtrip():
    tg.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = tg.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9))
    for _ in range(3):
        opt.zero_grad()
        model(tg.randn(4, 3)).pow(2).sum().backward()
        opt.step()
    sd = opt.state_dict()
    loaded = _roundtrip(sd)
    _same(sd, loaded)
    assert loaded["param_groups"][0]["betas"] == (0.8, 0.9)
    assert set(loaded["state"]) == {0, 1}
    # continuing from the loaded state gives the same parameters as continuing the original
    model2 = nn.Linear(3, 2)
    model2.load_state_dict(model.state_dict())
    opt2 = tg.optim.Adam(model2.parameters(), lr=0.5)
    opt2.load_state_dict(loaded)
    x = tg.randn(4, 3)
    for m, o in ((model, opt), (model2, opt2)):
        o.zero_grad()
        m(x).pow(2).sum().backward()
        o.step()
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_file_object_and_path(tmp_path):
    x = tg.randn(3, 3)
    p = tmp_path / "x.tg"
    with open(p, "wb") as fh:
        tg.save({"x": x}, fh)
    with open(p, "rb") as fh:
        _same({"x": x}, tg.load(fh, weights_only=True))
    _same({"x": x}, tg.load(p))


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


@pytest.mark.parametrize("obj", [_Evil(), {"a": [_Evil()]}, np.array([object()]),
                                 {1, _Evil()}, [slice(0, _Evil())], lambda: 0])
def test_unsupported_objects_refused_at_save(obj):
    with pytest.raises(TypeError, match="tg.save: cannot save"):
        tg.save(obj, io.BytesIO())


def test_self_reference_refused():
    a = []
    a.append(a)
    with pytest.raises(ValueError):
        tg.save(a, io.BytesIO())


def test_pickle_payload_is_not_unpickled(capsys):
    with pytest.raises(pickle.UnpicklingError, match="not a file written by tg.save"):
        tg.load(io.BytesIO(pickle.dumps(_Evil())))
    # a zip whose array entry holds a pickled object array
    buf = io.BytesIO()
    tg.save({"x": tg.ones(2)}, buf)
    evil = io.BytesIO()
    arr = io.BytesIO()
    np.save(arr, np.array([_Evil()], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(evil, "w") as z:
        z.writestr("structure.json", src.read("structure.json"))
        z.writestr("data/0.npy", arr.getvalue())
    evil.seek(0)
    with pytest.raises(RuntimeError, match="not a plain array"):
        tg.load(evil)
    assert "pwned" not in capsys.readouterr().out


def test_malformed_structure_rejected():
    for text in ('{"format": "tapegrad-save", "version": 1, "root": {"t": "pickle"}}',
                 '{"format": "other"}', "not json"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("structure.json", text)
        buf.seek(0)
        with pytest.raises(RuntimeError, match="not a valid tapegrad save file"):
            tg.load(buf)
