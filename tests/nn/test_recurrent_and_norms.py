"""Recurrent layers (RNN, LSTM, GRU and their cells), RMSNorm and InstanceNorm: finite
differences to second order on small sizes, PyTorch's values, gradients and running statistics
with the same weights, and PyTorch's errors and parameter names."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F
from tests.op_checks import check_op

RECURRENT = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"bias": False, "batch_first": True}),
    ("GRU", {"bidirectional": True, "batch_first": True}),
    ("GRU", {"num_layers": 3}),
    ("LSTM", {"proj_size": 1, "num_layers": 2, "bidirectional": True}),
]


def _states(hn):
    return hn if isinstance(hn, tuple) else (hn,)


def _loss(out, hn):
    total = (out ** 2).sum()
    for h in _states(hn):
        total = total + (h ** 3).sum()
    return total


def _assert_backward_matches(lg, lt, xg, xt, ours, theirs):
    """Our loss ``lg`` and PyTorch's ``lt``, then after backward the input's and every
    parameter's gradients, are the same."""
    lt.backward()
    lg.backward()
    np.testing.assert_allclose(lg.item(), lt.item(), rtol=1e-12)
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for n, p in theirs.named_parameters():
        np.testing.assert_allclose(ours.get_parameter(n).grad.numpy(), p.grad.numpy(),
                                   rtol=1e-10, atol=1e-12, err_msg=n)


@pytest.mark.parametrize("name,kw", RECURRENT)
def test_recurrent_layers_finite_differences(name, kw):
    """Gradients of input, initial state and every weight by central differences, and the
    second order through re-taping (a sequence of 2 steps, 2 samples)."""
    tg.manual_seed(0)
    layer = getattr(tg.nn, name)(3, 2, **kw)
    params = dict(layer.named_parameters())
    names = list(params)
    rng = np.random.default_rng(1)
    directions = 2 if kw.get("bidirectional") else 1
    h0 = rng.standard_normal((directions * kw.get("num_layers", 1), 2,
                              kw.get("proj_size") or 2))
    c0 = tg.tensor(rng.standard_normal((directions * kw.get("num_layers", 1), 2, 2)))
    x = rng.standard_normal((2, 2, 3))

    def f(x, h0, *weights):  # (the module run with the tensors finite differences move)
        hx = (h0, c0) if name == "LSTM" else h0
        return _loss(*tg.func.functional_call(layer, dict(zip(names, weights)), (x, hx)))

    check_op(f, [x, h0] + [params[n].detach().numpy().copy() for n in names], order=2)


@pytest.mark.parametrize("name,kw", RECURRENT)
def test_recurrent_layers_match_pytorch(name, kw):
    torch = pytest.importorskip("torch")
    ours = getattr(tg.nn, name)(5, 4, **kw)
    theirs = getattr(torch.nn, name)(5, 4, **kw).double()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 5))
    xt, xg = torch.tensor(x, requires_grad=True), tg.tensor(x, requires_grad=True)
    _assert_backward_matches(_loss(*ours(xg)), _loss(*theirs(xt)), xg, xt, ours, theirs)
    x1 = rng.standard_normal((3, 5))  # unbatched: (L, H_in)
    out, hn = ours(tg.tensor(x1))
    tout, thn = theirs(torch.tensor(x1))
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12,
                               atol=1e-14)
    for a, b in zip(_states(hn), _states(thn)):
        assert a.shape == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12,
                                   atol=1e-14)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_pytorch_and_finite_differences(name):
    rng = np.random.default_rng(3)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 2))
    cell = getattr(tg.nn, name)(3, 2)
    names = [n for n, _ in cell.named_parameters()]

    def f(x, h, *weights):
        out = tg.func.functional_call(cell, dict(zip(names, weights)),
                                      (x, (h, h * 2.0) if name == "LSTMCell" else h))
        return sum((o ** 2).sum() for o in _states(out))

    check_op(f, [x, h] + [p.detach().numpy().copy() for p in cell.parameters()], order=2)
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, name)(3, 2).double()
    ours = getattr(tg.nn, name)(3, 2)
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    for xs, hs in ((x, h), (x[0], h[0])):  # batched and unbatched
        hx = (hs, hs) if name == "LSTMCell" else hs
        a = ours(tg.tensor(xs), tuple(map(tg.tensor, hx)) if name == "LSTMCell"
                 else tg.tensor(hx))
        b = theirs(torch.tensor(xs), tuple(map(torch.tensor, hx)) if name == "LSTMCell"
                   else torch.tensor(hx))
        for u, v in zip(_states(a), _states(b)):
            np.testing.assert_allclose(u.detach().numpy(), v.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("name,kw", RECURRENT)
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequences_match_pytorch(name, kw, enforce_sorted):
    """A PackedSequence through the layer: the packed output, each sequence's final state
    (taken at its own last step) and the gradients are PyTorch's."""
    torch = pytest.importorskip("torch")
    rnn_t, rnn_g = torch.nn.utils.rnn, tg.nn.utils.rnn
    ours = getattr(tg.nn, name)(5, 4, **kw)
    theirs = getattr(torch.nn, name)(5, 4, **kw).double()
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    bf = kw.get("batch_first", False)
    lengths = [4, 4, 2, 1] if enforce_sorted else [2, 4, 1, 4]
    x = np.random.default_rng(4).standard_normal((4, 4, 5))  # (B, L, H) or (L, B, H)
    xt, xg = torch.tensor(x, requires_grad=True), tg.tensor(x, requires_grad=True)
    pt = rnn_t.pack_padded_sequence(xt, lengths, bf, enforce_sorted)
    pg = rnn_g.pack_padded_sequence(xg, tg.tensor(lengths), bf, enforce_sorted)
    out_t, hn_t = theirs(pt)
    out_g, hn_g = ours(pg)
    assert isinstance(out_g, rnn_g.PackedSequence)
    for a, b in zip(out_g[1:], out_t[1:]):  # batch_sizes, sorted_indices, unsorted_indices
        assert (a is None and b is None) or a.tolist() == b.tolist()
    np.testing.assert_allclose(out_g.data.detach().numpy(), out_t.data.detach().numpy(),
                               rtol=1e-12, atol=1e-14)
    padded_t, lens_t = rnn_t.pad_packed_sequence(out_t, bf, padding_value=0.5, total_length=5)
    padded_g, lens_g = rnn_g.pad_packed_sequence(out_g, bf, padding_value=0.5, total_length=5)
    assert lens_g.tolist() == lens_t.tolist() == lengths
    np.testing.assert_allclose(padded_g.detach().numpy(), padded_t.detach().numpy(),
                               rtol=1e-12, atol=1e-14)
    _assert_backward_matches(_loss(padded_g, hn_g), _loss(padded_t, hn_t), xg, xt, ours, theirs)


def test_packed_sequence_finite_differences_and_round_trips():
    rnn = tg.nn.utils.rnn
    layer = tg.nn.GRU(2, 3, bidirectional=True)
    names = [n for n, _ in layer.named_parameters()]
    x = np.random.default_rng(5).standard_normal((3, 3, 2))

    def f(x, *weights):
        packed = rnn.pack_padded_sequence(x, [1, 3, 2], enforce_sorted=False)
        out, hn = tg.func.functional_call(layer, dict(zip(names, weights)), (packed,))
        return _loss(rnn.pad_packed_sequence(out)[0], hn)

    check_op(f, [x] + [p.detach().numpy().copy() for p in layer.parameters()], order=1)
    seqs = [tg.tensor(np.arange(n * 2.0).reshape(n, 2)) for n in (2, 3, 1)]
    packed = rnn.pack_sequence(seqs, enforce_sorted=False)
    assert packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.sorted_indices.tolist() == [1, 0, 2]
    assert packed.unsorted_indices.tolist() == [1, 0, 2]
    for a, b in zip(rnn.unpack_sequence(packed), seqs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        rnn.pack_sequence(seqs)
    with pytest.raises(ValueError, match="Expected total_length to be at least"):
        rnn.pad_packed_sequence(packed, total_length=2)


def test_recurrent_training_reduces_loss_and_dropout_between_layers():
    tg.manual_seed(4)
    model = tg.nn.LSTM(2, 8, num_layers=2, dropout=0.25, batch_first=True)
    head = tg.nn.Linear(8, 1)
    opt = tg.optim.Adam(list(model.parameters()) + list(head.parameters()), lr=0.02)
    t = np.linspace(0, 4 * np.pi, 40)
    x = tg.tensor(np.stack([np.sin(t), np.cos(t)], -1)[None].repeat(4, 0))
    y = tg.tensor(np.sin(t + 0.3)[None, :, None].repeat(4, 0))
    losses = []
    for _ in range(60):
        out, _ = model(x)
        loss = ((head(out) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]
    model.eval()  # no dropout: two evaluations agree
    np.testing.assert_array_equal(model(x)[0].detach().numpy(), model(x)[0].detach().numpy())


def test_recurrent_errors_are_pytorchs():
    lstm = tg.nn.LSTM(4, 3, num_layers=2)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. "
                                           "Expected 4, got 5"):
        lstm(tg.zeros((2, 1, 5)))
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D"):
        lstm(tg.zeros((2, 1, 1, 4)))
    h = tg.zeros((1, 1, 3))
    with pytest.raises(RuntimeError,
                       match="Expected hidden\\[0\\] size \\(2, 1, 3\\), got \\[1, 1, 3\\]"):
        lstm(tg.zeros((2, 1, 4)), (h, h))
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        tg.nn.RNN(2, 2, nonlinearity="sigmoid")
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        tg.nn.GRU(2, 2, dropout=0.5)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        tg.nn.GRU(2, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        tg.nn.LSTM(2, 4, proj_size=4)
    with pytest.raises(RuntimeError, match="Input batch size 3 doesn't match hidden0 batch "
                                           "size 1"):
        tg.nn.GRUCell(4, 5)(tg.zeros((3, 4)), tg.zeros((1, 5)))
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0"):
        tg.nn.LSTM(4, 5)(tg.zeros((0, 2, 4)))
    with pytest.raises(RuntimeError, match="inconsistent input_size: got 3 expected 2"):
        tg.nn.GRUCell(2, 2)(tg.zeros((1, 3)))


@pytest.mark.parametrize("eps", [None, 1e-3])
def test_rms_norm(eps):
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4))
    check_op(lambda x, w: F.rms_norm(x, (3, 4), w, eps), [x, w], order=2,
             ref=lambda x, w: x / np.sqrt((x * x).mean((1, 2), keepdims=True) +
                                          (np.finfo(float).eps if eps is None else eps)) * w)
    norm = tg.nn.RMSNorm(4, eps=eps)
    assert [n for n, _ in norm.named_parameters()] == ["weight"]
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[3\], expected input with "
                                           r"shape \[\*3\], but got input of size\[2, 3, 4\]"):
        F.rms_norm(tg.tensor(x), (3,))
    torch = pytest.importorskip("torch")
    for dtype in ("float64", "float32"):  # the default eps is the dtype's own
        xv = x.astype(dtype)
        ours = tg.nn.RMSNorm((3, 4), eps=eps, dtype=dtype)(tg.tensor(xv))
        theirs = torch.nn.RMSNorm((3, 4), eps=eps, dtype=getattr(torch, dtype))(torch.tensor(xv))
        assert ours.dtype == np.dtype(dtype)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(),
                                   rtol=1e-5 if dtype == "float32" else 1e-13)
    assert repr(tg.nn.RMSNorm(4)) == repr(torch.nn.RMSNorm(4))


INSTANCE = [("InstanceNorm1d", (2, 3, 5)), ("InstanceNorm2d", (2, 3, 4, 5)),
            ("InstanceNorm2d", (3, 4, 5)), ("InstanceNorm3d", (2, 3, 2, 3, 2))]


@pytest.mark.parametrize("name,shape", INSTANCE)
def test_instance_norm_finite_differences(name, shape):
    rng = np.random.default_rng(6)
    norm = getattr(tg.nn, name)(3, affine=True)
    x, w, b = rng.standard_normal(shape), rng.standard_normal(3), rng.standard_normal(3)

    def f(x, w, b):
        return tg.func.functional_call(norm, {"weight": w, "bias": b}, (x,))

    check_op(f, [x, w, b], order=2)


@pytest.mark.parametrize("name,shape", INSTANCE)
@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"track_running_stats": True},
                                {"affine": True, "bias": False, "track_running_stats": True},
                                {"track_running_stats": True, "momentum": None}])
def test_instance_norm_matches_pytorch(name, shape, kw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    ours, theirs = getattr(tg.nn, name)(3, **kw), getattr(torch.nn, name)(3, **kw).double()
    if theirs.weight is not None:
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(rng.standard_normal(3)))
            if theirs.bias is not None:
                theirs.bias.copy_(torch.tensor(rng.standard_normal(3)))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = rng.standard_normal(shape) * 2 + 1
    for training in (True, True, False):  # two steps move the running statistics
        ours.train(training)
        theirs.train(training)
        xg, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        a, b = ours(xg), theirs(xt)
        (a ** 3).sum().backward()
        (b ** 3).sum().backward()
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-11,
                                   atol=1e-12)
        np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-11)
        for n, buf in theirs.named_buffers():
            if buf is not None and buf.dtype == torch.float64:
                np.testing.assert_allclose(ours.get_buffer(n).numpy(), buf.numpy(), rtol=1e-12)
    assert repr(ours) == repr(theirs)


def test_norm_layers_take_pytorchs_bias_keyword():
    for layer, names in ((tg.nn.BatchNorm1d(3, bias=False), ["weight"]),
                         (tg.nn.GroupNorm(1, 3, bias=False), ["weight"]),
                         (tg.nn.InstanceNorm1d(3, affine=True), ["weight", "bias"]),
                         (tg.nn.BatchNorm1d(3, affine=False), [])):
        assert [n for n, _ in layer.named_parameters()] == names
    y = tg.nn.GroupNorm(1, 3, bias=False)(tg.randn(2, 3, 4))
    assert y.shape == (2, 3, 4)
    with pytest.raises(ValueError, match="expected 2D or 3D input \\(got 4D input\\)"):
        tg.nn.InstanceNorm1d(3)(tg.zeros((1, 3, 2, 2)))
