"""Views of a storage that required no grad, given its history when an in-place write gives it one.

A view whose base has history is itself recorded (a gather requiring grad); an in-place write
through the base or any view rebinds the base, and such a view is regathered from the base's
new history when next used (``inplace.refresh_view``: it requires grad already, so every op
takes its recording path, which refreshes views). A view of a storage that required no grad is
a constant, and ops on constants record nothing: after ``w = b.view(2, 2)``,
``w.t()[1].mul_(a)`` makes ``b`` require grad, and ``w`` must too (PyTorch's view regenerates
its ``grad_fn`` from its base), or ``(w * w).sum()`` drops ``a``'s gradient silently. So such
views are noted on their storage's base when made (``note``: only views that require no
grad, a weak reference each) and, at the write that first gives the base a history, each live
one takes its gather from the base's new history (``wake``). A view whose in-place change
PyTorch forbids (made under no_grad, an output of unbind/split/chunk or of a custom Function)
becomes a no-grad view of a base requiring grad instead: using it raises PyTorch's error.

Ops on views that already require grad, and every op on tensors that are not views, pay
nothing; making a view of a constant pays one weak reference (~0.2 us of a ~1.2 us ``b[1:3]``).
"""

from weakref import ref

from .. import grad_mode as _gm

PRUNE_FROM = 64  # a base's list of views is swept of dead ones when its length doubles
# A woken view's base record: never a segment, so the view's next use or grad_fn regathers it
# (ops/record.refresh_views), as PyTorch regenerates its node at the first use. Until then
# PyTorch's node is missing, and an in-place op on the view itself raises its leaf error
# (inplace.check_inplace): ``b[0].mul_(a)`` then ``b[1].add_(1)`` on fresh views works,
# ``v = b[1]`` made before the first write and ``v.add_(1)`` after it raises.
WOKEN = object()


def note(base, t):
    """Remember ``t``, a view of ``base`` (a storage's base) that requires no grad."""
    vs = base._cviews
    if vs is None:
        base._cviews = [ref(t)]
        return
    vs.append(ref(t))
    n = len(vs)
    if n >= PRUNE_FROM and not n & (n - 1):  # (128, 256, ...: amortized O(1) a view)
        vs[:] = [r for r in vs if r() is not None]


def wake(base, written):
    """``base``'s history was just rebound by an in-place write through ``written`` (the base or
    a view of it, whose own history the caller sets): when it now requires grad, each noted view
    still alive and requiring no grad takes its history from the base's."""
    if not base._rg:
        return  # (still no grad: the views stay noted for a later write)
    from .inplace import _regather, _set_history, storage_base

    vs, base._cviews = base._cviews, None
    for r in vs:
        v = r()
        if v is None or v is written or v._rg or storage_base(v) is not base:
            continue
        if v._multi is None:
            _set_history(v, _regather(v, base))
            v._bseg = WOKEN  # (its next use regathers it again: see WOKEN)
        elif _gm.is_grad_enabled():  # (PyTorch: "A view was created in no_grad mode ...")
            multi = v._multi
            _gm.mark_no_grad_view(v, base)  # (requires grad: its uses refresh it, and raise)
            v._multi, v._bseg = multi, WOKEN  # (WOKEN: the message says made without grad)
