"""``nn.MultiheadAttention``: PyTorch's multi-head attention module over tapegrad ops."""

import math

import numpy as np

from .. import creation
from .. import ops as O
from ..ops.elementwise import where
from ..ops.join import cat
from ..ops.record import as_tensor
from ..tensor import Tensor
from . import init
from .attention import _as_additive, canonical_mask
from .linear import Linear, param_dtype
from .module import Module, _size
from .parameter import Parameter


def _unattending(scores):
    """The queries whose every key is masked out (a bool mask over the last dim), or None:
    PyTorch's attention kernel gives them zeros where a softmax gives NaN. (Not looked for
    under vmap: a batched tensor's values are not read.)"""
    if type(scores) is not Tensor:
        return None
    if type(scores._data) is np.ndarray:
        dead = np.isneginf(scores._data).all(-1, keepdims=True)
        return creation.tensor(dead) if dead.any() else None
    dead = (scores.detach() == -math.inf).all(-1, keepdim=True)  # (on the device)
    return dead if bool(dead.any()) else None


class NonDynamicallyQuantizableLinear(Linear):
    """``out_proj``'s class: a ``Linear`` (PyTorch's name for it, seen in the repr)."""


def _keys_appended(mask, extra):
    """An additive mask with ``extra`` zero columns (keys anyone may attend to) appended."""
    if not extra:
        return mask
    pad = creation.zeros(mask.shape[:-1] + (extra,), dtype=mask.dtype, device=mask.device)
    return cat([mask, pad], -1)


class MultiheadAttention(Module):
    """PyTorch's multi-head attention: input projections (one packed ``in_proj_weight``
    when the key and value sizes equal ``embed_dim``), scaled dot-product attention per
    head, an output projection; ``(output, weights)`` with the weights averaged over the
    heads unless ``average_attn_weights=False``. ``attn_mask`` and ``key_padding_mask``
    are boolean (True: may *not* attend) or added to the scores."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise AssertionError("embed_dim must be divisible by num_heads")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.kdim, self.vdim = kdim or embed_dim, vdim or embed_dim
        self.batch_first, self.head_dim = batch_first, embed_dim // num_heads
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        dt = param_dtype(dtype)

        def weight(*shape):
            return Parameter(creation.zeros(shape, dtype=dt, device=device))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = weight(3 * embed_dim, embed_dim)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = weight(embed_dim, embed_dim)
            self.k_proj_weight = weight(embed_dim, self.kdim)
            self.v_proj_weight = weight(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = weight(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = weight(1, 1, embed_dim)
            self.bias_v = weight(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        """PyTorch's initialisation: xavier-uniform projections, zero biases, xavier-normal
        ``bias_k`` and ``bias_v``."""
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight,
                  self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b)

    def _project(self, x, i):
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight[i * E:(i + 1) * E]
        else:
            w = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)[i]
        y = O.matmul(x, O.transpose(w, 0, 1))
        if self.in_proj_bias is not None:
            y = y + self.in_proj_bias[i * E:(i + 1) * E]
        return y

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may "
                               "use the Transformer module method "
                               "`generate_square_subsequent_mask` to create this mask.")
        q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
        key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", attn_mask,
                                          "attn_mask", q.dtype)
        attn_mask = canonical_mask(attn_mask, "attn_mask", dtype=q.dtype)
        _check_ranks(q, k, v, key_padding_mask, attn_mask)
        unbatched = q.ndim == 2
        if unbatched:
            q, k, v = (O.unsqueeze(t, 0 if self.batch_first else 1) for t in (q, k, v))
            if key_padding_mask is not None:
                key_padding_mask = O.unsqueeze(as_tensor(key_padding_mask), 0)
        self._check_sizes(q, k, v)
        if not self.batch_first:  # (L, N, E) -> (N, L, E)
            q, k, v = (O.transpose(t, 0, 1) for t in (q, k, v))
        N, L, S, h, d = q.shape[0], q.shape[1], k.shape[1], self.num_heads, self.head_dim
        if attn_mask is not None:
            attn_mask = as_tensor(attn_mask)
            _check_attn_mask(attn_mask.shape, (L, S) if attn_mask.ndim == 2 else (N * h, L, S),
                             unbatched)

        def heads(t, n):  # (N, n, E) -> (N, h, n, d)
            return O.transpose(O.reshape(t, (N, n, h, d)), 1, 2)

        qp, kp, vp = (self._project(t, i) for i, t in enumerate((q, k, v)))
        extra = 0  # keys appended to the S given (bias_k, the zero key), as PyTorch's
        if self.bias_k is not None:
            kp, vp = (cat([t, O.expand(b, (N, 1, self.embed_dim))], 1)
                      for t, b in ((kp, self.bias_k), (vp, self.bias_v)))
            extra = 1
        qh, kh, vh = heads(qp, L), heads(kp, S + extra), heads(vp, S + extra)
        if self.add_zero_attn:
            z = creation.zeros((N, h, 1, d), dtype=kh.dtype, device=kh.device)
            kh, vh = cat([kh, z], 2), cat([vh, z], 2)
            extra += 1
        scores = O.matmul(qh, O.transpose(kh, -2, -1)) * (1.0 / math.sqrt(d))
        S += extra
        if attn_mask is not None:
            m = _keys_appended(_as_additive(attn_mask, scores.dtype), extra)
            scores = scores + (O.reshape(m, (N, h, L, S)) if m.ndim == 3 else m)
        if key_padding_mask is not None:
            m = _keys_appended(_as_additive(key_padding_mask, scores.dtype), extra)
            scores = scores + O.reshape(m, (N, 1, 1, S))
        dead = _unattending(scores) if not need_weights else None
        if dead is not None:  # (its row kept out of the softmax: no NaN, a zero gradient)
            weights = where(dead, 0.0, O.softmax(where(dead, 0.0, scores), -1))
        else:
            weights = O.softmax(scores, -1)
        if self.dropout > 0.0 and self.training:
            from .functional import dropout

            weights = dropout(weights, self.dropout, training=True)
        out = O.reshape(O.transpose(O.matmul(weights, vh), 1, 2), (N, L, self.embed_dim))
        out = self.out_proj(out)
        if not self.batch_first:
            out = O.transpose(out, 0, 1)
        w = None
        if need_weights:
            w = O.mean(weights, 1) if average_attn_weights else weights
            w = O.squeeze(w, 0) if unbatched else w
        if unbatched:
            out = O.squeeze(out, 0 if self.batch_first else 1)
        return out, w

    def _check_sizes(self, q, k, v):
        """PyTorch's checks of the (batched) sizes, worded in its (L, N, E) layout."""
        qs, ks, vs = (tuple(t.shape[1::-1]) + tuple(t.shape[2:]) if self.batch_first
                      else tuple(t.shape) for t in (q, k, v))
        if qs[2] != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but "
                                 f"got {qs[2]}")
        if not self._qkv_same_embed_dim and ks[:2] != vs[:2]:
            raise AssertionError(f"key's sequence and batch dims {_size(ks[:2])} do not match "
                                 f"value's {_size(vs[:2])}")
        if self._qkv_same_embed_dim and ks != vs:
            raise AssertionError(f"key shape {_size(ks)} does not match value shape "
                                 f"{_size(vs)}")


def _check_ranks(q, k, v, key_padding_mask, attn_mask):
    """PyTorch's ``_mha_shape_check``: the ranks of the inputs and masks, batched or not."""
    if q.ndim not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                             f"{q.ndim}-D query tensor")
    n = q.ndim
    kind = "batched (3-D)" if n == 3 else "unbatched (2-D)"
    if k.ndim != n or v.ndim != n:
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be {n}-D but "
                             f"found {k.ndim}-D and {v.ndim}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != n - 1:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` or "
                             f"{n - 1}-D but found {key_padding_mask.ndim}-D tensor instead")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or "
                             f"3-D but found {attn_mask.ndim}-D tensor instead")


def _check_attn_mask(shape, want, unbatched):
    """PyTorch's check of an ``attn_mask`` against the query and key lengths (and heads)."""
    if len(shape) not in (2, 3):
        kind = "unbatched (2-D)" if unbatched else "batched (3-D)"
        raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or "
                             f"3-D but found {len(shape)}-D tensor instead")
    if tuple(shape) == want:
        return
    if unbatched and len(shape) == 3:  # (PyTorch's shape check of unbatched input words it so)
        raise AssertionError(f"Expected `attn_mask` shape to be {want} but got {_size(shape)}")
    raise RuntimeError(f"The shape of the {len(shape)}D attn_mask is {_size(shape)}, but "
                       f"should be {want}.")
