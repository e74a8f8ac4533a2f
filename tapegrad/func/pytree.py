"""Pytrees: nested tuples, lists, dicts and namedtuples whose leaves are tensors, arrays or
numbers (``None`` is an empty node). ``tree_flatten`` returns the leaves in order and a spec
that ``tree_unflatten`` turns back into the same structure."""

__all__ = ["tree_flatten", "tree_unflatten", "tree_map", "TreeSpec", "treespec_pprint"]


class TreeSpec:
    """The structure of a pytree: ``kind`` ('leaf', 'none', 'tuple', 'list', 'dict',
    'namedtuple'), ``meta`` (dict keys or namedtuple class) and the children's specs."""

    __slots__ = ("kind", "meta", "children", "num_leaves")

    def __init__(self, kind, meta=None, children=()):
        self.kind, self.meta, self.children = kind, meta, tuple(children)
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in self.children)

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and self.kind == other.kind
                and self.meta == other.meta and self.children == other.children)

    def __hash__(self):
        return hash((self.kind, self.children))

    def __repr__(self, indent=0):
        # PyTorch's form (its structure-mismatch errors print it): a leaf, and None, are '*';
        # a node is TreeSpec(type, context, [children]), one child a line after the first
        if self.kind in ("leaf", "none"):
            return "*"
        context = list(self.meta) if self.kind == "dict" else self.meta
        kids = ""
        if self.children:
            indent += 2
            kids = self.children[0].__repr__(indent) + ("," if len(self.children) > 1 else "")
            kids += ",".join("\n" + " " * indent + c.__repr__(indent) for c in self.children[1:])
        return f"TreeSpec({self.kind}, {context}, [{kids}])"


_LEAF = TreeSpec("leaf")


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def tree_flatten(tree):
    """``(leaves, spec)`` of ``tree``."""
    leaves = []
    return leaves, _flatten(tree, leaves)


# module-level recursion: a nested recursive closure is a reference cycle (function, cell) that
# would hold the leaves (tensors, and through them their tape segments) until the cyclic
# garbage collector runs
def _flatten(t, leaves):
    if t is None:
        return TreeSpec("none")
    if _is_namedtuple(t):
        return TreeSpec("namedtuple", type(t), [_flatten(c, leaves) for c in t])
    if isinstance(t, tuple):
        return TreeSpec("tuple", None, [_flatten(c, leaves) for c in t])
    if isinstance(t, list):
        return TreeSpec("list", None, [_flatten(c, leaves) for c in t])
    if isinstance(t, dict):
        keys = tuple(t)
        return TreeSpec("dict", keys, [_flatten(t[k], leaves) for k in keys])
    leaves.append(t)
    return _LEAF


def tree_unflatten(leaves, spec):
    """The pytree of structure ``spec`` holding ``leaves`` in order."""
    return _unflatten(spec, iter(leaves))


def _unflatten(s, it):
    if s.kind == "leaf":
        return next(it)
    if s.kind == "none":
        return None
    kids = [_unflatten(c, it) for c in s.children]
    if s.kind == "tuple":
        return tuple(kids)
    if s.kind == "list":
        return kids
    if s.kind == "dict":
        return dict(zip(s.meta, kids))
    return s.meta(*kids)


class _Asterisk(str):
    def __repr__(self):
        return "*"


def treespec_pprint(spec):
    """``spec`` written as its tree with ``*`` leaves: ``(*, {'a': *})``."""
    return repr(tree_unflatten([_Asterisk("*")] * spec.num_leaves, spec))


def tree_map(fn, tree, *rest):
    """``fn`` applied to the leaves of ``tree`` (and the matching leaves of ``rest``)."""
    leaves, spec = tree_flatten(tree)
    others = [tree_flatten(r)[0] for r in rest]
    return tree_unflatten([fn(*xs) for xs in zip(leaves, *others)], spec)
