"""The documented examples run: docstring doctests, the README, and ``python -m conv1dt``."""
import doctest
import pathlib
import subprocess
import sys

import pytest

import importlib


ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["_ops", "_geometry", "_overlap_add", "_runtime.threads",
                                  "_runtime.config", "_runtime.denormals", "reference", "_stream",
                                  "dask"])
def test_docstring_examples(name):
    """Each module's examples; conv1dt.dask's only where Dask is installed (it is optional)."""
    if name == "dask":
        module = pytest.importorskip("conv1dt.dask", exc_type=ImportError)
    else:
        module = importlib.import_module(f"conv1dt.{name}")
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


def test_collected_without_dask():
    """This file is collected, and its other examples run, where Dask is missing (it imported
    conv1dt.dask at the top, so collection failed without Dask)."""
    code = ("import sys; sys.modules['dask'] = None; import pytest; "
            "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '-k', 'docstring', __file__]))")
    # from where the conv1dt under test lives (the checkout, or site-packages for an installed
    # sdist): `-c` puts the cwd first on sys.path
    import pathlib

    import conv1dt
    proc = subprocess.run([sys.executable, "-c", code.replace("__file__", repr(__file__))],
                          capture_output=True, text=True, timeout=300,
                          cwd=pathlib.Path(conv1dt.__file__).resolve().parent.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "8 passed, 1 skipped" in proc.stdout, proc.stdout
