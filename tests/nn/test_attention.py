"""Scaled dot-product attention and nn.MultiheadAttention: finite differences to second
order and PyTorch's values and gradients on the same inputs."""

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_table_entry

R = np.random.default_rng(4)
MASK = R.random((3, 5)) > 0.4
MASK[1] = False  # a query that may attend to nothing: zeros, as PyTorch's kernel
FLOAT_MASK = R.standard_normal((3, 5))


def _sdpa(L, q, k, v, **kw):
    return L.nn.functional.scaled_dot_product_attention(q, k, v, **kw)


TABLE = [
    ("sdpa", lambda L, q, k, v: _sdpa(L, q, k, v), [((2, 3, 4), (2, 5, 4), (2, 5, 6))]),
    ("sdpa_causal_heads", lambda L, q, k, v: _sdpa(L, q, k, v, is_causal=True),
     [((2, 2, 4, 3), (2, 2, 4, 3), (2, 2, 4, 2))]),
    ("sdpa_bool_mask", lambda L, q, k, v: _sdpa(L, q, k, v, attn_mask=L.tensor(MASK)),
     [((2, 3, 4), (2, 5, 4), (2, 5, 6))]),
    ("sdpa_float_mask_scale", lambda L, q, k, v: _sdpa(L, q, k, v, scale=0.3,
                                                       attn_mask=L.tensor(FLOAT_MASK)),
     [((3, 4), (5, 4), (5, 2))]),
]


@pytest.mark.parametrize("name,f,cases", TABLE, ids=[t[0] for t in TABLE])
def test_op_table(name, f, cases):
    check_table_entry(name, f, cases)


def _copy_params(ours, theirs):
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kv", [None, (3, 5)], ids=["packed", "kdim_vdim"])
def test_multihead_attention_matches_torch(batch_first, kv):
    torch = pytest.importorskip("torch")
    E, h, N, L, S = 6, 2, 3, 4, 5
    kdim, vdim = kv or (E, E)
    theirs = torch.nn.MultiheadAttention(E, h, kdim=kdim, vdim=vdim,
                                         batch_first=batch_first).double()
    ours = tg.nn.MultiheadAttention(E, h, kdim=kdim, vdim=vdim, batch_first=batch_first)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy_params(ours, theirs)
    shape = (lambda n, e: (N, n, e)) if batch_first else (lambda n, e: (n, N, e))
    q, k, v = (R.standard_normal(shape(n, e)) for n, e in ((L, E), (S, kdim), (S, vdim)))
    pad = R.random((N, S)) > 0.7
    pad[:, 0] = False
    causal = np.triu(np.ones((L, S), bool), 1)
    for kw in ({}, {"key_padding_mask": pad}, {"attn_mask": causal, "is_causal": True},
               {"attn_mask": FLOAT_MASK[:, :S][:1].repeat(L, 0),
                "average_attn_weights": False}):
        tk = {k_: torch.tensor(a) if isinstance(a, np.ndarray) else a for k_, a in kw.items()}
        gk = {k_: tg.tensor(a) if isinstance(a, np.ndarray) else a for k_, a in kw.items()}
        tq = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
        gq = [tg.tensor(a, requires_grad=True) for a in (q, k, v)]
        to, tw = theirs(*tq, **tk)
        go, gw = ours(*gq, **gk)
        np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(gw.detach().numpy(), tw.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
        (to.pow(2).sum() + tw.sum()).backward()
        (go.pow(2).sum() + gw.sum()).backward()
        for a, b in zip(gq, tq):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=name)


def test_unbatched_input_and_errors():
    mha = tg.nn.MultiheadAttention(4, 2)
    x = tg.randn(3, 4)
    out, w = mha(x, x, x)
    assert out.shape == (3, 4) and w.shape == (3, 3)
    np.testing.assert_allclose(w.detach().numpy().sum(-1), 1.0)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set"):
        tg.nn.functional.scaled_dot_product_attention(x, x, x, attn_mask=tg.ones(3, 3),
                                                      is_causal=True)


@pytest.mark.parametrize("layout", ["heads_interleaved", "contiguous", "other",
                                    "positions_outermost", "sliced"])
@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"dropout_p": 0.5}])
def test_output_layout_follows_the_query_as_pytorch(layout, kw):
    """With heads and positions swapped in the query's memory (a projection viewed as
    (B, L, H, D) and transposed), PyTorch's CPU kernel writes the output in that layout, so
    out.transpose(1, 2).view(B, L, H * D) works (the SDPA tutorial's attention module)."""
    torch = pytest.importorskip("torch")
    x = R.standard_normal((2, 5, 3, 4))
    outs = []
    for L in (tg, torch):
        p = L.tensor(x, requires_grad=True)
        q = {"heads_interleaved": p.transpose(1, 2), "contiguous": p.transpose(1, 2) * 1,
             "other": p.permute(0, 3, 1, 2), "positions_outermost": p.permute(2, 0, 1, 3),
             "sliced": p[..., :3].transpose(1, 2)}[layout]
        y = _sdpa(L, q, q * 0.5, q + 1.0, **kw)
        outs.append((y.stride(), y))
    assert outs[0][0] == outs[1][0]
    if not kw:
        y_tg, y_torch = outs[0][1], outs[1][1]
        np.testing.assert_allclose(y_tg.detach().numpy(), y_torch.detach().numpy(), rtol=1e-12)


def test_merging_interleaved_heads_with_view():
    """The SDPA tutorial's attention module: q, k, v chunks of one projection, heads merged back
    with a view; PyTorch's values and gradients, and finite differences."""
    torch = pytest.importorskip("torch")
    x = R.standard_normal((2, 5, 36))

    def heads(t):
        return t.view(2, 5, 3, 4).transpose(1, 2)

    def attend(L, p, causal):
        q, k, v = p.chunk(3, -1)
        return _sdpa(L, heads(q), heads(k), heads(v), is_causal=causal).transpose(1, 2).view(
            2, 5, 12)

    grads = []
    for L in (tg, torch):
        p = L.tensor(x, requires_grad=True)
        y = attend(L, p, True)
        (y * y).sum().backward()
        grads.append(p.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)
    p = tg.tensor(x[:, :, :], requires_grad=True)
    assert tg.autograd.gradcheck(lambda p: attend(tg, p, False), (p,))
    assert tg.autograd.gradgradcheck(lambda p: attend(tg, p, True), (p,))


@pytest.mark.parametrize("backends", ["MATH", "FLASH_ATTENTION", "EFFICIENT_ATTENTION",
                                      "CUDNN_ATTENTION", ["EFFICIENT_ATTENTION", "MATH"], []])
@pytest.mark.parametrize("call", [{}, {"dropout_p": 0.5}, {"ndim": 3}])
def test_sdpa_kernel_backends_as_torch(backends, call):
    """The SDPA tutorial's `with sdpa_kernel(SDPBackend.X)` blocks: tapegrad's implementation
    serves MATH and FLASH_ATTENTION (PyTorch's CPU backends), with PyTorch's errors otherwise."""
    torch = pytest.importorskip("torch")
    from torch.nn import attention as torch_attention

    from tapegrad.nn import attention

    x = R.standard_normal((2, 3, 4, 5))[0] if call.get("ndim") == 3 else \
        R.standard_normal((2, 3, 4, 5))
    kw = {"dropout_p": call["dropout_p"]} if "dropout_p" in call else {}
    results = []
    for L, mod in ((tg, attention), (torch, torch_attention)):
        chosen = [getattr(mod.SDPBackend, b) for b in backends] if isinstance(backends, list) \
            else getattr(mod.SDPBackend, backends)
        q = L.tensor(x)
        try:
            with mod.sdpa_kernel(chosen):
                out = _sdpa(L, q, q, q, **kw)
            results.append(tuple(out.shape))
        except RuntimeError as e:
            results.append(str(e))
    assert results[0] == results[1]
    q = tg.tensor(x)
    np.testing.assert_allclose(_sdpa(tg, q, q, q).numpy(), _sdpa(torch, torch.tensor(x),
                               torch.tensor(x), torch.tensor(x)).numpy(), rtol=1e-12)
