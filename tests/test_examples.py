"""Every script in examples/ runs to completion as a user would run it."""

import pathlib
import subprocess
import sys

import pytest

EXAMPLES = sorted((pathlib.Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path):
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip()


def test_readme_snippets_run():
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    blocks = readme.split("```python")[1:]
    assert blocks
    for block in blocks:
        code = block.split("```")[0]
        namespace = {}
        exec(compile(code, "README.md", "exec"), namespace)
