"""The public API is typed: mypy accepts typed uses, flags wrong ones, and the stubs agree with the
functions they describe.

The oracles are mypy itself and ``mypy.stubtest``, which imports conv1dt and compares every stub
signature with the runtime one (names, kinds and defaults of the parameters), so a stub left behind
by a change of signature fails here. mypy is in the ``test`` extra; without it these tests skip.
"""
import os
import pathlib
import re
import subprocess
import sys
import sysconfig

import pytest

import conv1dt

pytest.importorskip("mypy")

HERE = pathlib.Path(__file__).resolve().parent
TYPING = HERE / "typing"
# the stubs stubtest checks: every public name of conv1dt comes from one of these modules or from
# a module with inline annotations (_runtime/threads.py, _runtime/config.py, _version.py), which
# mypy reads directly
STUBBED = ["conv1dt._ops", "conv1dt._stream", "conv1dt.reference"]


def _run(module, *args, cwd):
    """``python -m module [--config] args`` in ``cwd``, seeing the conv1dt that is imported here.

    An installed conv1dt (site-packages, with py.typed) is found by mypy as an installed package;
    a source checkout (``pip install -e .`` imports it through a finder mypy cannot follow) is put
    on MYPYPATH. The configuration is the project's pyproject.toml (checkout or unpacked sdist).
    """
    env = dict(os.environ)
    package_root = pathlib.Path(conv1dt.__file__).resolve().parent.parent
    installed = {pathlib.Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
    if package_root not in installed:
        env["MYPYPATH"] = str(package_root)
    config = HERE.parent / "pyproject.toml"
    if config.exists():
        args = ("--config-file" if module == "mypy" else "--mypy-config-file", str(config), *args)
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=600)


def test_typed_usage_passes_mypy(tmp_path):
    proc = _run("mypy", "--no-incremental", str(TYPING / "usage.py"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_misuse_is_flagged_on_every_marked_line(tmp_path):
    """Each ``# E:`` line of misuse.py is an error, and nothing else is: the stubs are precise
    enough to catch a missing argument, a misspelt keyword and a wrong type."""
    source = (TYPING / "misuse.py").read_text().splitlines()
    marked = {i for i, line in enumerate(source, 1) if "  # E:" in line}
    proc = _run("mypy", "--no-incremental", str(TYPING / "misuse.py"), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    errors = re.findall(r"^(.*?):(\d+): error", proc.stdout, re.MULTILINE)
    assert all(path.endswith("misuse.py") for path, _ in errors), proc.stdout
    assert {int(line) for _, line in errors} == marked, proc.stdout


def test_every_public_name_has_a_type(tmp_path):
    """mypy sees each name of ``conv1dt.__all__`` with a type: not ``Any``, not an
    unannotated function (``-> Any``). A public name added without types fails here."""
    probe = tmp_path / "reveal.py"
    probe.write_text("import conv1dt\n" + "".join(f"reveal_type(conv1dt.{name})\n"
                                                   for name in conv1dt.__all__))
    proc = _run("mypy", "--no-incremental", str(probe), cwd=tmp_path)
    revealed = re.findall(r'reveal\.py:(\d+): note: Revealed type is "(.*)"', proc.stdout)
    assert len(revealed) == len(conv1dt.__all__), proc.stdout + proc.stderr
    untyped = [(conv1dt.__all__[int(line) - 2], kind) for line, kind in revealed
               if kind == "Any" or re.search(r"-> Any$", kind)]
    assert not untyped, untyped


def test_stubs_match_the_runtime_signatures(tmp_path):
    """stubtest imports each stubbed module and compares it, name by name, with its stub."""
    proc = _run("mypy.stubtest", *STUBBED, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_py_typed_ships_with_the_package():
    """PEP 561: the marker that tells type checkers to read conv1dt's own types."""
    assert (pathlib.Path(conv1dt.__file__).parent / "py.typed").is_file()
