"""PyTorch's argument checks of ``MultiheadAttention``'s ``attn_mask`` (its rank and shape
against the query and key lengths and the heads) and of recurrent layers' initial states
(their rank against the input's batchedness), with PyTorch's exception types and words."""

import pytest

import tapegrad as tg


def _attempt(call):
    try:
        call()
        return "ok"
    except (RuntimeError, AssertionError) as e:
        return f"{type(e).__name__}: {e}"


def _mha_outcomes(lib):
    m = lib.nn.MultiheadAttention(8, 2)
    q, k = lib.zeros(3, 2, 8), lib.zeros(4, 2, 8)
    uq, uk = lib.zeros(3, 8), lib.zeros(4, 8)
    cases = [(q, k, lib.zeros(2, 3)), (q, k, lib.zeros(3, 4)), (q, k, lib.zeros(4, 3, 4)),
             (q, k, lib.zeros(4, 3, 5)), (q, k, lib.zeros(1, 1, 3, 4)),
             (uq, uk, lib.zeros(1, 1, 3, 4)), (uq, uk, lib.zeros(2, 3, 4)),
             (uq, uk, lib.zeros(3, 3, 4)), (q, k, lib.zeros(3, 4, dtype=lib.bool))]
    return [_attempt(lambda q=q, k=k, a=a: m(q, k, k, attn_mask=a)) for q, k, a in cases]


def test_attn_mask_checks():
    out = _mha_outcomes(tg)
    assert out[0] == ("RuntimeError: The shape of the 2D attn_mask is torch.Size([2, 3]), but "
                      "should be (3, 4).")
    assert out[3] == ("RuntimeError: The shape of the 3D attn_mask is torch.Size([4, 3, 5]), "
                      "but should be (4, 3, 4).")
    assert out[4].startswith("AssertionError: For batched (3-D) `query`, expected `attn_mask`")
    assert out[7] == ("AssertionError: Expected `attn_mask` shape to be (2, 3, 4) but got "
                      "torch.Size([3, 3, 4])")
    assert [out[i] for i in (1, 2, 6, 8)] == ["ok"] * 4


def test_attn_mask_checks_match_torch(torch):
    assert _mha_outcomes(tg) == _mha_outcomes(torch)


def _rnn_outcomes(lib):
    cases = [(lib.nn.GRU(3, 4), (5, 2, 3), (1, 4)), (lib.nn.RNN(3, 4), (5, 3), (1, 2, 4)),
             (lib.nn.LSTM(3, 4), (5, 2, 3), ((1, 4), (1, 2, 4))),
             (lib.nn.LSTM(3, 4), (5, 3), ((1, 4), (1, 1, 4))),
             (lib.nn.GRU(3, 4), (5, 3), (1, 4)), (lib.nn.GRU(3, 4), (5, 2, 3), (2, 2, 4))]
    out = []
    for m, x, h in cases:
        hx = tuple(lib.zeros(*s) for s in h) if isinstance(h[0], tuple) else lib.zeros(*h)
        out.append(_attempt(lambda m=m, x=x, hx=hx: m(lib.zeros(*x), hx)))
    return out


def test_state_rank_checks():
    out = _rnn_outcomes(tg)
    assert out[:4] == [
        "RuntimeError: For batched 3-D input, hx should also be 3-D but got 2-D tensor",
        "RuntimeError: For unbatched 2-D input, hx should also be 2-D but got 3-D tensor",
        "RuntimeError: For batched 3-D input, hx and cx should also be 3-D but got (2-D, 3-D) "
        "tensors",
        "RuntimeError: For unbatched 2-D input, hx and cx should also be 2-D but got (2-D, 3-D) "
        "tensors"]
    assert out[4] == "ok" and out[5].startswith("RuntimeError: Expected hidden size (1, 2, 4)")


def test_state_rank_checks_match_torch(torch):
    assert _rnn_outcomes(tg) == _rnn_outcomes(torch)


def test_mask_check_does_not_reject_valid_masks():
    m = tg.nn.MultiheadAttention(8, 2, batch_first=True, add_bias_kv=True, add_zero_attn=True)
    y, w = m(tg.zeros(2, 3, 8), tg.zeros(2, 4, 8), tg.zeros(2, 4, 8), attn_mask=tg.zeros(3, 4))
    assert y.shape == (2, 3, 8) and w.shape == (2, 3, 6)
    with pytest.raises(RuntimeError, match="3D attn_mask"):
        m(tg.zeros(2, 3, 8), tg.zeros(2, 4, 8), tg.zeros(2, 4, 8), attn_mask=tg.zeros(2, 3, 4))


def _mask_outcomes(lib):
    """Per call: the warnings (mismatched mask dtypes) or the error (an integer mask)."""
    import warnings

    nn = lib.nn
    lib.manual_seed(0)
    x, kpm = lib.zeros(2, 4, 8), lib.zeros(2, 4, dtype=lib.bool)
    causal = nn.Transformer.generate_square_subsequent_mask(4)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    layer = nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True)
    enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    dec = nn.TransformerDecoderLayer(8, 2, 16, 0.0, batch_first=True)
    calls = [lambda: mha(x, x, x, attn_mask=causal, key_padding_mask=kpm),
             lambda: mha(x, x, x, attn_mask=causal, key_padding_mask=causal[:2] * 0),
             lambda: layer(x, src_mask=causal, src_key_padding_mask=kpm),
             lambda: enc(x, mask=causal, src_key_padding_mask=kpm),
             lambda: dec(x, x, tgt_mask=causal, tgt_key_padding_mask=kpm),
             lambda: mha(x, x, x, key_padding_mask=lib.zeros(2, 4, dtype=lib.int64)),
             lambda: mha(x, x, x, attn_mask=lib.zeros(4, 4, dtype=lib.int32)),
             lambda: enc(x, src_key_padding_mask=lib.zeros(2, 4, dtype=lib.uint8))]
    out = []
    for call in calls:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            result = _attempt(call)
        out.append((result if result != "ok" else "ok",
                    [str(w.message) for w in seen if "mismatched" in str(w.message)]))
    return out


def test_attention_masks_checked_as_torch():
    """Masks of MultiheadAttention and the encoder layers, as PyTorch's ``_canonical_mask``:
    an integer mask raises its AssertionError; a boolean padding mask beside a float attention
    mask warns once per call (the mask is made float where it is checked), naming the
    arguments of the module called."""
    torch = pytest.importorskip("torch")
    ours, theirs = _mask_outcomes(tg), _mask_outcomes(torch)
    assert ours == theirs
    assert sum(len(w) for _, w in ours) == 4 and ours[-1][0].startswith("AssertionError")


def _mha_rank_and_size_outcomes(lib):
    nn = lib.nn
    m, bf = nn.MultiheadAttention(8, 2), nn.MultiheadAttention(8, 2, batch_first=True)
    sep = nn.MultiheadAttention(8, 2, kdim=5, vdim=3)
    kpm3 = lib.ones(2, 4, 1, dtype=lib.bool)
    calls = [lambda: m(lib.ones(3, 2, 8), lib.ones(4, 8), lib.ones(4, 8)),
             lambda: m(lib.ones(3, 8), lib.ones(4, 2, 8), lib.ones(4, 8)),
             lambda: m(lib.ones(2, 3, 2, 8), lib.ones(4, 8), lib.ones(4, 8)),
             lambda: m(lib.ones(3, 2, 8), lib.ones(4, 2, 8), lib.ones(4, 2, 8),
                       key_padding_mask=kpm3),
             lambda: m(lib.ones(3, 8), lib.ones(4, 8), lib.ones(4, 8), key_padding_mask=kpm3[0]),
             lambda: bf(lib.ones(2, 3, 8), lib.ones(2, 4, 8), lib.ones(2, 5, 8)),
             lambda: bf(lib.ones(2, 3, 6), lib.ones(2, 4, 8), lib.ones(2, 4, 8)),
             lambda: sep(lib.ones(3, 2, 8), lib.ones(4, 2, 5), lib.ones(4, 3, 3)),
             lambda: m(lib.ones(3, 8), lib.ones(4, 8), lib.ones(5, 8)),
             lambda: nn.TransformerEncoderLayer(8, 2)(lib.ones(3, 2, 6))]
    return [_attempt(call) for call in calls]


def test_mha_ranks_and_sizes_checked_as_torch():
    """MultiheadAttention's inputs and padding mask of the wrong rank, a query of another
    embedding size, keys and values of different shapes: PyTorch's AssertionErrors, worded in
    its (L, N, E) layout. They were reshape or matmul errors, and a 3-D key_padding_mask gave a
    value."""
    torch = pytest.importorskip("torch")
    ours = _mha_rank_and_size_outcomes(tg)
    assert ours == _mha_rank_and_size_outcomes(torch)
    assert all(o.startswith("AssertionError") for o in ours)


def _decoder_int_mask_outcomes(lib):
    nn = lib.nn
    x = lib.zeros(4, 2, 8)
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, 0.0), 1)
    full = nn.Transformer(8, 2, 1, 1, 16, 0.0)
    calls = [lambda: dec(x, x, tgt_mask=lib.zeros(4, 4, dtype=lib.int64)),
             lambda: dec(x, x, tgt_mask=lib.zeros(4, 4, dtype=lib.uint8)),
             lambda: full(x, x, tgt_mask=lib.zeros(4, 4, dtype=lib.int32)),
             lambda: dec(x, x, tgt_mask=lib.zeros(4, 4, dtype=lib.int64), tgt_is_causal=True)]
    return [_attempt(call) for call in calls]


def test_decoder_integer_tgt_mask_raises_as_torch():
    """An integer tgt_mask: the decoder stack's causal-mask detection fails on it first
    (PyTorch fills a mask of its dtype with -inf) unless tgt_is_causal is given."""
    ours = _decoder_int_mask_outcomes(tg)
    assert ours[0].startswith("RuntimeError") and "int64_t without overflow" in ours[0]
    assert ours[-1].startswith("AssertionError")
    torch = pytest.importorskip("torch")
    assert ours == _decoder_int_mask_outcomes(torch)
