"""np.interp on tensors: ``left``/``right`` given as tensors that require grad, and NumPy's
float64 result for float32 inputs."""

import numpy as np
import pytest

import tapegrad as tg

XP = np.array([0.0, 0.3, 0.5, 1.0])
FP = np.array([1.0, 2.0, 0.5, 3.0])
XQ = np.array([0.1, 0.4, 0.9, 1.5, -0.2, 1.7])


def test_left_right_tensors_get_gradients():
    fp = tg.tensor(FP, requires_grad=True)
    xq = tg.tensor(XQ, requires_grad=True)

    def f(xq, fp):
        return np.interp(xq, XP, fp, left=2.0 * fp[1], right=fp[0] - fp[3])

    out = f(xq, fp)
    ref = np.interp(XQ, XP, FP, left=2.0 * FP[1], right=FP[0] - FP[3])
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=0, atol=1e-15)
    assert tg.autograd.gradcheck(f, (xq, fp))
    # 0.1, 0.4, 0.9 weigh their two knots (2/3, 1/3), (1/2, 1/2), (1/5, 4/5); -0.2 takes
    # left (2 fp[1]); 1.5 and 1.7 take right (fp[0] - fp[3])
    (g,) = tg.autograd.grad(f(xq, fp).sum(), [fp])
    np.testing.assert_allclose(g.numpy(), [2 / 3 + 2, 1 / 3 + 1 / 2 + 2, 1 / 2 + 1 / 5, 4 / 5 - 2],
                               rtol=1e-12)


def test_left_right_against_torch():
    torch = pytest.importorskip("torch")
    fp = tg.tensor(FP, requires_grad=True)
    np.interp(XQ, XP, fp, left=fp[2] * fp[1], right=-fp[3]).sum().backward()
    tfp = torch.tensor(FP, requires_grad=True)
    # the same piecewise-linear interpolant, written out in torch
    j = np.clip(np.searchsorted(XP, XQ, side="right") - 1, 0, 2)
    t = torch.tensor((XQ - XP[j]) / (XP[j + 1] - XP[j]))
    mid = tfp[j] + t * (tfp[j + 1] - tfp[j])
    r = torch.where(torch.tensor(XQ < 0), tfp[2] * tfp[1],
                    torch.where(torch.tensor(XQ > 1), -tfp[3], mid))
    r.sum().backward()
    np.testing.assert_allclose(fp.grad.numpy(), tfp.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dtypes", [("float32",) * 3, ("float32", "float64", "float32"),
                                    ("int64", "int64", "float32")])
def test_float64_result_as_numpy(dtypes):
    xq, xp, fp = (np.asarray(a).astype(d) for a, d in zip(
        ([0.1, 0.4, 2.0, -1.0], [0.0, 1.0, 2.0, 3.0], [1.0, 2.5, 0.5, 3.0]), dtypes))
    t = tg.tensor(fp, requires_grad=True)
    out = np.interp(tg.tensor(xq), tg.tensor(xp), t)
    ref = np.interp(xq, xp, fp)
    assert out.dtype == ref.dtype == np.float64
    np.testing.assert_array_equal(out.detach().numpy(), ref)
    out.sum().backward()
    assert t.grad.dtype == np.float32
