"""``tg.func.replace_all_batch_norm_modules_``: batch norm modules lose their running statistics
(in place, the root included) and then normalise with each batch's statistics under ``vmap``, in
training and eval mode, as ``torch.func``'s; without it, vmap in training mode refuses to update
one running statistic from a batch of examples, as torch.func does."""

import numpy as np
import pytest

import tapegrad as tg

from tests.op_checks import needs_torch, torch

XS = np.random.default_rng(0).standard_normal((2, 4, 3))


def _net(lib):
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Linear(3, 4, dtype=lib.float64),
                            lib.nn.BatchNorm1d(4, dtype=lib.float64),
                            lib.nn.Linear(4, 2, dtype=lib.float64))
    rng = np.random.default_rng(1)
    with lib.no_grad():
        for p in net.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)), dtype=lib.float64))
    return net


def test_running_statistics_are_dropped_in_place():
    net = _net(tg)
    assert tg.func.replace_all_batch_norm_modules_(net) is net
    bn = net[1]
    assert bn.running_mean is None and bn.running_var is None
    assert bn.num_batches_tracked is None and not bn.track_running_stats
    assert dict(net.named_buffers()) == {}
    root = tg.nn.BatchNorm2d(3)
    assert tg.func.replace_all_batch_norm_modules_(root).running_var is None


def test_vmap_normalises_each_batch_by_its_own_statistics():
    net = tg.func.replace_all_batch_norm_modules_(_net(tg))
    for mode in (net.train, net.eval):
        mode()
        got = tg.func.vmap(net)(tg.tensor(XS)).detach().numpy()
        for i in range(len(XS)):
            h = XS[i] @ net[0].weight.detach().numpy().T + net[0].bias.detach().numpy()
            h = (h - h.mean(0)) / np.sqrt(h.var(0) + 1e-5)
            h = h * net[1].weight.detach().numpy() + net[1].bias.detach().numpy()
            want = h @ net[2].weight.detach().numpy().T + net[2].bias.detach().numpy()
            np.testing.assert_allclose(got[i], want, rtol=1e-10)


def test_vmap_refuses_to_update_unbatched_running_statistics():
    net = _net(tg)
    with pytest.raises(RuntimeError, match="Batch norm got a batched tensor as input while the "
                                           "running_mean or running_var, which will be updated "
                                           "in place, were not batched."):
        tg.func.vmap(net)(tg.tensor(XS))
    net.eval()  # (eval mode only reads them)
    assert tg.func.vmap(net)(tg.tensor(XS)).shape == (2, 4, 2)
    mean, var = tg.zeros(2, 3), tg.ones(2, 3)  # batched like the input: one per example
    out = tg.func.vmap(lambda x, m, v: tg.nn.functional.batch_norm(x, m, v, training=True))(
        tg.tensor(XS), mean, var)
    assert out.shape == (2, 4, 3)
    np.testing.assert_allclose(mean.numpy(), 0.1 * XS.mean(1), rtol=1e-10)


@needs_torch
def test_ensemble_matches_torch():
    def run(lib):
        models = [lib.func.replace_all_batch_norm_modules_(_net(lib)) for _ in range(2)]
        with lib.no_grad():
            for q in models[1].parameters():
                q.mul_(2)
        params, buffers = lib.func.stack_module_state(models)
        out = lib.func.vmap(lambda p, b, x: lib.func.functional_call(models[0], (p, b), (x,)),
                            in_dims=(0, 0, None))(params, buffers, lib.tensor(XS[0]))
        return buffers, out.detach().numpy()

    (b_tg, got), (b_torch, want) = run(tg), run(torch)
    assert b_tg == b_torch == {}
    np.testing.assert_allclose(got, want, rtol=1e-10)


@needs_torch
@pytest.mark.parametrize("shape", [(4, 1, 3), (4, 2, 3), (4, 1, 3, 1), (4, 2, 3, 5)])
def test_one_value_per_channel_checked_before_the_running_statistics(shape):
    """Per-example gradients through batch norm in training mode (an example of shape
    (1, C)): PyTorch's 'Expected more than 1 value per channel' on the example's shape comes
    first; the running-statistics refusal only where an example has more values."""
    x = np.cos(np.arange(np.prod(shape))).reshape(shape)

    def message(lib, f):
        with pytest.raises((ValueError, RuntimeError)) as e:
            f(lib)
        return type(e.value), str(e.value)

    def functional(lib):
        rm, rv = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
        lib.vmap(lambda s: lib.nn.functional.batch_norm(s, rm, rv, training=True))(lib.tensor(x))

    def per_sample_grad(lib):
        bn = lib.nn.BatchNorm1d(3, dtype=lib.float64)
        params = {k: v.detach() for k, v in bn.named_parameters()}
        buffers = dict(bn.named_buffers())
        loss = lambda p, s: lib.func.functional_call(bn, (p, buffers), (s,)).sum()  # noqa: E731
        examples = lib.tensor(x if x.ndim == 3 else x[..., 0])  # (BatchNorm1d: (N, C, L))
        lib.vmap(lib.func.grad(loss), in_dims=(None, 0))(params, examples)

    for f in (functional, per_sample_grad):
        assert message(tg, f) == message(torch, f)
