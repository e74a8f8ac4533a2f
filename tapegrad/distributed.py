"""tapegrad on a Dask cluster: a worker warm-up plugin and data-parallel gradients.

Tensors, ``tg.nn`` modules, optimizers and custom ``Function`` classes pickle, so Dask's own
``client.submit``/``client.map`` carry them to workers as they are (see ``docs/dask.md``). This
module holds only what Dask does not already provide:

* ``Warmup``: a ``WorkerPlugin`` that loads (or compiles) the Numba sweep on every worker when
  it is registered, so no task pays for it (``client.register_plugin(Warmup())``). The same
  thing as a worker preload: ``dask worker --preload tapegrad.warmup``.
* ``data_parallel_grad``: the gradient of a loss averaged over data shards, one task per shard,
  summed on the cluster by a pairwise tree, for data-parallel SGD with the optimizer on the
  client.

Importing this module imports ``distributed``; ``import tapegrad`` does not.
"""

import copy
import pickle

from .autograd import grad
from .grad_mode import no_grad
from .tensor import Tensor

try:
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:  # without Dask the helpers still run locally (client=None)
    _WorkerPlugin = object

class Warmup(_WorkerPlugin):
    """Worker plugin: run ``tapegrad.warmup`` on each worker (now and on workers that join).

    ``client.register_plugin(Warmup())`` returns once every worker has the compiled sweep
    loaded. It runs in a thread, so the worker keeps answering the scheduler meanwhile. With a
    warm Numba cache (``python -m tapegrad.warmup`` once per machine, or a shared
    ``NUMBA_CACHE_DIR``) that is a cache load of about a second; with a cold one, each worker
    compiles.
    """

    name = "tapegrad-warmup"
    idempotent = True  # registering it twice does not run it twice on a worker

    def __init__(self):
        if _WorkerPlugin is object:
            raise ImportError("tapegrad.distributed.Warmup needs Dask: "
                              "pip install 'tapegrad[dask]'")

    async def setup(self, worker):
        from . import warmup

        await warmup.dask_setup(worker)

def _shard_size(shard):
    first = shard[0] if isinstance(shard, (tuple, list)) else shard
    return len(first)

def _shard_grad(shard, model, loss_fn, reduction):
    """One task: ``(n, n*loss, [n*grad], [buffer])`` for ``reduction='mean'`` (``n`` the
    shard's size), ``(n, loss, [grad], [buffer])`` for ``'sum'``; gradients as arrays, ``None``
    where there is none; the buffers (running statistics) as the forward left them."""
    # each task copies the model: the scattered one is shared by a worker's threads (on a
    # processes=False cluster it is the client's own object), and its buffers (BatchNorm's
    # running statistics) would be updated by every shard at once. deepcopy, not a pickle
    # round trip: a class Dask brought by value (defined in the client's __main__ or in a
    # function) cannot be pickled by name on the worker
    if isinstance(model, _Shipped):
        model = model.model
    model = copy.deepcopy(model)
    args = shard if isinstance(shard, (tuple, list)) else (shard,)
    params = [p for p in model.parameters() if p.requires_grad]
    loss = loss_fn(model, *args)
    if params:  # autograd.grad: no .grad to clear first
        found = grad(loss, params, allow_unused=True)
    else:
        loss.backward()  # nothing to differentiate: the same error as without a cluster
        found = []
    n = _shard_size(shard)
    w = float(n) if reduction == "mean" else 1.0
    grads = [None if g is None else g.numpy() * w for g in found]
    return n, loss.item() * w, grads, [b.numpy() for b in model.buffers()]

class _Shipped:
    """A model carried to the workers by ``tapegrad.distributed``'s own pickler: one holding
    parametrized modules (weight_norm, ``register_parametrization``), which plain pickling
    refuses as PyTorch's does, arrives with its generated classes rebuilt."""

    def __init__(self, model):
        self.model = model

    def __reduce__(self):
        import io

        import cloudpickle  # (Dask's own dependency: classes of __main__ go by value)

        from .nn.utils.parametrize import reduce_parametrized

        class Pickler(cloudpickle.Pickler):
            def reducer_override(self, obj):
                found = reduce_parametrized(obj)
                return super().reducer_override(obj) if found is None else found

        buf = io.BytesIO()
        Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(self.model)
        return _unship, (buf.getvalue(),)


def _unship(payload):
    # still wrapped: a worker passes what it got on to others (scatter's broadcast), and the
    # model itself would not pickle there
    return _Shipped(pickle.loads(payload))


def _ship(model):
    """What ``client.scatter`` gets for ``model``: itself, or a ``_Shipped`` when it holds a
    parametrized module."""
    from .nn.utils.parametrize import is_parametrized

    modules = getattr(model, "modules", None)
    if callable(modules) and any(is_parametrized(m) for m in modules()):
        return _Shipped(model)
    return model


def _add(a, b):
    """Sum two ``_shard_grad`` results; the buffers are the first shard's."""
    grads = [x if y is None else y if x is None else x + y for x, y in zip(a[2], b[2])]
    return a[0] + b[0], a[1] + b[1], grads, a[3]

def _tree_reduce(combine, items, client=None):
    """Combine ``items`` pairwise, level by level ((0,1), (2,3), ...; an odd last one moves up),
    on the cluster when ``client`` is given (``items`` futures), else here. The order of the
    additions is the same either way, so the results are equal to the last bit."""
    items = list(items)
    while len(items) > 1:
        pairs = zip(items[0::2], items[1::2])
        if client is None:
            nxt = [combine(a, b) for a, b in pairs]
        else:
            nxt = [client.submit(combine, a, b, pure=False) for a, b in pairs]
        items = nxt + items[len(items) // 2 * 2:]
    return items[0]

def data_parallel_grad(model, loss_fn, shards, client=None, *, reduction="mean"):
    """Accumulate into ``model``'s ``.grad`` the gradient of ``loss_fn`` over all ``shards``,
    computing one shard per Dask task; return the loss (a float).

    ``loss_fn(model, *shard)`` returns a scalar tensor; a shard is a tuple of tensors (or a
    future of one, from ``client.scatter``) whose first item's length is its batch size. With
    ``reduction="mean"`` (``loss_fn`` averages over its batch) the shards' gradients are
    weighted by their sizes, so the result is the gradient of the mean over the whole batch;
    with ``"sum"`` they are added. Each worker gets the model once (by
    ``client.scatter(..., broadcast=True)``) and each shard runs on a copy of its own; the
    gradients are summed by a pairwise tree of tasks and only the sum comes back. The model's
    buffers (BatchNorm's running statistics) become those the first shard's forward left, as
    PyTorch's DistributedDataParallel keeps rank 0's. With ``client=None`` the same shards run
    here, one after another, summed in the same order: the results are bit-for-bit those of
    the cluster.

    Example (data-parallel SGD, the optimizer on the client):
        >>> import tapegrad as tg
        >>> import tapegrad.nn.functional as F
        >>> model = tg.nn.Linear(3, 1)
        >>> opt = tg.optim.SGD(model.parameters(), lr=0.1)
        >>> X, y = tg.randn(8, 3), tg.randn(8, 1)
        >>> shards = [(X[:4], y[:4]), (X[4:], y[4:])]
        >>> def loss_fn(m, xb, yb):
        ...     return F.mse_loss(m(xb), yb)
        >>> opt.zero_grad()
        >>> loss = tg.distributed.data_parallel_grad(model, loss_fn, shards)  # client=None
        >>> opt.step()
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', not {reduction!r}")
    shards = list(shards)
    if not shards:
        raise ValueError("data_parallel_grad needs at least one shard")
    if client is None:
        parts = [_shard_grad(s, model, loss_fn, reduction) for s in shards]
        n, loss, grads, buffers = _tree_reduce(_add, parts)
    else:
        m = client.scatter(_ship(model), broadcast=True, hash=False)
        parts = client.map(_shard_grad, shards, model=m, loss_fn=loss_fn, reduction=reduction,
                           pure=False)
        n, loss, grads, buffers = _tree_reduce(_add, parts, client).result()
        del m, parts
    with no_grad():
        for b, value in zip(model.buffers(), buffers):
            b.copy_(Tensor(value, dtype=value.dtype))
    scale = 1.0 / n if reduction == "mean" else 1.0
    params = [p for p in model.parameters() if p.requires_grad]
    for p, g in zip(params, grads):
        if g is None:
            continue
        g = Tensor(g * scale if scale != 1.0 else g, dtype=g.dtype)
        p.grad = g if p.grad is None else p.grad + g
    return loss * scale
