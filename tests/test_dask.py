"""Gradients on a Dask cluster: what crosses to the workers, warm-up, data-parallel gradients,
errors and memory (a LocalCluster of 2 worker processes; skipped without ``distributed``)."""

import gc
import pickle
import subprocess
import sys

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from tapegrad.warmup import warmup

N_WORKERS = 2


# ---- functions the workers run (module level: the workers import this module by name) ----

class Cube(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3.0 * x * x * g


class BackwardFailed(Exception):
    pass


class Explode(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x, kind):
        ctx.kind = kind
        return x * 2.0

    @staticmethod
    def backward(ctx, g):
        if ctx.kind == "value":
            raise ValueError("bad gradient for x: 42")
        raise BackwardFailed("custom failure in backward", 7)


def _f(x):
    return (tg.sin(x) * tg.exp(-x * x)).sum() + (x * x).sum() + Cube.apply(x).mean()


def grad_of(x):
    """The gradient, the value and the Hessian of ``_f`` at ``x``."""
    y = _f(x)
    y.backward()
    H = tg.autograd.functional.hessian(_f, x.detach())
    return x.grad, y.detach(), H


def explode(kind):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    if kind == "twice":  # one of tapegrad's own errors
        y = (x * x).sum()
        y.backward()
    else:
        y = Explode.apply(x, kind).sum()
    y.backward()


def train(model, opt, X, y, steps):
    """Runs on a worker: the model and its optimizer arrive in one pickle, so the optimizer
    still holds the model's parameters."""
    assert opt.param_groups[0]["params"][0] is next(model.parameters())
    for _ in range(steps):
        opt.zero_grad()
        F.mse_loss(model(X), y).backward()
        opt.step()
    return {"model": model.state_dict(), "opt": opt.state_dict()}


def loss_fn(model, X, y):
    return F.cross_entropy(model(X), y)


def small_task(k):
    x = tg.tensor(np.linspace(-1.0, 1.0, 20_000) + k, requires_grad=True)
    y = (tg.sin(x) * tg.exp(-x * x)).sum() + x @ x
    y.backward()
    return float(x.grad.sum())


def _worker_state():
    """A task: this worker's resident memory and what its task thread's tape holds."""
    import psutil

    gc.collect()
    stats = tg.autograd.tape_stats()
    return psutil.Process().memory_info().rss, stats["records"], stats["segments"]


def _on_each_worker(client, fn):
    return {w: client.submit(fn, workers=[w], allow_other_workers=False, pure=False).result()
            for w in client.scheduler_info()["workers"]}


def _kernel_state():
    """On a worker: is the sweep loaded, and did loading it compile (a cache miss)?"""
    from tapegrad.engine import kernels

    k = kernels._kernels.get(False)
    if k is None:
        return None
    return len(k.signatures), sum(k.stats.cache_misses.values())


class Symmetric(nn.Module):
    """A parametrization (a module-level class: the workers find it by name)."""

    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


def _parametrized_model():
    tg.manual_seed(0)
    m = nn.Sequential(nn.utils.parametrizations.weight_norm(nn.Linear(4, 4)), nn.Tanh(),
                      nn.Linear(4, 3))
    nn.utils.parametrize.register_parametrization(m[0], "bias", nn.Identity())
    nn.utils.parametrize.register_parametrization(m[2], "weight", _Rows())
    nn.utils.parametrize.register_parametrization(m[0], "weight", Symmetric())
    return m


class _Rows(nn.Module):
    def forward(self, X):
        return X * 2.0


# ---- fixtures ----

def _distributed():
    return pytest.importorskip(
        "distributed", reason="dask.distributed is not installed (pip install 'tapegrad[dask]')")


def _cluster(**kw):
    return _distributed().LocalCluster(n_workers=N_WORKERS, processes=True, threads_per_worker=1,
                                    dashboard_address=":0", **kw)


@pytest.fixture(scope="module")
def client():
    # the workers load the sweep from the Numba cache this process fills (same environment)
    distributed = _distributed()
    warmup()
    with _cluster() as cluster, distributed.Client(cluster) as c:
        yield c


def _local(fn, *args):
    """``fn`` run here on copies made the way Dask makes them (a pickle round trip)."""
    return fn(*pickle.loads(pickle.dumps(args)))


def _equal(a, b):
    if isinstance(a, tg.Tensor):
        a, b = a.detach().numpy(), b.detach().numpy()
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a, b, equal_nan=True), (a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _equal(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _equal(u, v)
    else:
        assert a == b


# ---- tests ----

def test_import_tapegrad_does_not_import_dask():
    code = ("import sys, tapegrad, tapegrad.nn, tapegrad.optim, tapegrad.warmup; "
            "print([m for m in ('dask', 'distributed') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_warmup_plugin_loads_the_sweep_before_the_first_task(client):
    from tapegrad.distributed import Warmup

    assert set(client.run(_kernel_state).values()) == {None}  # nothing loaded yet
    client.register_plugin(Warmup())
    for sigs, misses in client.run(_kernel_state).values():
        assert sigs == 1 and misses == 0  # loaded from the shared cache, not compiled again


def test_preload_warms_up_each_worker_as_it_starts():
    distributed = _distributed()
    warmup()
    with _cluster(preload=["tapegrad.warmup"]) as cluster, distributed.Client(cluster) as c:
        for sigs, misses in c.run(_kernel_state).values():
            assert sigs == 1 and misses == 0


@pytest.mark.parametrize("case", ["float64", "float32", "view", "non-leaf", "scalar"])
def test_worker_gradients_equal_local_ones_to_the_last_bit(client, case):
    base = np.linspace(-1.5, 2.0, 6)
    if case == "float32":
        x = tg.tensor(base, dtype=np.float32, requires_grad=True)
    elif case == "view":  # a strided view of a bigger tensor travels as its own values
        x = tg.tensor(np.arange(24.0).reshape(4, 6) / 7.0).T[::2, 1].requires_grad_()
    elif case == "non-leaf":  # history does not travel: it arrives as a leaf requiring grad
        x = tg.tensor(base, requires_grad=True) * 0.5
    else:
        x = tg.tensor(base[:1].reshape(()) if case == "scalar" else base, requires_grad=True)
    remote = client.submit(grad_of, x).result()
    local = _local(grad_of, x)
    _equal(remote, local)
    g, _, H = remote
    assert g.dtype == x.dtype and H.shape == x.shape * 2
    assert x.grad is None if x.is_leaf else x.grad_fn is not None  # nothing came back into x


def test_module_and_optimizer_train_on_a_worker(client):
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = tg.optim.Adam(model.parameters(), lr=0.05)
    X, y = tg.randn(16, 3), tg.randn(16, 2)
    train(model, opt, X, y, 2)  # the optimizer has state before it travels
    four = client.submit(train, model, opt, X, y, 4)
    remote = client.submit(train, model, opt, X, y, 3).result()
    _equal(remote, _local(train, model, opt, X, y, 3))
    # a returned tuple or dict is unpickled item by item, so the link between a model and its
    # optimizer would not survive the trip back: send state_dicts and load them
    model.load_state_dict(remote["model"])
    opt.load_state_dict(remote["opt"])
    _equal(train(model, opt, X, y, 1), four.result())


def test_data_parallel_step_equals_the_single_process_step(client):
    from tapegrad.distributed import data_parallel_grad

    rng = np.random.default_rng(1)
    X = tg.tensor(rng.standard_normal((24, 4)))
    y = tg.tensor(rng.integers(0, 3, 24))
    cuts = [0, 5, 12, 18, 24]  # unequal shards: the mean is weighted by their sizes
    shards = [(X[a:b], y[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]
    shard_futures = client.scatter(shards)

    def make():
        tg.manual_seed(0)
        m = nn.Sequential(nn.Linear(4, 16), nn.GELU(), nn.Linear(16, 3))
        return m, tg.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

    (m_dask, o_dask), (m_here, o_here), (m_full, o_full) = make(), make(), make()
    for _ in range(3):
        for o in (o_dask, o_here, o_full):
            o.zero_grad()
        loss_dask = data_parallel_grad(m_dask, loss_fn, shard_futures, client)
        loss_here = data_parallel_grad(m_here, loss_fn, shards)  # the same sums, in this process
        loss_full = loss_fn(m_full, X, y)
        loss_full.backward()
        assert loss_dask == loss_here
        assert loss_dask == pytest.approx(loss_full.item(), rel=1e-14)
        for pd, ph, pf in zip(m_dask.parameters(), m_here.parameters(), m_full.parameters()):
            _equal(pd.grad, ph.grad)
            np.testing.assert_allclose(pd.grad.numpy(), pf.grad.numpy(), rtol=1e-12,
                                       atol=1e-15)
        for o in (o_dask, o_here, o_full):
            o.step()
    for pd, ph, pf in zip(m_dask.parameters(), m_here.parameters(), m_full.parameters()):
        _equal(pd, ph)
        np.testing.assert_allclose(pd.detach().numpy(), pf.detach().numpy(), rtol=1e-12,
                                   atol=1e-15)


@pytest.mark.parametrize("kind", ["value", "custom", "twice"])
def test_an_error_in_backward_reaches_the_client_unchanged(client, kind):
    with pytest.raises(Exception) as here:
        explode(kind)
    with pytest.raises(Exception) as there:
        client.submit(explode, kind, pure=False).result()
    assert type(there.value) is type(here.value)
    assert str(there.value) == str(here.value) and there.value.args == here.value.args


def test_worker_memory_stays_flat_over_200_tasks(client):
    client.gather(client.map(small_task, range(20), pure=False))  # allocator and caches settle
    before = _on_each_worker(client, _worker_state)
    for start in range(0, 200, 50):
        results = client.gather(client.map(small_task, range(start, start + 50), pure=False))
        assert len(results) == 50
    after = _on_each_worker(client, _worker_state)
    for w in before:
        rss0, rec0, seg0 = before[w]
        rss1, rec1, seg1 = after[w]
        # each task saves ~0.8 MB of arrays: keeping a tenth of them would add 16 MB; Dask's
        # own bookkeeping adds 1-2 kB a task
        assert rss1 - rss0 < 16e6, f"{w}: RSS grew by {(rss1 - rss0) / 1e6:.1f} MB"
        assert (rec1, seg1) == (rec0, seg0)  # the tape holds no more than before


_both_forward = None  # set by the test below; module level, so the task pickles by reference


def _loss_waiting_for_the_other_shard(model, X, y):
    out = F.mse_loss(model(X), y)
    _both_forward.wait()  # both shards are between forward and backward
    return out


def test_data_parallel_shards_running_at_once_on_one_model_object():
    """On a processes=False cluster the tasks get the client's own model object (a worker with
    several threads shares its one scattered copy the same way): two shards computed at the
    same moment must not mix their gradients, nor clear the .grad the client already has."""
    global _both_forward
    distributed = _distributed()
    import threading

    from tapegrad.distributed import data_parallel_grad

    _both_forward = threading.Barrier(2, timeout=20)
    rng = np.random.default_rng(3)
    X, y = tg.tensor(rng.standard_normal((10, 3))), tg.tensor(rng.standard_normal((10, 1)))
    shards = [(X[:4], y[:4]), (X[4:], y[4:])]
    tg.manual_seed(0)
    model = nn.Linear(3, 1)
    F.mse_loss(model(X), y).backward()  # an accumulated gradient data_parallel_grad adds to
    before = [p.grad.numpy().copy() for p in model.parameters()]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        data_parallel_grad(model, _loss_waiting_for_the_other_shard, shards, c)
    for p, b in zip(model.parameters(), before):
        np.testing.assert_allclose(p.grad.numpy(), 2 * b, rtol=1e-12, atol=1e-15)


def test_data_parallel_buffers_are_the_first_shards_as_in_torch_ddp(client, torch):
    """BatchNorm's running statistics after a step: those the first shard's forward leaves (as
    DistributedDataParallel keeps rank 0's), on the cluster and with client=None alike; they
    were left at their initial values."""
    from tapegrad.distributed import data_parallel_grad

    rng = np.random.default_rng(2)
    X = tg.tensor(rng.standard_normal((12, 4)) + 3.0)
    y = tg.tensor(rng.integers(0, 3, 12))
    shards = [(X[:5], y[:5]), (X[5:], y[5:])]

    def make():
        tg.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Linear(5, 3))

    m_dask, m_here = make(), make()
    ref = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5),
                              torch.nn.Linear(5, 3)).double()
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m_here.state_dict().items()})
    for _ in range(2):
        data_parallel_grad(m_dask, loss_fn, shards, client)
        data_parallel_grad(m_here, loss_fn, shards)
        ref(torch.tensor(X[:5].numpy()))
    for name, want in ref.state_dict().items():
        if "running" in name or "num_batches" in name:
            np.testing.assert_allclose(m_dask.state_dict()[name].numpy(), want.numpy(),
                                       rtol=1e-12)
            _equal(m_dask.state_dict()[name], m_here.state_dict()[name])


def test_data_parallel_model_of_a_class_defined_in_a_function(client):
    """A model class that pickle cannot find by name (defined in a function, or in the client's
    __main__ under a `dask worker` that is not that script): Dask sends it by value, and each
    shard's private copy must not need the name either."""
    from tapegrad.distributed import data_parallel_grad

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 3)

        def forward(self, x):
            return self.lin(x).tanh()

    rng = np.random.default_rng(4)
    X, y = tg.tensor(rng.standard_normal((9, 4))), tg.tensor(rng.integers(0, 3, 9))
    shards = [(X[:4], y[:4]), (X[4:], y[4:])]
    tg.manual_seed(0)
    models = [Net() for _ in range(3)]
    for m in models[1:]:
        m.load_state_dict(models[0].state_dict())
    data_parallel_grad(models[0], loss_fn, shards, client)
    data_parallel_grad(models[1], loss_fn, shards)
    loss_fn(models[2], X, y).backward()
    for pd, ph, pf in zip(*(m.parameters() for m in models)):
        _equal(pd.grad, ph.grad)
        np.testing.assert_allclose(pd.grad.numpy(), pf.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_parametrized_model_ships_to_the_workers(client):
    """weight_norm / register_parametrization modules: plain pickling refuses them (as
    PyTorch's), data_parallel_grad carries them with its own pickler."""
    from tapegrad.distributed import data_parallel_grad

    rng = np.random.default_rng(2)
    X = tg.tensor(rng.standard_normal((10, 4)))
    y = tg.tensor(rng.integers(0, 3, 10))
    shards = [(X[:4], y[:4]), (X[4:], y[4:])]
    m_dask, m_here, m_full = (_parametrized_model() for _ in range(3))
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(m_dask)
    loss_dask = data_parallel_grad(m_dask, loss_fn, client.scatter(shards), client)
    loss_here = data_parallel_grad(m_here, loss_fn, shards)
    loss_fn(m_full, X, y).backward()
    assert loss_dask == loss_here
    names = [n for n, _ in m_full.named_parameters()]
    assert any("original" in n for n in names)
    for pd, ph, pf in zip(m_dask.parameters(), m_here.parameters(), m_full.parameters()):
        _equal(pd.grad, ph.grad)
        np.testing.assert_allclose(pd.grad.numpy(), pf.grad.numpy(), rtol=1e-12, atol=1e-15)
