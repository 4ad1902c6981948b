"""Every notebook in notebook/ runs top to bottom without errors and shows what it is for, so they never rot.

Notebooks that need a server or the local model use the same fixtures as the tests: skipped with the
reason locally, mandatory in CI (REQUIRE_ELASTICSEARCH, REQUIRE_LOCAL_MODEL).
"""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from movies_assistant.config import ROOT

NOTEBOOKS = sorted((ROOT / "notebook").glob("*.ipynb"))
# the fixture a notebook needs beyond the bundled data
NEEDS = {"rag_es.ipynb": "elastic_url", "retrieval_evaluation.ipynb": "elastic_url",
         "evaluation_data_generation.ipynb": "smollm2"}
# text each notebook's outputs must show, and how many charts it draws
EXPECTED = {
    "rag_flow.ipynb": (["indexed 18,042"], 1),
    "rag_minsearch.ipynb": (["1,199 movies, 1,000 questions", "Forrest Gump (1994) was directed by Robert Zemeckis",
                             "minsearch, seed boosts", "app, lexical (tantivy)"], 0),
    "rag_es.ipynb": (["indexed 1,199 movies", "'year_min': 1990, 'year_max': 1999", "'genres': ['Crime']",
                      "Forrest Gump (1994) was directed by Robert Zemeckis", "lexical   hit rate@10"], 0),
    "evaluation_data_generation.ipynb": (["Forrest Gump (1994): ", "generated questions in generated-questions.csv",
                                          "reference: 1000 questions about 200 movies"], 0),
    "retrieval_evaluation.ipynb": (["| local | lexical | all |", "| elasticsearch | lexical | all |",
                                    "| tuned on train |"], 2),
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, request, monkeypatch):
    need = NEEDS.get(path.name)
    if need == "elastic_url":  # the notebook reads ELASTIC_URL through Settings.from_env, like the app
        monkeypatch.setenv("ELASTIC_URL", request.getfixturevalue("elastic_url"))
    elif need:
        request.getfixturevalue(need)
    texts, charts = EXPECTED[path.name]
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = "".join(o.get("text", "") for o in outputs) + "".join(
        str(o.get("data", {}).get(kind, "")) for o in outputs for kind in ("text/plain", "text/markdown"))
    for text in texts:
        assert text in shown
    assert sum("image/png" in o.get("data", {}) for o in outputs) == charts
