"""Checks of the documentation's sources that a doctest cannot make: what the pages claim about
themselves (counts, names), that the teaching pages use public names only, that every teaching
page has worked exercises, and that the built HTML loads nothing from a CDN."""
import os
import re
import sys

import pytest

DOCS = os.path.join(os.path.dirname(__file__), os.pardir, "docs")
sys.path.insert(0, DOCS)
import check_offline  # noqa: E402

TEACHING = ["what-it-is", "tutorial", "algebra", "sizes", "stride", "lecture"]
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}


def read(page):
    with open(os.path.join(DOCS, page + ".rst"), encoding="utf-8") as fh:
        return fh.read()


def test_computing_counts_its_kernels():
    """The heading says how many kernels the list below it describes (it said three of five)."""
    text = read("computing")
    heading = re.search(r"^(\w+) kernels and one rule\n-+\n(.*?)\n\S[^\n]*\n-{3,}", text, re.M | re.S)
    assert heading, "the kernels section"
    terms = re.findall(r"^``(\w+)`` \(", heading.group(2), re.M)
    assert NUMBERS[heading.group(1).lower()] == len(terms), terms


def test_algebra_says_what_the_kernels_take_from_the_gather():
    """The algebra page said the gather is how conv1dt computes, each output "written by exactly
    one loop iteration", which the BLAS kernels (one GEMM per tap, accumulating) contradict; what
    holds is that each block of outputs is owned by one thread and summed in a fixed order."""
    text = " ".join(read("algebra").split())
    assert "exactly one loop iteration" not in text
    assert "written by one thread only" in text and "fixed order" in text
    assert "one GEMM per tap" in text


def test_api_names_are_not_doubly_qualified():
    """Under ``.. currentmodule:: conv1dt`` a ``py:`` directive naming ``conv1dt.x`` indexes
    ``conv1dt.conv1dt.x`` (``__version__`` was)."""
    text = read("api")
    assert not re.search(r"^\.\. py:\w+:: conv1dt\.", text, re.M)


@pytest.mark.parametrize("page", TEACHING + ["cheatsheet", "glossary", "exercises"])
def test_teaching_pages_use_public_names_only(page):
    assert not re.search(r"conv1dt\._(?!_)\w", read(page)), "a private module on a teaching page"


@pytest.mark.parametrize("page", TEACHING)
def test_teaching_pages_have_three_worked_exercises(page):
    text = read(page)
    exercises = text[text.index("\nExercises\n---------\n"):]
    solutions = re.split(r"^\s*\.\. solution::", exercises, flags=re.M)[1:]
    assert len(solutions) >= 3
    assert all(">>> " in body for body in solutions), "every solution is doctested"


def test_offline_checker_finds_a_cdn():
    html = ('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>'
            '<link rel="stylesheet" href="//fonts.example.org/a.css">'
            '<a href="https://arxiv.org/abs/1603.07285">a link is fine</a>'
            '<script src="_static/mathjax/tex-chtml.js"></script>')
    assert check_offline.external_resources(html) == [
        "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js", "//fonts.example.org/a.css"]


def test_mathjax_is_served_locally():
    """conf.py loads the offline MathJax extension (without it, Sphinx's default mathjax_path is
    a CDN)."""
    with open(os.path.join(DOCS, "conf.py"), encoding="utf-8") as fh:
        conf = fh.read()
    assert '"sphinx-mathjax-offline"' in conf


def test_built_site_loads_nothing_external():
    """The built HTML, when the docs have been built in this checkout (CI runs
    ``docs/check_offline.py`` after its build as well)."""
    site = os.path.join(DOCS, "_build", "html")
    if not os.path.isdir(site):
        pytest.skip("docs not built in this checkout")
    assert check_offline.check_site(site) == []
