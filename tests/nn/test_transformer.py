"""Transformer layers: PyTorch's submodule names, values and gradients (post-norm and
norm_first, both batch layouts, relu and gelu, masks), its inference fast path's zeros at padded
positions, and a small model that trains."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_op


def _copy_from(theirs, ours):
    assert list(theirs.state_dict()) == list(ours.state_dict())
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first,activation", [(False, "relu"), (True, "gelu")])
def test_transformer_matches_pytorch(batch_first, norm_first, activation):
    torch = pytest.importorskip("torch")
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=batch_first,
              norm_first=norm_first, activation=activation, num_encoder_layers=2,
              num_decoder_layers=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the nested-tensor notice, from both)
        theirs, ours = torch.nn.Transformer(**kw).double(), tg.nn.Transformer(**kw)
    _copy_from(theirs, ours)
    rng = np.random.default_rng(0)
    S, T, N = 5, 4, 3
    src = rng.standard_normal((N, S, 8) if batch_first else (S, N, 8))
    tgt = rng.standard_normal((N, T, 8) if batch_first else (T, N, 8))
    pad = np.zeros((N, S), bool)
    pad[0, -2:] = True
    ts, tt = torch.tensor(src, requires_grad=True), torch.tensor(tgt, requires_grad=True)
    gs, gt = tg.tensor(src, requires_grad=True), tg.tensor(tgt, requires_grad=True)
    a = theirs(ts, tt, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(T),
               src_key_padding_mask=torch.tensor(pad),
               memory_key_padding_mask=torch.tensor(pad))
    b = ours(gs, gt, tgt_mask=tg.nn.Transformer.generate_square_subsequent_mask(T),
             src_key_padding_mask=tg.tensor(pad), memory_key_padding_mask=tg.tensor(pad))
    (a ** 2).sum().backward()
    (b ** 2).sum().backward()
    np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-11, atol=1e-12)
    for t, g in ((ts, gs), (tt, gt)):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-11)
    for n, p in theirs.named_parameters():
        np.testing.assert_allclose(ours.get_parameter(n).grad.numpy(), p.grad.numpy(),
                                   rtol=1e-9, atol=1e-11, err_msg=n)
    theirs.eval()
    ours.eval()
    with torch.no_grad():  # PyTorch's fast path where it applies: zeros at padded positions
        a = theirs.encoder(ts, src_key_padding_mask=torch.tensor(pad))
    with tg.no_grad():
        b = ours.encoder(gs, src_key_padding_mask=tg.tensor(pad))
    np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-11, atol=1e-12)


def test_encoder_layer_finite_differences():
    tg.manual_seed(1)
    layer = tg.nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0,
                                          activation="gelu", batch_first=True)
    names = [n for n, _ in layer.named_parameters()]
    params = [p.detach().numpy().copy() for p in layer.parameters()]
    x = np.random.default_rng(2).standard_normal((2, 3, 4))
    mask = tg.nn.Transformer.generate_square_subsequent_mask(3)

    def f(x, *weights):
        return tg.func.functional_call(layer, dict(zip(names, weights)), (x,),
                                       {"src_mask": mask}).tanh().sum()

    check_op(f, [x] + params, order=1)


def test_nested_tensor_notice_and_training():
    with pytest.warns(UserWarning, match="enable_nested_tensor is True, but "
                                         "self.use_nested_tensor is False because "
                                         "encoder_layer.self_attn.batch_first was not True"):
        tg.nn.TransformerEncoder(tg.nn.TransformerEncoderLayer(4, 2), 1)
    tg.manual_seed(3)
    layer = tg.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1,
                                          batch_first=True)
    model = tg.nn.Sequential(tg.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False))
    head = tg.nn.Linear(8, 1)
    opt = tg.optim.Adam(list(model.parameters()) + list(head.parameters()), lr=0.01)
    x = tg.randn(16, 5, 8)
    y = x.sum(-1, keepdim=True).tanh()  # a target each position can reach
    losses = []
    for _ in range(40):
        loss = ((head(model(x)) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_fully_padded_sequence_reads_zeros_and_module_activations():
    """A sample whose every key is padded: PyTorch's attention kernel gives its queries zeros
    (not NaN) when no weights are asked for, with finite gradients."""
    torch = pytest.importorskip("torch")
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0).double()
    ours = tg.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    _copy_from(theirs, ours)
    x = np.random.default_rng(3).standard_normal((5, 2, 8))
    pad = np.zeros((2, 5), bool)
    pad[1] = True
    xt, xg = torch.tensor(x, requires_grad=True), tg.tensor(x, requires_grad=True)
    a = theirs(xt, src_key_padding_mask=torch.tensor(pad))
    b = ours(xg, src_key_padding_mask=tg.tensor(pad))
    np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-11, atol=1e-12)
    a.sum().backward()
    b.sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-11)
    for n, p in theirs.named_parameters():
        np.testing.assert_allclose(ours.get_parameter(n).grad.numpy(), p.grad.numpy(),
                                   rtol=1e-9, atol=1e-11, err_msg=n)
    assert tg.nn.TransformerEncoderLayer(8, 2, activation=tg.nn.GELU()) \
        .activation_relu_or_gelu == 2
    assert [n for n, _ in tg.nn.TransformerDecoderLayer(8, 2).named_modules()] == \
        [n for n, _ in torch.nn.TransformerDecoderLayer(8, 2).named_modules()]
