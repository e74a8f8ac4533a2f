"""vmap's refusals of ops whose output shape depends on the values of a batched input
(``nonzero``, ``unique``, one-argument ``where``, ``masked_select`` by a batched mask, indexing
by a batched boolean mask): each example would give a differently shaped tensor, so, as
PyTorch, they raise rather than run once per example (which stacked them when the shapes
happened to agree and failed in ``stack`` otherwise)."""

from .batched import RULES, _level_of, _unwrap
from .batching_index import batched_key
from .batching_rules import _rule_getitem, _rule_where
from .pytree import tree_flatten

_DYNAMIC = ("vmap: We do not support batching operators that can output dynamic shape. "
            "Attempted to vmap over aten::{}.")


def _refuse(aten):
    def rule(level, name, raw, args, kwargs):
        if kwargs.get("as_tuple"):
            raise RuntimeError("Batching rule not implemented for aten::nonzero_numpy. We "
                               "could not generate a fallback.")
        op = aten(kwargs) if callable(aten) else aten
        raise RuntimeError(_DYNAMIC.format(op))

    return rule


def _rule_where1(level, name, raw, args, kwargs):
    if len(args) + len(kwargs) == 1:
        raise RuntimeError(_DYNAMIC.format("where"))
    return _rule_where(level, name, raw, *args, **kwargs)


MASK_ERRORS = {
    "masked_select": "vmap: Attempted to vmap over `mask` in torch.masked_select(self, mask) "
                     "We cannot support this because for each batch this would return a "
                     "differently shaped Tensor.",
    "getitem": "vmap: We do not support batching operators that can support dynamic shape. "
               "Attempting to batch over indexing with a boolean mask."}


def _rule_masked_select(level, name, raw, args, kwargs):
    mask = args[1] if len(args) > 1 else kwargs.get("mask")
    if _unwrap(level, mask)[1]:
        raise RuntimeError(MASK_ERRORS["masked_select"])
    return NotImplemented


def _rule_getitem_mask(level, name, raw, args, kwargs):
    key = args[1] if len(args) > 1 else kwargs.get("key")
    leaves = tree_flatten(key)[0]
    for k in leaves:
        if getattr(getattr(k, "dtype", None), "kind", None) == "b" and \
                _level_of([k]) == level:
            raise RuntimeError(MASK_ERRORS["getitem"])
    if len(args) == 2 and not kwargs and _level_of(leaves) == level:
        return batched_key(level, args[0], key)
    return _rule_getitem(level, name, raw, *args, **kwargs)


RULES.update(
    nonzero=_refuse("nonzero"), argwhere=_refuse("nonzero"),
    unique=_refuse(lambda kw: "_unique2" if kw.get("dim") is None else "unique_dim"),
    unique_consecutive=_refuse("unique_consecutive"), where=_rule_where1,
    masked_select=_rule_masked_select, getitem=_rule_getitem_mask)
