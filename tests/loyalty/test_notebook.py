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
    # NPS, quadrant plot, curve, Kano; ladder, diamond, loyalty types, metrics.
    assert figures == 8
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    shown = {source.split("(")[0]: str(out) for source, out in zip(sources, outputs,
                                                                   strict=True)}
    # The Kano cell shows the summary table with every shipped feature.
    kano_output = shown["kano = loyalty.kano_evaluation"]
    assert "free_roaming" in kano_output and "personal_offers" in kano_output
    # The last cell: retention 213 of 296 and its lifetime value.
    assert "213" in str(outputs[-1]) and "296" in str(outputs[-1])
    assert "189.165" in str(outputs[-1])
