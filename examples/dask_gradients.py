"""Gradients on a Dask cluster: a multi-start Newton fit and data-parallel SGD.

1. Fit a damped oscillation y = a·exp(-b·t)·cos(c·t + d) to noisy data from many random starts,
   each start a damped Newton iteration with the exact gradient and Hessian
   (``tg.autograd.functional.hessian``), one Dask task per start on a LocalCluster of 2 worker
   processes; then the same starts in this process, for the speed-up.
2. Data-parallel training: each step, every worker computes the gradient on its shard of the
   batch, a tree of tasks sums them (``tg.distributed.data_parallel_grad``), and the optimizer
   steps here; the averaged gradient equals the single-process full-batch gradient.

Run: python examples/dask_gradients.py   (needs ``pip install 'tapegrad[dask]'``)
Size: DASK_EXAMPLE_STARTS (default 32), DASK_EXAMPLE_WORKERS (default 2).
"""

import os
import pickle
import sys
import time

import numpy as np

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F

# ---- 1. multi-start nonlinear least squares ------------------------------------------------

T = np.linspace(0.0, 6.0, 120)
TRUE = np.array([2.0, 0.3, 2.5, 0.4])
Y = TRUE[0] * np.exp(-TRUE[1] * T) * np.cos(TRUE[2] * T + TRUE[3]) \
    + 0.05 * np.random.default_rng(0).standard_normal(T.size)


def sse(p):
    t, y = tg.tensor(T), tg.tensor(Y)
    r = p[0] * tg.exp(-p[1] * t) * tg.cos(p[2] * t + p[3]) - y
    return 0.5 * (r * r).sum()


def newton_fit(p0, iters=30):
    """Levenberg-damped Newton with exact gradients and Hessians; returns (loss, p, steps)."""
    with np.errstate(all="ignore"):  # wild trial steps may overflow exp: they are rejected
        return _newton(np.asarray(p0, dtype=float), iters)


def _newton(p, iters):
    lam = 1e-3
    f = sse(tg.tensor(p)).item()
    for it in range(iters):
        x = tg.tensor(p, requires_grad=True)
        (g,) = tg.autograd.grad(sse(x), x)
        H = tg.autograd.functional.hessian(sse, tg.tensor(p)).numpy()
        g = g.numpy()
        if np.linalg.norm(g) < 1e-9:
            break
        while lam < 1e12:  # raise the damping until the step goes downhill
            step = np.linalg.solve(H + lam * np.eye(p.size), g)
            f_new = sse(tg.tensor(p - step)).item()
            if f_new < f:  # (False for nan)
                p, f, lam = p - step, f_new, max(lam / 10, 1e-12)
                break
            lam *= 10
        else:
            break
    a, b, c, d = p
    if c < 0:  # the same curve: cos(-c·t - d) = cos(c·t + d)
        c, d = -c, -d
    return f, np.array([a, b, c, (d + np.pi) % (2 * np.pi) - np.pi]), it + 1


def starts(n):
    rng = np.random.default_rng(42)
    lo, hi = np.array([0.5, 0.0, 0.5, -np.pi]), np.array([4.0, 1.0, 4.0, np.pi])
    return list(lo + (hi - lo) * rng.random((n, 4)))


def multistart(client, n_starts):
    from distributed import as_completed

    p0s = starts(n_starts)
    t0 = time.perf_counter()
    futures = client.map(newton_fit, p0s, pure=False)
    done, results = 0, {}
    index = {f.key: i for i, f in enumerate(futures)}
    for fut in as_completed(futures):
        results[index[fut.key]] = fut.result()
        done += 1
        if done % max(1, n_starts // 4) == 0 or done == n_starts:
            best = min(r[0] for r in results.values())
            print(f"  {done:3d}/{n_starts} starts done, best loss so far {best:.5f}", flush=True)
    t_dask = time.perf_counter() - t0
    t0 = time.perf_counter()
    serial = [newton_fit(p) for p in p0s]
    t_one = time.perf_counter() - t0
    for i, r in enumerate(serial):  # the workers computed exactly what this process does
        assert r[0] == results[i][0] and np.array_equal(r[1], results[i][1])
    f, p, _ = min(serial, key=lambda r: r[0])
    print(f"  best fit a, b, c, d = {np.round(p, 3)} (true {TRUE}), loss {f:.5f}")
    print(f"  {n_starts} starts: {t_dask:.2f} s on {len(client.scheduler_info()['workers'])} "
          f"workers, {t_one:.2f} s in one process: speed-up {t_one / t_dask:.2f}x")
    return p


# ---- 2. data-parallel SGD --------------------------------------------------------------------

def loss_fn(model, X, y):
    return F.cross_entropy(model(X), y)


def make_model():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 2))
    return model, tg.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)


def data_parallel(client, steps=15, n=256, n_shards=4):
    rng = np.random.default_rng(1)
    Xn = rng.standard_normal((n, 2))
    X, y = tg.tensor(Xn), tg.tensor((Xn[:, 0] * Xn[:, 1] > 0).astype(np.int64))
    cuts = np.linspace(0, n, n_shards + 1).astype(int)
    shards = client.scatter([(X[a:b], y[a:b]) for a, b in zip(cuts[:-1], cuts[1:])])
    (model, opt), (ref, ref_opt) = make_model(), make_model()
    worst = 0.0
    for step in range(steps):
        here = pickle.loads(pickle.dumps(model))  # the same parameters, in this process
        loss_here = loss_fn(here, X, y)
        loss_here.backward()
        opt.zero_grad()
        loss = tg.distributed.data_parallel_grad(model, loss_fn, shards, client)
        for p, q in zip(model.parameters(), here.parameters()):
            g, g1 = p.grad.numpy(), q.grad.numpy()
            worst = max(worst, float(np.abs(g - g1).max() / np.abs(g1).max()))
        opt.step()
        ref_opt.zero_grad()  # and a run in one process from the start, for comparison
        loss_fn(ref, X, y).backward()
        ref_opt.step()
        if step % 5 == 0 or step == steps - 1:
            print(f"  step {step:2d}: loss {loss:.6f} (one process, same parameters: "
                  f"{loss_here.item():.6f})")
    assert worst < 1e-13, worst
    drift = max(float(np.abs(p.detach().numpy() - q.detach().numpy()).max())
                for p, q in zip(model.parameters(), ref.parameters()))
    acc = (model(X).detach().numpy().argmax(1) == y.numpy()).mean()
    print(f"  {n_shards} shards on the workers; averaged gradient vs one-process gradient: "
          f"largest difference {worst:.1e} (relative to the largest entry); parameters after "
          f"{steps} steps vs a one-process run: {drift:.1e}; accuracy {acc:.2f}")


def main():
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        print("This example needs Dask: pip install 'tapegrad[dask]' (skipped).")
        return
    import tapegrad.distributed  # noqa: F401  (tg.distributed)
    from tapegrad.warmup import warmup

    n_starts = int(os.environ.get("DASK_EXAMPLE_STARTS", "32"))
    n_workers = int(os.environ.get("DASK_EXAMPLE_WORKERS", "2"))
    warmup()  # fills the Numba cache the workers load from
    t0 = time.perf_counter()
    with LocalCluster(n_workers=n_workers, processes=True, threads_per_worker=1,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        client.register_plugin(tg.distributed.Warmup())  # every worker loads the sweep now
        print(f"cluster of {n_workers} worker processes ready in {time.perf_counter() - t0:.1f} s")
        print("multi-start Newton fit (exact gradients and Hessians):")
        p = multistart(client, n_starts)
        assert np.allclose(p, TRUE, atol=0.1), p
        print("data-parallel SGD:")
        data_parallel(client)


if __name__ == "__main__":
    sys.exit(main())
