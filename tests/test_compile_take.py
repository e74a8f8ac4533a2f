"""tg.compile of lookups by integer positions that are values of the program: F.embedding
(padding_idx included), index_select and ``x[idx]`` / ``x[:, idx]`` with an index tensor
argument. Replayed (fullgraph: no fallback, no second trace) with eager's values and gradients,
repeated positions accumulating, against finite differences (gradcheck, second order too) and
PyTorch; a position out of range in a replay raises eager's error."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F


class LM(nn.Module):
    def __init__(self, vocab=11, dim=6, hidden=8):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim, padding_idx=0, dtype=tg.float64)
        self.gru = nn.GRU(dim, hidden, batch_first=True, dtype=tg.float64)
        self.out = nn.Linear(hidden, vocab, dtype=tg.float64)

    def forward(self, x):
        h, _ = self.gru(self.emb(x))
        return self.out(h)


def _lm_step(model, opt, vocab):
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss.detach()
    return step


def test_embedding_gru_language_model_step_replays_as_eager():
    tg.manual_seed(0)
    a = LM()
    b = LM()
    b.load_state_dict(a.state_dict())
    oa, ob = tg.optim.Adam(a.parameters(), lr=1e-2), tg.optim.Adam(b.parameters(), lr=1e-2)
    compiled = tg.compile(_lm_step(a, oa, 11), fullgraph=True)
    eager = _lm_step(b, ob, 11)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = tg.tensor(rng.integers(0, 11, (3, 5)))  # (zeros: the padding row is looked up)
        y = tg.tensor(rng.integers(0, 11, (3, 5)))
        np.testing.assert_allclose(compiled(x, y).item(), eager(x, y).item(), rtol=1e-12)
    assert compiled._count == 1
    for (n, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12,
                                   atol=1e-14, err_msg=n)
    assert np.all(a.emb.weight.detach().numpy()[0] == 0)  # (padding row: never updated)


def _embedding_grads(lib, w, idx, pad):
    W = lib.tensor(w, requires_grad=True)
    out = lib.nn.functional.embedding(lib.tensor(idx), W, padding_idx=pad)
    (out * lib.tensor(np.arange(out.numel(), dtype=np.float64).reshape(out.shape))).sum() \
        .backward()
    return out.detach().numpy(), W.grad.numpy()


@pytest.mark.parametrize("pad", [None, 2, -1])
def test_embedding_repeated_positions_and_padding_against_torch(pad):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    w = rng.normal(size=(5, 3))

    coef = tg.tensor(np.arange(18, dtype=np.float64).reshape(2, 3, 3))

    def f(idx, W):
        return (F.embedding(idx, W, padding_idx=pad) * coef).sum()

    compiled = tg.compile(f, fullgraph=True)
    for idx in (np.array([[1, 2, 1], [4, 2, 1]]), np.array([[0, 0, 3], [4, 4, 4]])):
        W = tg.tensor(w, requires_grad=True)
        compiled(tg.tensor(idx), W).backward()
        want = _embedding_grads(torch, w, idx, pad)[1]
        np.testing.assert_allclose(W.grad.numpy(), want, rtol=1e-13)
        np.testing.assert_allclose(W.grad.numpy(), _embedding_grads(tg, w, idx, pad)[1],
                                   rtol=1e-13)
    assert compiled._count == 1


def test_index_select_and_tensor_indexing_gradcheck_second_order():
    rng = np.random.default_rng(2)

    def f(x, i, j):
        a = tg.index_select(x, 1, i)  # (4, 3) -> (4, len(i))
        b = x[j]  # rows, repeated and negative
        c = x[:, j]
        return (a.sin() * 2).sum() + (b * b).sum() + (c.exp() * x[0:1, :3]).sum()

    compiled = tg.compile(f, fullgraph=True)
    x = tg.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    for i, j in ((np.array([2, 0, 2, 1]), np.array([1, -1, 1])),
                 (np.array([1, 1]), np.array([0, 2, 2]))):
        it, jt = tg.tensor(i), tg.tensor(j)
        assert tg.autograd.gradcheck(lambda t: compiled(t, it, jt), (x,))
        assert tg.autograd.gradgradcheck(lambda t: compiled(t, it, jt), (x,))
        xe = tg.tensor(x.detach().numpy(), requires_grad=True)
        ge, = tg.autograd.grad(f(xe, it, jt), xe)
        gc, = tg.autograd.grad(compiled(x, it, jt), x)
        np.testing.assert_allclose(gc.numpy(), ge.numpy(), rtol=1e-13)


def test_index_computed_in_the_function_and_index_select_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x0 = rng.normal(size=(6, 4))

    def f(lib, x, i):
        rows = x[i.reshape(-1) + 1]  # positions computed in the function
        cols = lib.index_select(x, 0, i[0])
        return (rows.tanh() * 3).sum() + cols.pow(2).sum()

    compiled = tg.compile(lambda x, i: f(tg, x, i), fullgraph=True)
    for i in (np.array([[0, 2], [2, 4]]), np.array([[4, 4], [1, 0]])):
        x = tg.tensor(x0, requires_grad=True)
        compiled(x, tg.tensor(i)).backward()
        tx = torch.tensor(x0, requires_grad=True)
        f(torch, tx, torch.tensor(i)).backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-13)
    assert compiled._count == 1


@pytest.mark.parametrize("op", ["embedding", "index_select", "getitem"])
def test_position_out_of_range_in_a_replay_raises_eagers_error(op):
    def f(w, i):
        if op == "embedding":
            return F.embedding(i, w).sum()
        if op == "index_select":
            return tg.index_select(w, 0, i).sum()
        return w[i].sum()

    compiled = tg.compile(f)
    w = tg.tensor(np.ones((4, 2)), requires_grad=True)
    compiled(w, tg.tensor([0, 3]))
    compiled(w, tg.tensor([1, 2]))
    bad = [1, 4] if op == "getitem" else [1, -1]
    with pytest.raises(IndexError) as eager_error:
        f(w, tg.tensor(bad))
    with pytest.raises(IndexError) as replay_error:
        compiled(w, tg.tensor(bad))
    assert str(replay_error.value) == str(eager_error.value)
    if op == "getitem":  # (a negative position counts from the end there, as eagerly)
        np.testing.assert_allclose(compiled(w, tg.tensor([-1, -4])).item(), 4.0)
