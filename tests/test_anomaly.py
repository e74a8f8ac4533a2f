"""Anomaly detection: a NaN gradient is located (op name and the user's line), as PyTorch."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import tape

try:
    import torch
except ImportError:
    torch = None


def _nan_graph(lib, x):
    y = x * 2.0
    z = lib.sqrt(y - y)  # LINE_SQRT: d/dy sqrt at 0 is inf, times 0 gives nan
    return (z * 0.0).sum()


def _line_of(marker):
    import inspect

    src, start = inspect.getsourcelines(_nan_graph)
    return start + next(i for i, s in enumerate(src) if marker in s)


def test_nan_names_the_op_and_the_users_line():
    x = tg.tensor([1.0, 0.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        ctx = tg.autograd.detect_anomaly()
    with ctx:
        assert tg.autograd.is_anomaly_enabled()
        loss = _nan_graph(tg, x)
        with pytest.warns(UserWarning) as rec:
            with pytest.raises(RuntimeError) as err:
                loss.backward()
    assert not tg.autograd.is_anomaly_enabled()
    assert str(err.value) == "Function 'SqrtBackward0' returned nan values in its 0th output."
    msgs = [str(w.message) for w in rec]
    tb = next(m for m in msgs if m.startswith("Error detected in SqrtBackward0"))
    assert "Traceback of forward call that caused the error" in tb
    assert f'line {_line_of("LINE_SQRT")}, in _nan_graph' in tb
    assert "lib.sqrt(y - y)" in tb
    if torch is not None:  # PyTorch names the same op
        t = torch.tensor([1.0, 0.0, 2.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with torch.autograd.detect_anomaly():
                with pytest.raises(RuntimeError) as terr:
                    _nan_graph(torch, t).backward()
        assert str(terr.value) == str(err.value)


def test_python_op_input_index_and_set_detect_anomaly_function():
    y = tg.tensor([np.inf, 1.0], requires_grad=True)
    x = tg.tensor([np.inf, 1.0], requires_grad=True)
    tg.autograd.set_detect_anomaly(True)
    try:
        out = tg.atan2(y, x)  # at (inf, inf): inf * 0 for both inputs (0 at the origin)
        with pytest.warns(UserWarning, match="Error detected in Atan2Backward0"):
            with pytest.raises(RuntimeError, match="'Atan2Backward0' returned nan values in "
                                                   "its 0th output"):
                out.sum().backward()
    finally:
        tg.autograd.set_detect_anomaly(False)
    assert not tg.autograd.is_anomaly_enabled()
    # off: no error, the NaN reaches the gradient (PyTorch too)
    out = tg.atan2(y, x)
    out.sum().backward()
    assert np.isnan(y.grad.numpy()[0])


def test_nan_found_when_creating_the_graph_too():
    x = tg.tensor([1.0, 0.0], requires_grad=True)
    with tg.autograd.set_detect_anomaly(True):
        loss = _nan_graph(tg, x)
        with pytest.warns(UserWarning, match="Error detected in SqrtBackward0"):
            with pytest.raises(RuntimeError, match="'SqrtBackward0' returned nan values"):
                tg.autograd.grad(loss, x, create_graph=True)
        # and a clean graph gives the same gradients as without anomaly mode
        g, = tg.autograd.grad((x * x).sin().sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * x.detach().numpy() *
                               np.cos(x.detach().numpy() ** 2), rtol=1e-14)


def test_set_detect_anomaly_as_context_and_check_nan_false():
    x = tg.tensor([0.0], requires_grad=True)
    with tg.autograd.set_detect_anomaly(True, check_nan=False):
        assert tg.autograd.is_anomaly_enabled()
        assert not tg.autograd.is_anomaly_check_nan_enabled()
        (tg.sqrt(x) * 0.0).sum().backward()  # no check: NaN passes
    assert np.isnan(x.grad.numpy()[0])
    assert not tg.autograd.is_anomaly_enabled() and tg.autograd.is_anomaly_check_nan_enabled()


def test_gradients_unchanged_in_anomaly_mode():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 3))
    w = rng.standard_normal((3, 2))

    def grads():
        x = tg.tensor(a, requires_grad=True)
        m = tg.tensor(w, requires_grad=True)
        loss = tg.tanh(x @ m).exp().sum() + (x * x).sum() + tg.sigmoid(x[1, 2] * 3.0)
        loss.backward()
        return x.grad.numpy(), m.grad.numpy()

    plain = grads()
    with tg.autograd.set_detect_anomaly(True):
        checked = grads()
    for p, c in zip(plain, checked):
        np.testing.assert_array_equal(p, c)


def test_inplace_hint_and_forward_stack():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = y.exp()  # saves its output
    z.add_(1.0)
    with pytest.raises(RuntimeError, match=r"set_detect_anomaly\(True, check_nan=False\)\.$"):
        z.sum().backward()
    with tg.autograd.set_detect_anomaly(True):
        y = x * 1.0
        z = y.exp()  # LINE_EXP
        z.add_(1.0)
        with pytest.warns(UserWarning, match="Error detected in ExpBackward0") as rec:
            with pytest.raises(RuntimeError, match="backtrace further above"):
                z.sum().backward()
    assert any("z = y.exp()  # LINE_EXP" in str(w.message) for w in rec)


def test_off_path_notes_nothing(monkeypatch):
    calls = []
    note = tape._note_stack
    monkeypatch.setattr(tape, "_note_stack", lambda seg: (calls.append(seg), note(seg)))
    x = tg.tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(3000):  # past several segment checks
        y = y * 1.0
    y.sum().backward()
    assert not tape.anomaly[0] and calls == []
    with tg.autograd.set_detect_anomaly(True):
        (x * 2.0).sum()
    assert len(calls) >= 2  # each op noted its stack


def test_anomaly_flags_at_top_level_as_torch():
    """torch.is_anomaly_enabled / torch.is_anomaly_check_nan_enabled are top-level names."""
    assert tg.is_anomaly_enabled is tg.autograd.is_anomaly_enabled
    assert not tg.is_anomaly_enabled()
    with tg.autograd.detect_anomaly(check_nan=False):
        assert tg.is_anomaly_enabled() and not tg.is_anomaly_check_nan_enabled()
    assert not tg.is_anomaly_enabled()
