"""Submodules loaded on first use: ``import conv1dt`` imports none of them (nor Dask, PyTorch or
JAX), ``conv1dt.<name>`` loads one, ``dir(conv1dt)`` lists them. Checked in fresh interpreters,
since this test session has imported them already."""
import json
import subprocess
import sys

import pytest

import conv1dt

SUBMODULES = ["dask", "jax", "linalg", "torch"]
HEAVY = ["dask", "torch", "jax", "pylops"] + [f"conv1dt.{m}" for m in SUBMODULES]


def run(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_conv1dt_imports_no_submodule_nor_framework():
    loaded = run("import sys, json, conv1dt; "
                 f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    assert loaded == []


def test_attribute_access_loads_linalg_only():
    loaded = run("import sys, json, conv1dt; conv1dt.linalg.conv1d_operator; "
                 f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    assert loaded == ["conv1dt.linalg"]


def test_dir_lists_submodules_and_unknown_names_raise():
    assert set(SUBMODULES) <= set(dir(conv1dt))
    assert set(conv1dt.__all__) <= set(dir(conv1dt))
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        conv1dt.nope


def test_each_submodule_by_attribute():
    import importlib
    for name in SUBMODULES:
        dep = {"dask": "dask", "jax": "jax", "torch": "torch"}.get(name)
        try:
            if dep:
                importlib.import_module(dep)
        except ImportError:     # the framework is not installed: the next test covers it
            continue
        mod = getattr(conv1dt, name)
        assert mod.__name__ == f"conv1dt.{name}"
        assert ("conv1d_operator" if name == "linalg" else "conv1d_transpose") in mod.__all__


@pytest.mark.parametrize("name, dep, hint", [("torch", "torch", "conv1dt[torch]"),
                                             ("jax", "jax", "conv1dt[jax]")])
def test_missing_framework_is_a_clear_import_error(name, dep, hint):
    """With the framework absent (blocked in sys.modules), the submodule says what to install."""
    msg = run(f"import sys, json; sys.modules[{dep!r}] = None; import conv1dt\n"
              f"try:\n    conv1dt.{name}\nexcept ImportError as e:\n    print(json.dumps(str(e)))")
    assert hint in msg
