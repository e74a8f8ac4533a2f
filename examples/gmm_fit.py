"""Fit a Gaussian mixture by gradient ascent on its log-likelihood, gradient checked first.

Points are drawn from three known 2-d Gaussians. The mixture with K components, weights
softmax(logits), means mu_k and diagonal standard deviations exp(log_sigma_k), has

    log p(x) = logsumexp_k [ log w_k + sum_j log N(x_j; mu_kj, sigma_kj) ]

computed in the numerically stable form m + log(sum(exp(a - m))), m = max_k a_k, so that
points far from every component do not underflow to log(0). The unconstrained parameters
(logits, mu, log_sigma) are fitted with tg.optim.Adam. Before fitting, the script compares the
tape's gradient with central finite differences in float64 and prints the largest difference;
after fitting it checks that the means and weights are recovered.

When matplotlib is installed, a figure of the data and the fitted components is saved as
gmm_fit.png in the directory named by TAPEGRAD_EXAMPLE_OUT (default: the current directory);
the script prints the path.

Run: python examples/gmm_fit.py        (GMM_EXAMPLE_POINTS=N points per component,
GMM_EXAMPLE_STEPS=N Adam steps)
"""

import math
import os

import numpy as np

import tapegrad as tg

TRUE_MEANS = np.array([[-2.0, 0.0], [2.0, 1.0], [0.0, 3.0]])
TRUE_SIGMAS = np.array([[0.6, 0.4], [0.5, 0.8], [0.7, 0.5]])
TRUE_WEIGHTS = np.array([0.5, 0.3, 0.2])


def sample(n_per_unit, rng):
    """Points from the true mixture: component k gets ``n * weight_k / min(weight)`` points."""
    counts = np.round(n_per_unit * TRUE_WEIGHTS / TRUE_WEIGHTS.min()).astype(int)
    parts = [m + s * rng.standard_normal((c, 2))
             for m, s, c in zip(TRUE_MEANS, TRUE_SIGMAS, counts)]
    return np.concatenate(parts)


def logsumexp(a, dim):
    """log(sum(exp(a), dim)) without overflow or underflow: shift by the (constant) maximum."""
    m = a.detach().max(dim, keepdim=True).values
    return (m + (a - m).exp().sum(dim, keepdim=True).log()).squeeze(dim)


def log_likelihood(X, logits, mu, log_sigma):
    """Mean log-density of the rows of ``X`` (n, d) under the mixture."""
    log_w = logits - logsumexp(logits, 0)
    z = (X[:, None, :] - mu[None]) / log_sigma.exp()[None]         # (n, K, d)
    log_normal = (-0.5 * z ** 2 - log_sigma[None] - 0.5 * math.log(2 * math.pi)).sum(2)
    return logsumexp(log_w[None] + log_normal, 1).mean()


def finite_difference_check(f, params, eps=1e-6):
    """Largest |tape gradient - central difference| over every entry of every parameter."""
    for p in params:
        p.grad = None
    f().backward()
    worst = 0.0
    for p in params:
        data = p.detach().numpy()  # shares memory with p: nudge entries in place
        for i in np.ndindex(data.shape):
            old = data[i]
            data[i] = old + eps
            with tg.no_grad():
                up = f().item()
            data[i] = old - eps
            with tg.no_grad():
                down = f().item()
            data[i] = old
            worst = max(worst, abs((up - down) / (2 * eps) - p.grad.numpy()[i]))
    return worst


def save_figure(X, mu, sigma):
    path = os.path.join(os.environ.get("TAPEGRAD_EXAMPLE_OUT", "."), "gmm_fit.png")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no figure saved (it would be {path})")
        return
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(X[:, 0], X[:, 1], ".", ms=3, alpha=0.5, label="data")
    angle = np.linspace(0, 2 * np.pi, 100)
    for m, s in zip(mu, sigma):
        ax.plot(m[0] + 2 * s[0] * np.cos(angle), m[1] + 2 * s[1] * np.sin(angle), "k-")
    ax.plot(mu[:, 0], mu[:, 1], "r+", ms=12, label="fitted means (2 sigma ellipses)")
    ax.set_aspect("equal")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print("figure saved to", os.path.abspath(path))


def main():
    n = int(os.environ.get("GMM_EXAMPLE_POINTS", "300"))
    steps = int(os.environ.get("GMM_EXAMPLE_STEPS", "300"))
    rng = np.random.default_rng(0)
    X = tg.tensor(sample(n, rng))
    print(f"{X.shape[0]} points from a 3-component mixture in 2-d")

    logits = tg.zeros(3, requires_grad=True)
    mu = tg.tensor(X.numpy()[rng.choice(X.shape[0], 3, replace=False)], requires_grad=True)
    log_sigma = tg.zeros(3, 2, requires_grad=True)
    params = [logits, mu, log_sigma]

    diff = finite_difference_check(lambda: log_likelihood(X, *params), params)
    print(f"gradient vs central finite differences: max abs difference {diff:.2e}")
    assert diff < 1e-6

    opt = tg.optim.Adam(params, lr=0.05)
    for step in range(1, steps + 1):
        opt.zero_grad()
        loss = -log_likelihood(X, *params)
        loss.backward()
        opt.step()
        if step % max(1, steps // 8) == 0 or step == 1:
            print(f"step {step:4d}  mean log-likelihood {-loss.item():.5f}")

    # Components are found in any order: match them to the true ones by their x-coordinate.
    order = np.argsort(mu.detach().numpy()[:, 0])
    true_order = np.argsort(TRUE_MEANS[:, 0])
    with tg.no_grad():
        weights = tg.softmax(logits, 0).numpy()[order]
        fit_mu = mu.detach().numpy()[order]
        fit_sigma = log_sigma.exp().numpy()[order]
    for k, t in enumerate(true_order):
        print(f"component {k}: weight {weights[k]:.3f} (true {TRUE_WEIGHTS[t]:.3f})  "
              f"mean {np.round(fit_mu[k], 3)} (true {TRUE_MEANS[t]})")
    # A few hundred points pin the means to ~0.1 and the weights to ~0.05.
    assert np.abs(fit_mu - TRUE_MEANS[true_order]).max() < 0.25
    assert np.abs(weights - TRUE_WEIGHTS[true_order]).max() < 0.08
    print("recovered the true means and weights")
    save_figure(X.numpy(), fit_mu, fit_sigma)


if __name__ == "__main__":
    main()
