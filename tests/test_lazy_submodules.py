"""``tg.compile`` and ``tg.distributions`` load on first use: a plain ``import tapegrad`` does
not pay for them, and the first attribute access (or ``import tapegrad.distributions``) gives
the same module with everything in it."""

import subprocess
import sys

SCRIPT = """
import sys
import tapegrad as tg
print("after import:", "tapegrad.distributions" in sys.modules, "tapegrad.compile" in sys.modules)
d = tg.distributions.Normal(tg.tensor(0.0), tg.tensor(2.0))
import tapegrad.distributions as D
print("same module:", D is tg.distributions, tg.distributions.kl_divergence is D.kl_divergence)
x = tg.tensor(0.5, requires_grad=True)
d.log_prob(x).backward()
print("grad:", x.grad.item())
"""


def test_distributions_and_compile_load_on_first_use(tmp_path):
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout.splitlines()
    assert out[0] == "after import: False False"
    assert out[1] == "same module: True True"
    assert float(out[2].split()[1]) == -0.5 / 4.0  # d/dx log N(x; 0, 2) = -x / sigma^2
