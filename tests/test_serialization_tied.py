"""Tied weights (one Parameter in two modules) stay one object through tg.save / tg.load, as
through torch.save / torch.load: the same tensor saved twice loads as one object."""

import copy
import io
import pickle

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _tied(lib):
    lib.manual_seed(0)
    enc, dec = lib.nn.Linear(3, 3), lib.nn.Linear(3, 3)
    dec.weight = enc.weight
    return lib.nn.Sequential(enc, dec)


def _round_trip(lib, obj, loader=None):
    buf = io.BytesIO()
    lib.save(obj, buf)
    buf.seek(0)
    return (loader or lib.load)(buf)


def _identity_pattern(values):
    return [[a is b for b in values] for a in values]


@pytest.mark.parametrize("what", ["params", "named_parameters", "nested"])
def test_same_tensor_twice_loads_as_one_object(what):
    got = {}
    for lib in (torch, tg):
        m = _tied(lib)
        if what == "params":
            obj = {"a": m[0].weight, "b": m[1].weight, "bias": m[0].bias}
        elif what == "named_parameters":
            obj = dict(m.named_parameters(remove_duplicate=False))
        else:
            obj = [m[0].weight, {"w": m[1].weight}, (m[0].weight, m[0].bias)]
        loaded = _round_trip(lib, obj)
        flat = (list(loaded.values()) if isinstance(loaded, dict) else
                [loaded[0], loaded[1]["w"], *loaded[2]])
        src = (list(obj.values()) if isinstance(obj, dict) else
               [obj[0], obj[1]["w"], *obj[2]])
        assert [v.tolist() for v in flat] == [v.tolist() for v in src]
        got[lib] = (_identity_pattern(flat), [type(v).__name__ for v in flat])
    assert got[tg] == got[torch]


def test_torch_written_tied_weights_read_by_tg():
    m = _tied(torch)
    raw = io.BytesIO()
    torch.save({"enc": m[0].weight, "dec": m[1].weight}, raw)
    want = torch.load(io.BytesIO(raw.getvalue()))
    got = tg.load(io.BytesIO(raw.getvalue()))
    assert (got["enc"] is got["dec"]) == (want["enc"] is want["dec"]) is True


@pytest.mark.parametrize("how", ["state_dict", "deepcopy", "pickle"])
def test_tied_module_stays_tied(how):
    results = {}
    for lib in (torch, tg):
        m = _tied(lib)
        if how == "state_dict":
            sd = _round_trip(lib, m.state_dict())
            m2 = _tied(lib)
            with lib.no_grad():
                m2[0].weight.zero_()
            m2.load_state_dict(sd)
            shares = sd["0.weight"].add_(1).tolist() == sd["1.weight"].tolist()
        elif how == "deepcopy":
            m2, shares = copy.deepcopy(m), True
        else:
            m2, shares = pickle.loads(pickle.dumps(m)), True
        assert m2[1].weight.tolist() == m[1].weight.tolist()
        results[lib] = (m2[0].weight is m2[1].weight, shares)
    assert results[tg] == results[torch]
    assert results[tg][0] is True
