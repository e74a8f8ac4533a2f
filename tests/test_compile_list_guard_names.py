"""A compiled function records again when a list or dict holding what it uses changes length
between calls; the reason said 'a list or dict the function reads changed its length' without
saying which, so a log appended to outside the call (by a hook, between steps) could not be
found. It now names the container as the code reaches it: a global, an attribute path, a
variable of the hook or closure that holds it. The values after the new recording are eager's."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn

ws = [tg.tensor([1.0, 2.0])]
scale = [tg.tensor([2.0])]


def _make():
    m = nn.Linear(2, 1, dtype=tg.float64)
    m.extra = [tg.tensor([0.5], dtype=tg.float64)]
    logs = [tg.tensor([3.0], dtype=tg.float64)]
    m.register_forward_hook(lambda mod, i, o: o * scale[0] + logs[0])

    class Box:
        pass

    box = Box()
    box.items = [tg.tensor([3.0])]

    def f(x):
        return sum((w * x).sum() for w in ws) + box.items[0].sum() + m.extra[0].sum() + \
            m(x).sum()

    return f, {"ws": ws, "box.items": box.items, "m.extra": m.extra,
               "scale (a global of _make.<locals>.<lambda>)": scale,
               "logs (a variable of _make.<locals>.<lambda>)": logs}


@pytest.mark.parametrize("where", ["ws", "box.items", "m.extra", "scale", "logs"])
def test_the_guard_names_the_container_that_grew(where):
    f, containers = _make()
    name = next(k for k in containers if k.split(" ")[0] == where)
    grown = containers[name]
    compiled, soft = tg.compile(f, fullgraph=True), tg.compile(f)
    x = tg.tensor([1.0, 1.5])
    compiled(x)
    soft(x)
    grown.append(grown[0])
    try:
        with pytest.raises(RuntimeError) as e:
            compiled(x)
        assert str(e.value).endswith(f"changed its length: {name}"), str(e.value)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # (recorded again, no fallback)
            for _ in range(2):
                np.testing.assert_allclose(soft(x).item(), f(x).item(), rtol=1e-15)
        assert soft._count == 2
    finally:
        grown.pop()
