"""Train a tanh MLP with a compiled training step (tg.compile) and measure the speed-up.

The step (forward, loss, backward, Adam update) is ordinary tapegrad code. ``tg.compile`` runs
it eagerly once while recording it, then replays the recording: same results, same updates of
the parameters and of Adam's state, without the Python work of every op.

Run: python examples/compiled_training.py [steps]
"""

import itertools
import sys
import time

import numpy as np

import tapegrad as tg


def make_problem(seed=0, n=64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 8))
    y = np.sin(X @ rng.standard_normal(8))[:, None]
    return tg.tensor(X), tg.tensor(y)


def make_model(seed=1, sizes=(8, 32, 32, 1)):
    rng = np.random.default_rng(seed)
    params = []
    for m, n in itertools.pairwise(sizes):
        params += [tg.tensor(rng.standard_normal((m, n)) / np.sqrt(m), requires_grad=True),
                   tg.zeros(n, requires_grad=True)]
    return params, tg.optim.Adam(params, lr=1e-2)


def make_step(params, opt):
    def step(X, y):
        h = X
        for i in range(0, len(params) - 2, 2):
            h = tg.tanh(h @ params[i] + params[i + 1])
        loss = ((h @ params[-2] + params[-1] - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def train(step, X, y, steps):
    t0 = time.process_time()
    for _ in range(steps):
        loss = step(X, y)
    return loss.item(), time.process_time() - t0


def main(steps=300):
    X, y = make_problem()
    eager_params, eager_opt = make_model()
    params, opt = make_model()
    eager_step = make_step(eager_params, eager_opt)
    compiled_step = tg.compile(make_step(params, opt))

    eager_step(X, y)  # loads the compiled backward sweep (Numba's cache)
    t0 = time.perf_counter()
    compiled_step(X, y)  # the first call traces (runs eagerly, records)
    print(f"first compiled call (trace + code generation): {time.perf_counter() - t0:.3f} s")
    eager_loss, eager_time = train(eager_step, X, y, steps)
    loss, compiled_time = train(compiled_step, X, y, steps)
    worst = max(float(np.abs(p.detach().numpy() - q.detach().numpy()).max())
                for p, q in zip(params, eager_params))
    print(f"{steps} steps: eager {eager_time * 1e3:.1f} ms, compiled {compiled_time * 1e3:.1f} ms "
          f"-> speed-up {eager_time / compiled_time:.2f}x")
    print(f"final loss: eager {eager_loss:.6f}, compiled {loss:.6f}; "
          f"largest parameter difference {worst:.1e}")
    assert worst < 1e-9, "the compiled step must train exactly as the eager one"
    return eager_time / compiled_time


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
