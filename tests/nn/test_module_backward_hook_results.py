"""What a module's full backward (pre-)hook returns is checked as PyTorch checks it: another
tensor type or shape raises (a double gradient made a float32 input's .grad float64), and the
hook node is PyTorch's ``BackwardHookFunctionBackward``."""

import pytest

import tapegrad as tg


def _outcomes(lib):
    out = []
    replacements = [
        ("post", lambda mod, gi, go: (lib.ones(5, 5, dtype=lib.float32),)),
        ("pre", lambda mod, go: (lib.ones(5, 5, dtype=lib.float32),)),
        ("post", lambda mod, gi, go: (gi[0].double(),)),
        ("pre", lambda mod, go: (go[0].double(),)),
        ("pre", lambda mod, go: (go[0] * 2,)),
        ("post", lambda mod, gi, go: (gi[0] * 3,)),
    ]
    for kind, hook in replacements:
        m = lib.nn.Linear(3, 2).float()
        with lib.no_grad():
            m.weight.fill_(0.5)
        register = m.register_full_backward_hook if kind == "post" else \
            m.register_full_backward_pre_hook
        register(hook)
        x = lib.ones(2, 3, dtype=lib.float32, requires_grad=True)
        y = m(x)
        try:
            y.sum().backward()
            out.append((str(x.grad.dtype).replace("torch.", ""), x.grad.tolist()))
        except RuntimeError as e:
            out.append(str(e))
    out.append(y.grad_fn.name())
    return out


def test_hook_results_are_checked():
    out = _outcomes(tg)
    assert out[:4] == ["hook 'hook' has changed the size of value"] * 2 + [
        "hook 'hook' has changed the type of value (was torch.FloatTensor got "
        "torch.DoubleTensor)"] * 2
    assert out[4] == ("float32", [[2.0] * 3] * 2) and out[5] == ("float32", [[3.0] * 3] * 2)
    assert out[6] == "BackwardHookFunctionBackward"


def test_hook_results_match_torch(torch):
    assert _outcomes(tg) == _outcomes(torch)


def test_inplace_on_hooked_output_names_the_node(torch):
    messages = []
    for lib in (tg, torch):
        m = lib.nn.Linear(2, 2)
        m.register_full_backward_hook(lambda *a: None)
        y = m(lib.ones(1, 2, requires_grad=True))
        with pytest.raises(RuntimeError) as info:
            y.add_(1)
        messages.append(str(info.value).split(".")[0])
    assert messages[0] == messages[1] == ("Output 0 of BackwardHookFunction is a view and is "
                                          "being modified inplace")
