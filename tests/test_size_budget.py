"""Soft ceilings that stop sprawl (tinygrad's sz.py idea): raise them on purpose, not by drift."""

import pathlib

from tapegrad.ops import REGISTRY

PACKAGE = pathlib.Path(__file__).parent.parent / "tapegrad"
MAX_MODULE_LINES = 650  # the generated sweep excepted
MAX_COMPILED_OPS = 50  # each adds to the cold compile of the sweep
MAX_ENV_FLAGS = 4


def test_modules_stay_small():
    for path in PACKAGE.rglob("*.py"):
        if path.name == "_sweep_dispatch.py":
            continue
        n = len(path.read_text().splitlines())
        assert n <= MAX_MODULE_LINES, f"{path.relative_to(PACKAGE)} has {n} lines: split it"


def test_compiled_primitive_set_stays_small():
    compiled = [d for d in REGISTRY.values() if d.kind in ("unary", "binary", "linear")]
    assert len(compiled) <= MAX_COMPILED_OPS


def test_env_flags_only_in_config():
    for path in PACKAGE.rglob("*.py"):
        if path.name != "_config.py":
            assert "os.environ" not in path.read_text(), f"{path.name} reads the environment"
    flags = (PACKAGE / "_config.py").read_text().count("os.environ.get(")
    assert flags <= MAX_ENV_FLAGS
