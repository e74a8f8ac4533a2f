"""A fresh segment each step: leaves imported anew, read-only empty tables until written.

Every backward retires its segment, so the next step's first op opens a fresh one and
imports its leaves again; a fresh segment's ``foreign``/``hooked`` tables are one shared
read-only empty mapping until an import or a hook writes its own, and ``deferred`` is an
empty tuple until a sweep frees records while another sweep of the segment is active.
"""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import tape

torch = pytest.importorskip("torch")


def _pair(v, dtype=np.float64):
    return tg.tensor(v.astype(dtype), requires_grad=True), torch.tensor(v.astype(dtype),
                                                                        requires_grad=True)


def test_leaves_imported_on_every_fresh_segment():
    r = np.random.default_rng(0)
    (a, ta), (b, tb) = _pair(r.standard_normal(64)), _pair(r.standard_normal(64))
    (s, ts) = _pair(r.standard_normal(()))  # a 0-d leaf: one slot
    (c, tc) = _pair(r.standard_normal(5) + 1j * r.standard_normal(5), np.complex128)
    for step in range(5):
        orders = set()
        for lib, (x, y, z, w) in (("tg", (a, b, s, c)), ("torch", (ta, tb, ts, tc))):
            loss = (x * y * z).sum() + (w * w.conj()).real.sum() * (step + 1)
            if lib == "tg":
                orders.add(loss._seg.order)
                assert loss._seg.imports[a._imp[1]] is a and loss._seg.imports[c._imp[1]] is c
            loss.backward()
        assert len(orders) == 1 and a._imp[0] == c._imp[0] == next(iter(orders))
        for x, tx in ((a, ta), (b, tb), (s, ts), (c, tc)):
            np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-13, atol=1e-13)
    assert len(tape.NONE) == 0


def test_hooks_and_foreign_imports_write_their_own_tables():
    r = np.random.default_rng(1)
    (x, tx) = _pair(r.standard_normal(8))
    seen = []
    for step in range(4):
        grads = []
        for lib, v in (("tg", x), ("torch", tx)):
            h = (v * v).sin()  # an older segment's tensor, imported by the next one
            if lib == "tg":
                tape.close_current()
            u = h * (step + 1.0)
            if step % 2:
                u.retain_grad()
                u.register_hook(lambda g: seen.append(float(g.sum())) or g * 2)
            (u.exp().sum() + h.sum()).backward()
            grads.append(v.grad.numpy().copy())
            if lib == "tg":
                assert (step % 2 == 0) == (len(u._seg.hooked) == 0)
                assert u._seg.foreign and u._seg.foreign is not tape.NONE
            if step % 2:
                grads.append(u.grad.numpy().copy())
        np.testing.assert_allclose(grads[0], grads[2 if step % 2 else 1], rtol=1e-13)
        if step % 2:
            np.testing.assert_allclose(grads[1], grads[3], rtol=1e-13)
    assert len(seen) == 4 and seen[0::2] == pytest.approx(seen[1::2], rel=1e-13)
    assert len(tape.NONE) == 0


def test_records_freed_during_another_sweep_released_after_it():
    r = np.random.default_rng(2)
    (x, tx) = _pair(r.standard_normal(6))
    held, outs = [], []
    for v in (x, tx):
        z, w = v.sin(), v.exp()  # one segment; the hook's backward frees exp's records

        def hook(g, w=w, lib=tg if v is x else torch):
            with lib.enable_grad():  # (hooks run under the backward's grad mode, off)
                w.sum().backward()
            if lib is tg:
                held.append(w._seg.deferred)  # the outer sweep is active: released after it
            return g

        z.register_hook(hook)
        z.sum().backward()
        outs.append((z, w))
    seg = outs[0][0]._seg
    assert len(held) == 1 and len(held[0]) == 1
    assert seg.deferred == () and seg.active == 0
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-13)
    for w in (outs[0][1], outs[1][1]):
        with pytest.raises(RuntimeError, match="second time"):
            w.sum().backward()
