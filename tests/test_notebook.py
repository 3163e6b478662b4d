"""The docs' notebook (docs/notebooks/explore.ipynb) runs top to bottom: every slider position it
checks draws a result equal to ``C^T x`` and to the crop window of the full result. Needs the
notebook tools (in the ``test`` and ``docs`` extras); skipped cleanly without them."""
import os

import pytest

NOTEBOOK = os.path.join(os.path.dirname(__file__), os.pardir, "docs", "notebooks", "explore.ipynb")


def test_notebook_executes(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": os.path.dirname(NOTEBOOK)}}).execute()
    printed = "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                      for out in cell.get("outputs", []))
    assert "1800 slider positions checked" in printed
