"""``cosine_similarity``, ``pairwise_distance``, ``pdist`` and ``cdist`` (functions and modules,
zero vectors, coincident rows and ties of the p = inf maximum included), ``Flatten``/
``Unflatten``, and the parameter containers ``ParameterList``/``ParameterDict``."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F

_rng = np.random.default_rng(5)
X = _rng.standard_normal((4, 3))
Y = _rng.standard_normal((4, 3))
X[1] = 0.0  # a zero vector (the eps clamp)
Y[2] = X[2]  # a zero difference
TIES = np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 0.5], [2.0, 2.0], [0.0, 0.0]])

PROGRAMS = {
    "cosine": (lambda T, a, b: T.nn.functional.cosine_similarity(a, b), (X, Y)),
    "cosine dim 0": (lambda T, a, b: T.nn.functional.cosine_similarity(a, b, dim=0), (X, Y)),
    "cosine broadcast": (lambda T, a, b: T.nn.functional.cosine_similarity(a, b, dim=-1),
                         (X, Y[:1])),
    "cosine eps": (lambda T, a, b: T.nn.functional.cosine_similarity(a * 1e-5, b, eps=1e-3),
                   (X, Y)),
    "cosine module": (lambda T, a, b: T.nn.CosineSimilarity(dim=0)(a, b), (X, Y)),
    "torch.cosine_similarity": (lambda T, a, b: T.cosine_similarity(a, b), (X, Y)),
    "pairwise": (lambda T, a, b: T.nn.functional.pairwise_distance(a, b), (X, Y)),
    "pairwise p=1 keepdim": (lambda T, a, b: T.nn.functional.pairwise_distance(
        a, b, p=1, keepdim=True), (X, Y)),
    "pairwise broadcast": (lambda T, a, b: T.nn.functional.pairwise_distance(a, b[0]), (X, Y)),
    "pairwise module": (lambda T, a, b: T.nn.PairwiseDistance(p=3)(a, b), (X, Y)),
    "pdist": (lambda T, a: T.nn.functional.pdist(a), (np.vstack([X, X[:1]]),)),
    "pdist p=1": (lambda T, a: T.pdist(a, p=1), (X,)),
    # p = inf: PyTorch's cdist/pdist give every coordinate tied for the maximum sign(diff)
    "pdist p=inf ties": (lambda T, a: T.nn.functional.pdist(a, p=float("inf")), (TIES,)),
    "cdist p=inf ties": (lambda T, a, b: T.cdist(a, b, p=float("inf")), (TIES[:3], TIES[3:])),
    "cdist p=inf 40 rows": (lambda T, a, b: T.cdist(a, b, p=float("inf")),
                            (np.repeat(TIES, 8, 0), TIES)),
    "flatten": (lambda T, a: T.nn.Flatten()(a.reshape(2, 2, 3)), (X,)),
    "flatten 0..1": (lambda T, a: T.nn.Flatten(0, 1)(a.reshape(2, 2, 3)), (X,)),
    "unflatten": (lambda T, a: T.nn.Unflatten(1, (3, 1))(a), (X,)),
}


def _run(lib, name):
    f, arrays = PROGRAMS[name]
    xs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = f(lib, *xs)
    w = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)),
                   dtype=lib.float64)
    (out * w).sum().backward()
    return np.asarray(out.tolist()), [np.asarray(x.grad.tolist()) for x in xs]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_distance_functions_match_torch(torch, name):
    out, grads = _run(tg, name)
    t_out, t_grads = _run(torch, name)
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-12)
    for a, b in zip(grads, t_grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_distance_functions_without_torch():
    a = tg.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=tg.float64, requires_grad=True)
    b = tg.tensor([[4.0, 3.0], [1.0, 0.0]], dtype=tg.float64)
    cos = F.cosine_similarity(a, b)
    assert cos.tolist() == pytest.approx([24.0 / 25.0, 0.0])
    cos.sum().backward()
    # the zero vector's norm is clamped in value only: gradient b / (eps |b|)
    assert a.grad[1].tolist() == pytest.approx([1e8, 0.0])
    assert F.pairwise_distance(a, b, eps=0.0).tolist() == pytest.approx([2 ** 0.5, 1.0])
    assert F.pdist(tg.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]])).tolist() == [5.0, 0.0, 5.0]
    for f, args in ((lambda u, v: F.cosine_similarity(u, v), (X[2:], Y[2:])),
                    (lambda u, v: F.pairwise_distance(u, v, p=3), (X[:2], Y[:2])),
                    (F.pdist, (X,))):
        inputs = tuple(tg.tensor(v, dtype=tg.float64, requires_grad=True) for v in args)
        assert tg.autograd.gradgradcheck(f, inputs)
    t = tg.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], requires_grad=True)
    F.pdist(t, p=float("inf")).sum().backward()  # each tied coordinate: the whole gradient
    assert t.grad.tolist() == [[-2.0, -2.0], [0.0, 0.0], [2.0, 2.0]]
    assert tg.cdist(tg.zeros(2, 0), tg.zeros(3, 0), p=float("inf")).tolist() == [[0.0] * 3] * 2
    assert tg.nn.Flatten()(tg.zeros(2, 3, 4)).shape == (2, 12)
    assert tg.nn.Unflatten(1, (2, 2))(tg.zeros(3, 4)).shape == (3, 2, 2)
    with pytest.raises(RuntimeError, match="pdist only supports 2D tensors"):
        F.pdist(tg.zeros(2, 2, 2))


def test_parameter_containers_register_their_parameters():
    class Net(tg.nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = tg.nn.ParameterList([tg.ones(2), tg.nn.Parameter(tg.zeros(3))])
            self.biases = tg.nn.ParameterDict({"a": tg.ones(1)})
            self.scales.append(tg.full((1,), 2.0))
            self.biases["b"] = tg.zeros(2)

        def forward(self, x):
            return (x * self.scales[0]).sum() + self.scales[-1].sum() + self.biases["a"].sum()

    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scales.0", "scales.1", "scales.2", "biases.a", "biases.b"]
    assert all(isinstance(p, tg.nn.Parameter) and p.requires_grad for p in net.parameters())
    assert list(net.state_dict()) == names
    net(tg.ones(2)).backward()
    assert net.scales[0].grad.tolist() == [1.0, 1.0] and net.biases["a"].grad.tolist() == [1.0]
    assert len(net.scales) == 3 and len(net.scales[1:]) == 2 and "a" in net.biases
    opt = tg.optim.SGD(net.parameters(), lr=0.5)
    opt.step()
    assert net.scales[0].tolist() == [0.5, 0.5]


def test_parameter_containers_match_torch(torch):
    def run(lib):
        pl = lib.nn.ParameterList([lib.ones(2), lib.zeros(3)])
        pl += [lib.ones(1)]
        pd = lib.nn.ParameterDict({"w": lib.ones(2)})
        pd.update({"v": lib.zeros(1)})
        return ([n for n, _ in pl.named_parameters()], [tuple(p.shape) for p in pl],
                list(pd.keys()), [type(p).__name__ for p in pd.values()], len(pl[::2]))

    assert run(tg) == run(torch)
