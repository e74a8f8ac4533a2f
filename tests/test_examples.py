"""Every script in examples/ runs to completion as a user would run it."""

import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = sorted((pathlib.Path(__file__).parent.parent / "examples").glob("*.py"))

# Small sizes for the examples that take a size from the environment, so each runs in seconds;
# and what each must print to show it checked its own result.
SMALL = {
    "ode_fit.py": {"ODE_EXAMPLE_STEPS": "100", "ODE_EXAMPLE_ITERS": "15"},
    "gmm_fit.py": {"GMM_EXAMPLE_POINTS": "60", "GMM_EXAMPLE_STEPS": "200"},
}
CHECKED = {
    "ode_fit.py": "recovered the true parameters",
    "gmm_fit.py": "recovered the true means and weights",
}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    env = dict(os.environ, TAPEGRAD_EXAMPLE_OUT=str(tmp_path), **SMALL.get(path.name, {}))
    proc = subprocess.run([sys.executable, str(path)], check=False, capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip()
    assert CHECKED.get(path.name, "") in proc.stdout


def test_readme_snippets_run():
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    blocks = readme.split("```python")[1:]
    assert blocks
    for block in blocks:
        code = block.split("```")[0]
        namespace = {}
        exec(compile(code, "README.md", "exec"), namespace)
