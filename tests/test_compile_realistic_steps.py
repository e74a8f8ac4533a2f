"""Training steps a PyTorch user compiles, replayed (fullgraph: no fallback, one trace) with
eager's losses and parameters to 1e-12 in float64 and PyTorch's to 1e-10: a transformer encoder
layer in eval, logistic regression with weight decay (SGD, AdamW), a GMM's negative
log-likelihood through logsumexp, a step with a learning-rate scheduler, an Embedding + GRU
language model, a GELU MLP with clip_grad_norm_."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy()


def _transformer(lib):
    m = lib.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True).double()
    m.eval()
    opt = lib.optim.SGD(m.parameters(), lr=0.05)
    return m, opt, lambda x, y: ((m(x) - y) ** 2).mean(), None


def _logreg(opt_name):
    def make(lib):
        m = lib.nn.Linear(5, 1).double()
        opt = lib.optim.SGD(m.parameters(), lr=0.1, weight_decay=0.01) if opt_name == "SGD" \
            else lib.optim.AdamW(m.parameters(), lr=0.1, weight_decay=0.01)
        loss = lib.nn.functional.binary_cross_entropy_with_logits
        return m, opt, lambda x, y: loss(m(x).squeeze(-1), y), None
    return make


def _gmm(lib):
    m = lib.nn.Module()
    m.mu = lib.nn.Parameter(lib.tensor(np.array([[-1.0, 0.0], [1.0, 0.5], [0.0, -1.0]])))
    m.logs = lib.nn.Parameter(lib.tensor(np.zeros((3, 2))))
    m.logit = lib.nn.Parameter(lib.tensor(np.zeros(3)))

    def loss(x, y):
        z = (x[:, None, :] - m.mu) / m.logs.exp()
        lp = -0.5 * (z ** 2).sum(-1) - m.logs.sum(-1) - np.log(2 * np.pi) + \
            lib.nn.functional.log_softmax(m.logit, 0)
        return -lib.logsumexp(lp, dim=1).mean()

    return m, lib.optim.Adam(m.parameters(), lr=0.05), loss, None


def _scheduled(lib):
    m = lib.nn.Sequential(lib.nn.Linear(4, 6), lib.nn.Tanh(), lib.nn.Linear(6, 1)).double()
    opt = lib.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    sched = lib.optim.lr_scheduler.StepLR(opt, 2, 0.5)
    return m, opt, lambda x, y: ((m(x) - y) ** 2).mean(), sched


def _clipped_gelu(lib):
    m = lib.nn.Sequential(lib.nn.Linear(4, 6), lib.nn.GELU(), lib.nn.Linear(6, 1)).double()
    opt = lib.optim.Adam(m.parameters(), lr=0.05)
    return m, opt, lambda x, y: ((m(x) - y) ** 2).mean(), "clip"


def _language_model(lib):
    class LM(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = lib.nn.Embedding(9, 4, padding_idx=0)
            self.gru = lib.nn.GRU(4, 5, batch_first=True)
            self.out = lib.nn.Linear(5, 9)

        def forward(self, x):
            return self.out(self.gru(self.emb(x))[0])

    m = LM().double()
    opt = lib.optim.Adam(m.parameters(), lr=0.05)
    ce = lib.nn.functional.cross_entropy
    return m, opt, lambda x, y: ce(m(x).reshape(-1, 9), y.reshape(-1)), None


def _data(name, rng):
    if name == "transformer":
        return rng.normal(size=(2, 5, 8)), rng.normal(size=(2, 5, 8))
    if name.startswith("logreg"):
        return rng.normal(size=(16, 5)), rng.integers(0, 2, 16).astype(np.float64)
    if name == "gmm":
        return rng.normal(size=(20, 2)), np.zeros(1)
    if name == "lm":
        return rng.integers(0, 9, (3, 4)), rng.integers(0, 9, (3, 4))
    return rng.normal(size=(8, 4)), rng.normal(size=(8, 1))


MAKERS = {"transformer": _transformer, "logreg-SGD": _logreg("SGD"),
          "logreg-AdamW": _logreg("AdamW"), "gmm": _gmm, "scheduler": _scheduled,
          "clip-gelu": _clipped_gelu, "lm": _language_model}


def _run(lib, name, compiled=False):
    lib.manual_seed(0)
    m, opt, loss_fn, extra = MAKERS[name](lib)
    if lib is torch:  # (PyTorch's own initial values replaced by tapegrad's)
        tg.manual_seed(0)
        ref = MAKERS[name](tg)[0]
        m.load_state_dict({k: torch.tensor(_np(v)) for k, v in ref.state_dict().items()})

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(x, y)
        loss.backward()
        if extra == "clip":
            lib.nn.utils.clip_grad_norm_(m.parameters(), 0.3)
        opt.step()
        if extra is not None and extra != "clip":
            extra.step()
        return loss.detach()

    f = tg.compile(step, fullgraph=True) if compiled else step
    rng = np.random.default_rng(5)
    losses = [f(*[lib.tensor(a) for a in _data(name, rng)]).item() for _ in range(5)]
    if compiled:
        assert f._count == 1
    return np.array(losses), [_np(p) for p in m.parameters()]


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_compiled_step_matches_eager_and_torch(name):
    got = _run(tg, name, compiled=True)
    for want, tol in ((_run(tg, name), 1e-12), (_run(torch, name), 1e-10)):
        np.testing.assert_allclose(got[0], want[0], rtol=tol)
        for a, b in zip(got[1], want[1]):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol * 1e-2)
