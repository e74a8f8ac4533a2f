"""tapegrad sets glibc's malloc thresholds once at import, unless told not to."""

import os
import subprocess
import sys

import pytest

import tapegrad._malloc as malloc

glibc = sys.platform.startswith("linux") and bool(os.confstr("CS_GNU_LIBC_VERSION"))


def _tuned_in_fresh_process(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("TAPEGRAD_MALLOC_TUNING", "MALLOC_MMAP_THRESHOLD_",
                        "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")}
    code = "import tapegrad._malloc as m; print(m.tuned)"
    out = subprocess.run([sys.executable, "-c", code], env={**env, **extra},
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not glibc, reason="malloc tuning applies to glibc only")
def test_tuned_at_import_on_glibc():
    assert malloc.tuned is True
    # mallopt takes the same values again: the thresholds are within glibc's limits
    assert malloc.tune() is True


def test_opt_out_and_user_settings_are_respected():
    assert _tuned_in_fresh_process(TAPEGRAD_MALLOC_TUNING="0") == "False"
    assert _tuned_in_fresh_process(MALLOC_TRIM_THRESHOLD_="1000000") == "False"
    assert _tuned_in_fresh_process(GLIBC_TUNABLES="glibc.malloc.trim_threshold=1") == "False"
    assert _tuned_in_fresh_process() == ("True" if glibc else "False")
