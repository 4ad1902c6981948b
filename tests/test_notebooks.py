"""Every notebook in notebook/ runs top to bottom without errors, so they never rot."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from movies_assistant.config import ROOT

NOTEBOOKS = sorted((ROOT / "notebook").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path):
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs) + "".join(
        str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "indexed 18,042" in text
    assert any("image/png" in o.get("data", {}) for o in outputs), "the evaluation chart was not drawn"
