"""vmap over an autograd.Function without a vmap rule (or with two) refuses in PyTorch's full
words, which end with where its documentation explains them."""

import pytest

import tapegrad as tg

from tests.op_checks import needs_torch, torch

DOCS = " For more details, please see https://pytorch.org/docs/main/notes/extending.func.html"


def _function(lib, rule, generate):
    body = {
        "forward": staticmethod(lambda x: x * 2),
        "setup_context": staticmethod(lambda ctx, inputs, output: None),
        "backward": staticmethod(lambda ctx, g: g * 2),
        "generate_vmap_rule": generate,
    }
    if rule:
        body["vmap"] = staticmethod(lambda info, in_dims, x: (x * 2, in_dims[0]))
    return type("Twice", (lib.autograd.Function,), body)


@pytest.mark.parametrize("rule, generate, start", [
    (False, False, "You tried to vmap over Twice, but it does not have vmap support."),
    (True, True, "You tried to vmap over Twice, but it has both generate_vmap_rule=True and an "
                 "overridden vmap staticmethod."),
])
def test_refusals_name_the_docs(rule, generate, start):
    with pytest.raises(RuntimeError) as info:
        tg.func.vmap(_function(tg, rule, generate).apply)(tg.ones(2, 2))
    assert str(info.value).startswith(start) and str(info.value).endswith(DOCS)


@needs_torch
@pytest.mark.parametrize("rule, generate", [(False, False), (True, True)])
def test_refusals_match_torch(rule, generate):
    def refusal(lib):
        with pytest.raises(RuntimeError) as info:
            lib.func.vmap(_function(lib, rule, generate).apply)(lib.ones(2, 2))
        return str(info.value)

    assert refusal(tg) == refusal(torch)
