"""Property-based fuzzing of the HTTP API against its own OpenAPI document (schemathesis, in process).

Schemathesis reads GET /openapi.json from the app (WSGI, no network), generates valid and invalid
requests for every operation (bounded: MAX_EXAMPLES per operation, no shrinking) and runs its default
checks on each response: no 5xx, status code and content type documented, body matching the
documented schema, invalid input rejected with 4xx. The app answers with the composer over the
sample index, logging to a fresh SQLite database. The number of cases, by operation, mode and status,
is printed at the end and written to test-artifacts/fuzz-summary.txt.

    .venv/bin/python -m pytest tests/test_fuzz.py -q -s
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from .conftest import ARTIFACTS

MAX_EXAMPLES = 50  # per operation and mode
OPERATIONS = [("/question", "POST"), ("/question/stream", "POST"), ("/feedback", "POST"), ("/search", "GET"),
              ("/health", "GET")]
cases: Counter = Counter()  # (operation, mode, status) -> cases, for the summary


@pytest.fixture(scope="module", autouse=True)
def summary(request):
    yield
    lines = [f"schemathesis: {sum(cases.values())} cases, "
             f"{sum(n for (_, _, status), n in cases.items() if status >= 500)} with a 5xx"]
    for operation, mode in sorted({(op, mode) for op, mode, _ in cases}):
        statuses = ", ".join(f"{status}: {n}" for (op, m, status), n in sorted(cases.items())
                             if (op, m) == (operation, mode))
        lines.append(f"  {operation} [{mode}]: {statuses}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "fuzz-summary.txt").write_text("\n".join(lines) + "\n")
    with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        print("\n" + "\n".join(lines))


def test_the_document_lists_every_fuzzed_operation(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert sorted((p, m.upper()) for p, ops in paths.items() for m in ops) == sorted(OPERATIONS)


# /health takes no input: there is no invalid request to make.
RUNS = [(path, method, mode) for path, method in OPERATIONS for mode in GenerationMode
        if not (path == "/health" and mode == GenerationMode.NEGATIVE)]


@pytest.mark.parametrize("path, method, mode", RUNS, ids=lambda v: str(v))
def test_the_api_keeps_its_openapi_contract(app, client, path, method, mode):
    operation = schemathesis.openapi.from_wsgi("/openapi.json", app)[path][method]
    # Random UUIDs name no conversation (404): half the cases use a real one, to reach the 200 paths too.
    known = client.post("/question", json={"question": "Who directed Alien?"}).get_json()

    @given(case=operation.as_strategy(mode), real_ids=st.booleans())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def fuzz(case, real_ids):
        if real_ids and mode == GenerationMode.POSITIVE and isinstance(case.body, dict):
            for field in ("conversation_id", "answer_id"):
                if case.body.get(field):
                    case.body[field] = known[field]
        response = case.call_and_validate()
        cases[(f"{method} {path}", str(mode), response.status_code)] += 1

    fuzz()
