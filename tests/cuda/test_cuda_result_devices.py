"""Results and gradients of CUDA inputs stay on the device, or are refused as PyTorch refuses
them; on numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

COND = np.array([[True, False, True], [False, False, True]])


@pytest.mark.parametrize("cond", [COND, np.array(True), np.zeros((2, 0), bool)])
def test_where_of_a_condition_alone_gives_indices_on_its_device(cond, torch):
    expected = torch.where(torch.tensor(cond))
    got = tg.where(tg.tensor(cond, device="cuda"))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.device == "cuda" and g.dtype == tg.int64
        np.testing.assert_array_equal(g.cpu().numpy(), e.numpy())


def _device_error(torch, call):
    """PyTorch's message for a gradient on the wrong device; the meta device stands in for
    CUDA in the CPU build (the wording names the device, which is then replaced)."""
    with pytest.raises(RuntimeError) as e:
        call(torch)
    return str(e.value)


@pytest.mark.parametrize("grad_on", ["cpu", "cuda"])
def test_assigning_a_grad_from_the_other_device_raises(grad_on, torch):
    other = "cuda" if grad_on == "cpu" else "cpu"
    x = tg.ones(2, 3, device=other, requires_grad=True)
    expected = _device_error(torch, lambda t: setattr(
        t.ones(2, 3, requires_grad=True), "grad", t.ones(2, 3, device="meta")))
    expected = expected.replace("'meta'", f"'{grad_on}'").replace(
        "device type 'cpu'.", f"device type '{other}'.")
    with pytest.raises(RuntimeError) as e:
        x.grad = tg.ones(2, 3, device=grad_on)
    assert str(e.value) == expected
    assert x.grad is None
    x.grad = tg.full((2, 3), 2.0, device=other)  # the same device is taken
    assert x.grad.device == other


@pytest.mark.parametrize("api", ["backward", "grad"])
def test_a_gradient_output_on_the_other_device_raises_unless_0d(api, torch):
    def run(out, g, leaf):
        if api == "backward":
            out.backward(g)
            return leaf.grad
        return tg.autograd.grad(out, leaf, grad_outputs=g)[0]

    expected = _device_error(torch, lambda t: (t.ones(2, 3, requires_grad=True) * 2).backward(
        t.ones(2, 3, device="meta")))
    for out_on, g_on in (("cuda", "cpu"), ("cpu", "cuda")):
        x = tg.ones(2, 3, device=out_on, requires_grad=True)
        with pytest.raises(RuntimeError) as e:
            run(x * 2, tg.ones(2, 3, device=g_on), x)
        out_name = "cuda:0" if out_on == "cuda" else "cpu"
        g_name = "cuda:0" if g_on == "cuda" else "cpu"
        assert str(e.value) == expected.replace("device cpu but got meta",
                                                f"device {out_name} but got {g_name}")
        # a 0-d gradient crosses devices
        s = tg.tensor(2.0, device=out_on, requires_grad=True)
        g = run(s * 3, tg.tensor(0.5, device=g_on), s)
        assert g.device == out_on and g.item() == 1.5


@pytest.mark.parametrize("device", [None, "cpu", "cuda"])
@pytest.mark.parametrize("dtype", [None, "float32"])
def test_tensor_of_a_cuda_tensor_copies_it(device, dtype, torch):
    x = tg.tensor([1.5, -2.0, 3.0], device="cuda", requires_grad=True)
    with pytest.warns(UserWarning, match="To copy construct from a tensor"):
        y = tg.tensor(x, device=device, dtype=None if dtype is None else getattr(tg, dtype),
                      requires_grad=True)
    expected = torch.tensor(torch.tensor([1.5, -2.0, 3.0], dtype=torch.float64),
                            dtype=None if dtype is None else getattr(torch, dtype))
    assert y.device == (device or "cuda") and y.is_leaf and y.requires_grad
    assert str(y.dtype) == str(expected.dtype).split(".")[-1]
    np.testing.assert_array_equal(y.detach().cpu().numpy(), expected.numpy())
    y.detach().mul_(0)  # a copy: the source keeps its values
    np.testing.assert_array_equal(x.detach().cpu().numpy(), expected.numpy())


@pytest.mark.parametrize("lengths_on", ["list", "cpu", "cuda"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_ctc_loss_of_cuda_log_probs(lengths_on, reduction, torch):
    a = np.random.default_rng(0).standard_normal((5, 2, 4))
    targets, in_lens, tgt_lens = [[1, 2], [3, 0]], [5, 4], [2, 1]
    t = torch.tensor(a, requires_grad=True)
    expected = torch.nn.functional.ctc_loss(t.log_softmax(2), torch.tensor(targets),
                                            torch.tensor(in_lens), torch.tensor(tgt_lens),
                                            reduction=reduction)
    expected.sum().backward()
    x = tg.tensor(a, device="cuda", requires_grad=True)
    if lengths_on != "list":
        in_lens, tgt_lens = (tg.tensor(v, device=lengths_on) for v in (in_lens, tgt_lens))
    got = tg.nn.functional.ctc_loss(x.log_softmax(2), tg.tensor(targets, device="cuda"),
                                    in_lens, tgt_lens, reduction=reduction)
    got.sum().backward()
    assert got.device == "cuda" and x.grad.device == "cuda"
    np.testing.assert_allclose(got.detach().cpu().numpy(), expected.detach().numpy())
    np.testing.assert_allclose(x.grad.cpu().numpy(), t.grad.numpy(), atol=1e-14)


@pytest.mark.parametrize("source_on, device", [("cuda", None), ("cuda", "cpu"), ("cpu", "cuda")])
def test_tensor_copy_construct_warning_points_at_the_caller(source_on, device):
    x = tg.tensor([1.0, 2.0], device=source_on)
    with pytest.warns(UserWarning, match="To copy construct from a tensor") as record:
        tg.tensor(x, device=device)
    assert [w.filename for w in record] == [__file__]  # once, at this line (as torch.tensor)
