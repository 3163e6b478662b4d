"""The package as published: metadata (PEP 639 license, one version), the sdist's contents, and the
build's handling of OpenMP. tools/check_dist.sh builds, repairs and installs the real distributions.

Oracles: the LICENSE text's own clauses; ``conv1dt/_version.py`` for the version; ``git ls-files``
for what the sdist must hold; a compiled build for what the build says and does without OpenMP.
"""
import importlib.metadata
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile

import pytest

import conv1dt

ROOT = pathlib.Path(__file__).resolve().parent.parent
try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")


def _pyproject():
    path = ROOT / "pyproject.toml"
    if not path.exists():
        pytest.skip("not run from a source tree")
    return tomllib.loads(path.read_text())


def test_the_license_ships_with_its_three_clauses():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License") and "the conv1dt developers" in text
    for clause in ("Redistributions of source code must retain", "Redistributions in binary form must "
                   "reproduce", "Neither the name of the copyright holder"):
        assert clause in " ".join(text.split()), clause


def test_pyproject_metadata_is_pep_639_and_the_version_is_written_once():
    project = _pyproject()["project"]
    assert project["license"] == "BSD-3-Clause" and project["license-files"] == ["LICENSE"]
    assert "version" not in project and "version" in project["dynamic"]
    assert _pyproject()["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "conv1dt._version.__version__"}
    assert project["requires-python"] == ">=3.10"
    versions = [c.rsplit(":: ", 1)[1] for c in project["classifiers"]
                if c.startswith("Programming Language :: Python :: 3.")]
    assert versions == ["3.10", "3.11", "3.12", "3.13"]
    assert {"Homepage", "Source", "Issues", "Documentation"} <= set(project["urls"])
    assert any(d.startswith("threadpoolctl") for d in project["dependencies"])
    build = _pyproject()["build-system"]["requires"]
    assert "setuptools>=77" in build   # the first setuptools to read a PEP 639 license expression


def test_installed_metadata_matches_the_source():
    """What pip recorded at install time: the version of conv1dt/_version.py, PEP 639 fields."""
    meta = importlib.metadata.metadata("conv1dt")
    assert meta["Version"] == conv1dt.__version__
    if meta["Metadata-Version"] < "2.4":
        pytest.skip("installed by an older setuptools: reinstall to record PEP 639 metadata")
    assert meta["License-Expression"] == "BSD-3-Clause"
    assert "LICENSE" in meta.get_all("License-File")
    assert any(r.startswith("threadpoolctl") for r in meta.get_all("Requires-Dist"))


def test_the_stubs_and_marker_are_package_data():
    """The wheel's package data is py.typed and the stubs, not the Cython or C sources."""
    tool = _pyproject()["tool"]["setuptools"]
    assert tool["include-package-data"] is False
    assert tool["package-data"] == {"conv1dt": ["py.typed", "*.pyi"], "conv1dt._compiled": ["*.pyi"],
                                    "conv1dt._runtime": ["*.pyi"]}
    assert set(tool["packages"]) == {"conv1dt", "conv1dt._compiled", "conv1dt._runtime", "conv1dt.bench"}
    stubs = {str(p.relative_to(ROOT / "conv1dt")) for p in (ROOT / "conv1dt").rglob("*.pyi")}
    assert {"_ops.pyi", "_stream.pyi", "reference.pyi", "_compiled/_cpu.pyi",
            "_runtime/denormals.pyi"} <= stubs


def _git_files(*paths):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", *paths], capture_output=True,
                         text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.slow
def test_the_sdist_holds_what_its_tests_need(tmp_path):
    """Every tracked file of tests/ (conftest.py, overlap_add.py, the golden .npz, the typing
    files) and of conv1dt/ is in the sdist; the C that Cython generates is not."""
    pytest.importorskip("build")
    want = _git_files("tests", "conv1dt", "LICENSE")
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    (sdist,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert want - names == set()
    assert {n for n in names if n.endswith(".c") and n[:-2] + ".pyx" in names} == set()
    assert not any(n.endswith((".so", ".pyd")) for n in names)


def _setup_py(tmp_path, env, *args):
    """``python setup.py build_ext`` of a copy of the package, into ``tmp_path``."""
    pytest.importorskip("Cython")
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip("needs setuptools >= 77 (the build requirement) in this environment")
    if not (ROOT / "setup.py").exists():
        pytest.skip("not run from a source tree")
    def built(directory, names):   # compiled extensions, Cython's C (a .c next to its .pyx), caches
        return [n for n in names if n.endswith((".so", ".pyd")) or n == "__pycache__"
                or (n.endswith(".c") and n[:-2] + ".pyx" in names)]

    shutil.copytree(ROOT / "conv1dt", tmp_path / "conv1dt", ignore=built)
    for name in ("setup.py", "pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        shutil.copy(ROOT / name, tmp_path / name)
    return subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace", *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=1200,
                          env={**os.environ, **env})


@pytest.mark.slow
def test_require_openmp_makes_its_absence_an_error(tmp_path):
    proc = _setup_py(tmp_path, {"CONV1DT_NO_OPENMP": "1", "CONV1DT_REQUIRE_OPENMP": "1"})
    assert proc.returncode != 0
    assert "OpenMP is required (CONV1DT_REQUIRE_OPENMP=1)" in proc.stderr + proc.stdout
    assert not list((tmp_path / "conv1dt").rglob("*.so"))


@pytest.mark.slow
def test_a_build_without_openmp_says_so_and_runs_serial(tmp_path):
    """The build warns (pip shows a build's warnings) and prints a notice on stderr (which
    `python -m build` and cibuildwheel show); the serial build then warns on set_num_threads(2)
    and reports itself."""
    proc = _setup_py(tmp_path, {"CONV1DT_NO_OPENMP": "1", "CONV1DT_REQUIRE_OPENMP": "0"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "conv1dt: building WITHOUT OpenMP (CONV1DT_NO_OPENMP is set)" in proc.stderr
    assert "UserWarning: conv1dt: building WITHOUT OpenMP" in proc.stderr
    code = ("import warnings, conv1dt\n"
            "info = conv1dt.show_config()\n"
            "assert info['openmp'] is False and info['openmp_runtime'] is None, info\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    conv1dt.set_num_threads(2)\n"
            "assert conv1dt.get_num_threads() == 1\n"
            "assert w and issubclass(w[0].category, RuntimeWarning), w\n"
            "import numpy as np\n"
            "y = conv1dt.conv1d_transpose(np.ones((1, 3, 1)), np.ones((2, 1, 1)), [1, 6, 1], 2)\n"
            "assert y.ravel().tolist() == [1, 1, 1, 1, 1, 1], y\n"
            "print('serial ok')\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0 and "serial ok" in run.stdout, run.stdout + run.stderr
