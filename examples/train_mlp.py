"""Train a small tanh MLP on a 2-D two-moons style problem with tg.optim.Adam.

Run: python examples/train_mlp.py
"""

import numpy as np

import tapegrad as tg
import tapegrad.nn.functional as F


def make_moons(n, rng):
    t = rng.uniform(0, np.pi, n)
    upper = np.stack([np.cos(t), np.sin(t)], 1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)
    X = np.concatenate([upper, lower]) + rng.normal(0, 0.1, (2 * n, 2))
    y = np.concatenate([np.zeros(n, np.int64), np.ones(n, np.int64)])
    return X, y


def main(steps=300, seed=0):
    rng = np.random.default_rng(seed)
    X, y = make_moons(100, rng)
    X, y = tg.tensor(X), tg.tensor(y)
    sizes = [2, 32, 32, 2]
    params = []
    for m, n in zip(sizes[:-1], sizes[1:]):
        params += [tg.tensor(rng.standard_normal((m, n)) / np.sqrt(m), requires_grad=True),
                   tg.zeros(n, requires_grad=True)]
    opt = tg.optim.Adam(params, lr=0.02)

    def forward(h):
        for i in range(0, len(params) - 2, 2):
            h = tg.tanh(h @ params[i] + params[i + 1])
        return h @ params[-2] + params[-1]

    for step in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(forward(X), y)
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")
    with tg.no_grad():
        acc = (forward(X).argmax(1) == y).numpy().mean()
    print(f"final loss {loss.item():.4f}, training accuracy {acc:.2%}")
    return loss.item(), acc


if __name__ == "__main__":
    main()
