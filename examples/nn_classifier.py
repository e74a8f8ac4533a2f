"""Classify two interleaved spirals with a tg.nn.Module, F.cross_entropy, AdamW and a schedule.

The dataset is generated here (two noisy spirals in the plane). The model is an MLP built from
nn.Linear layers; training uses mini-batches, AdamW with decoupled weight decay, cosine
annealing of the learning rate and gradient-norm clipping, then reports test accuracy.

Run: python examples/nn_classifier.py        (NN_EXAMPLE_STEPS=N to change the step count)
"""

import os

import numpy as np

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F


def two_spirals(n, noise, rng):
    """``n`` points per class on two spirals, with labels 0 and 1."""
    t = np.sqrt(rng.uniform(size=n)) * 3 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], 1) / (3 * np.pi)
    X = np.concatenate([arm, -arm]) + noise * rng.standard_normal((2 * n, 2))
    y = np.concatenate([np.zeros(n, np.int64), np.ones(n, np.int64)])
    return X, y


class SpiralNet(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.inp = nn.Linear(2, hidden)
        self.hidden = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(2)])
        self.norm = nn.LayerNorm(hidden)
        self.out = nn.Linear(hidden, 2)

    def forward(self, x):
        h = F.gelu(self.inp(x))
        for layer in self.hidden:
            h = h + F.silu(layer(h))  # residual blocks
        return self.out(self.norm(h))


def main():
    steps = int(os.environ.get("NN_EXAMPLE_STEPS", "300"))
    rng = np.random.default_rng(0)
    tg.manual_seed(0)
    X, y = two_spirals(200, 0.02, rng)
    perm = rng.permutation(len(y))
    train, test = perm[:300], perm[300:]

    model = SpiralNet()
    print(model)
    print("parameters:", sum(p.numel() for p in model.parameters()))
    opt = tg.optim.AdamW(model.parameters(), lr=0.02, weight_decay=1e-3)
    sched = tg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=1e-4)

    for step in range(1, steps + 1):
        batch = rng.choice(train, 64, replace=False)
        model.train()
        opt.zero_grad()
        loss = F.cross_entropy(model(tg.tensor(X[batch])), tg.tensor(y[batch]),
                               label_smoothing=0.05)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        if step % max(1, steps // 6) == 0 or step == steps:
            print(f"step {step:4d}  loss {loss.item():.4f}  lr {sched.get_last_lr()[0]:.5f}")

    model.eval()
    with tg.no_grad():
        pred = model(tg.tensor(X[test])).argmax(1).numpy()
    acc = float((pred == y[test]).mean())
    print(f"test accuracy: {acc:.3f}")
    state = model.state_dict()
    clone = SpiralNet()
    clone.load_state_dict(state)
    with tg.no_grad():
        same = np.array_equal(clone(tg.tensor(X[test])).numpy(),
                              model(tg.tensor(X[test])).numpy())
    print("state_dict round trip reproduces the predictions:", same)
    assert same


if __name__ == "__main__":
    main()
