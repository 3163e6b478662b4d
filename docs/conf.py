"""Sphinx configuration for conv1dt's documentation.

Build (from the repository root)::

    sphinx-build -W -n -b html docs docs/_build/html
    sphinx-build -W -n -b doctest docs docs/_build/doctest

Everything is offline: no intersphinx, and MathJax is served from the built site itself (the
``sphinx-mathjax-offline`` package copies it into ``_static/mathjax``), so the formulas render
without a network; ``tests/test_docs.py`` checks that the built HTML loads no external script or
stylesheet. Figures are drawn at build time from ``figures.py`` by
matplotlib's plot directive; every ``>>>`` example, including those in the docstrings pulled in
by autodoc, is run by the doctest builder.
"""
import doctest
import os
import sys

import conv1dt

# docs/ (for the modules the pages import, e.g. migration_recipes) and docs/_ext (local extensions)
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_here, os.path.join(_here, "_ext")]

project = "conv1dt"
author = "conv1dt developers"
copyright = "conv1dt developers"
version = release = conv1dt.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",   # MathJax from the built site, not a CDN
    "solutions",                # ``.. solution::``: worked solutions folded away (docs/_ext)
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
]

exclude_patterns = ["_build", "_generated", "notebooks"]
root_doc = "index"
default_role = "literal"   # `x` is code, never an accidental cross-reference
pygments_style = "sphinx"
html_theme = "alabaster"
html_theme_options = {"page_width": "1160px", "body_max_width": "none", "code_font_size": "0.85em"}
html_title = f"conv1dt {release}"
html_show_sourcelink = False

# autodoc + numpydoc: the public names are documented where they are exported.
autodoc_member_order = "bysource"
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False

# Nitpicky mode (-n) resolves every reference. Only names outside this project, which cannot
# be linked without intersphinx, are ignored here.
nitpick_ignore = []

# doctest: exception messages are checked too (no IGNORE_EXCEPTION_DETAIL), so the documented
# errors are the ones users see.
# No global set-up: each page imports what it uses, so every example can be copied as it stands.
doctest_default_flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.DONT_ACCEPT_TRUE_FOR_1

# matplotlib's plot directive: one PNG per figure, drawn from figures.py at build time.
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"figure.dpi": 110, "font.size": 9, "savefig.bbox": "tight"}
plot_apply_rcparams = True

# conv1dt.torch and conv1dt.jax are optional: their API (and the examples in their docstrings)
# is rendered where the framework is installed; elsewhere api.rst says so. The part is written
# here, at build time, into _generated/, which is included from api.rst and is not a page.
import importlib.util  # noqa: E402
import pathlib  # noqa: E402

exclude_patterns.append("_generated")
_OPTIONAL_API = {
    "torch": ("PyTorch", ["conv1d_transpose", "conv1d"], ["ConvTranspose1d"]),
    "jax": ("JAX", ["conv1d_transpose", "conv1d"], []),
}
_lines = []
for _mod, (_name, _funcs, _classes) in _OPTIONAL_API.items():
    if importlib.util.find_spec(_mod) is None:
        _lines += [f"``conv1dt.{_mod}`` is not rendered in this build ({_name} is not installed):",
                   f"see ``help(conv1dt.{_mod})``.", ""]
        continue
    _lines += [f".. autofunction:: conv1dt.{_mod}.{f}\n" for f in _funcs]
    _lines += [f".. autoclass:: conv1dt.{_mod}.{c}\n" for c in _classes]
_generated = pathlib.Path(__file__).parent / "_generated"
_generated.mkdir(exist_ok=True)
_text = "\n".join(_lines) + "\n"
_target = _generated / "optional_api.rst"
if not _target.exists() or _target.read_text() != _text:
    _target.write_text(_text)

# 1-D animations (GIF, matplotlib's PillowWriter), drawn from conv1dt's results before the pages
# are read, into docs/_generated (not committed).
def _animations(app):
    import matplotlib
    matplotlib.use("Agg")
    import figures
    out = os.path.join(_here, "_generated")
    os.makedirs(out, exist_ok=True)
    figures.animate_stamps(os.path.join(out, "stamps_s2_k3.gif"), [1, 2, 3, 4], [1, 10, 100], 2)
    figures.animate_stamps(os.path.join(out, "stamps_s3_k2.gif"), [1, 2, 3, 4], [1, 10], 3)


def setup(app):
    app.connect("builder-inited", _animations)
