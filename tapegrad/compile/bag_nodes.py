"""``F.embedding_bag`` (``nn.EmbeddingBag``) of 2-D input, one bag per row, as replay nodes:
the weight's rows at the positions (``take_nodes``' ``take``, its positions a value of the
program under eager's range guard) summed over each row, divided by its length for 'mean', as
eager's ``index_add`` adds them (in order) and divides. Offsets, padding_idx, per-sample
weights, 'max', max_norm and scale_grad_by_freq run eagerly."""

from ..tensor import Tensor
from .ir import Unsupported
from .take_nodes import _positions, _take


def embedding_bag(tr, name, a, result):
    idx, w = a["input"], a["weight"]
    if a["offsets"] is not None or a["padding_idx"] is not None or \
            a["per_sample_weights"] is not None or a["max_norm"] is not None or \
            a["scale_grad_by_freq"] or a["sparse"] or a["mode"] not in ("sum", "mean"):
        raise Unsupported("embedding_bag with offsets, padding_idx, per-sample weights, "
                          "max_norm, scale_grad_by_freq or mode='max'")
    if not isinstance(idx, Tensor) or not isinstance(w, Tensor) or idx.ndim != 2 or \
            w.ndim != 2 or idx.shape[1] == 0 or not isinstance(result, Tensor) or w.is_cuda:
        raise Unsupported("embedding_bag of these arguments")
    rows = _take(tr, tr.v(w), _positions(tr, idx, name), 0, 0, name)  # (bags, n, dim)
    vid = tr.e("sum", (rows,), axis=(1,), keepdims=False)
    if a["mode"] == "mean":
        vid = tr.e("divc", (vid,), c=idx.shape[1])
    tr.out(result, vid, name)


HANDLERS = {"embedding_bag": embedding_bag}
