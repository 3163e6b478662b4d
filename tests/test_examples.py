"""The documented examples run: docstring doctests, the README, and ``python -m conv1dt``."""
import doctest
import pathlib
import subprocess
import sys

import pytest

from conv1dt import _config, _ops, _padding, _stream, _threads, reference
from conv1dt import dask as _dask

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("module", [_ops, _padding, _threads, _config, reference, _stream, _dask],
                         ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_readme_example():
    result = doctest.testfile(str(ROOT / "README.md"), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_main_reports_success():
    proc = subprocess.run([sys.executable, "-m", "conv1dt"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all checks passed" in proc.stdout
