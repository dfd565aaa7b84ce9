"""notebooks/loyalty_analytics.ipynb runs from top to bottom on the shipped data."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "loyalty_analytics.ipynb"


def test_notebook_is_committed_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


def test_notebook_runs(monkeypatch) -> None:
    # The kernel imports this checkout's package, not an installed copy of another version.
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [cell.outputs for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not any(o.output_type == "error" for o in out) for out in outputs)
    figures = sum("image/png" in o.get("data", {}) for out in outputs for o in out)
    assert figures == 4                     # NPS, quadrant plot, curve, Kano plot
    # The Kano cell shows the summary table with every shipped feature.
    kano_output = str(outputs[-2])
    assert "free_roaming" in kano_output and "personal_offers" in kano_output
