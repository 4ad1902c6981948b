"""The Flask app end to end with PostgreSQL as its log store, checked in the database itself.

Needs TEST_POSTGRES_URL (see `postgres_admin_url` in conftest.py, and scripts/test-postgres.sh);
skipped with the reason without it, failed when REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import psycopg2
import pytest

from movies_assistant.app import create_app
from movies_assistant.logstore.migrations import MIGRATIONS

LATEST = max(version for version, _, _ in MIGRATIONS)


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


@pytest.fixture
def pg_app(settings, postgres_url):
    pg_settings = dataclasses.replace(settings, database_url=postgres_url)
    app = create_app(pg_settings)
    app.config["TESTING"] = True
    yield app
    log_store = app.extensions["movies_assistant"].__dict__.get("log_store")  # only if it was opened
    pool = getattr(getattr(log_store, "connections", None), "_pool", None)
    if pool is not None and not pool.closed:
        pool.closeall()


@pytest.fixture
def pg_client(pg_app):
    return pg_app.test_client()


def test_health_reports_postgres_without_the_password(pg_client, postgres_url):
    response = pg_client.get("/health")
    assert response.status_code == 200, response.get_data(as_text=True)
    database = response.get_json()["database"]
    parts = urlsplit(postgres_url)
    assert database == {
        "status": "ok",
        "store": f"postgresql://{parts.hostname}:{parts.port or 5432}{parts.path}",
        "schema_version": LATEST,
        "spooled": 0,
    }
    if parts.password:
        assert parts.password not in response.get_data(as_text=True)
    assert query(postgres_url, "SELECT MAX(version) FROM schema_migrations") == [(LATEST,)]


def test_questions_and_feedback_are_logged_in_postgres(pg_client, pg_app, postgres_url):
    first = pg_client.post("/question", json={"question": "Who directed Forrest Gump?"})
    assert first.status_code == 200, first.get_data(as_text=True)
    first = first.get_json()
    conversation_id = first["conversation_id"]

    second = pg_client.post("/question", json={"question": "When was it released?", "conversation_id": conversation_id})
    assert second.status_code == 200, second.get_data(as_text=True)
    second = second.get_json()
    assert second["conversation_id"] == conversation_id

    rows = query(postgres_url, "SELECT id, conversation_id, turn, question, answer, model_used, "
                               "prompt_tokens + completion_tokens = total_tokens, relevance, sources, timestamp "
                               "FROM conversations ORDER BY turn")
    assert [(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows] == [
        (first["answer_id"], conversation_id, 1, "Who directed Forrest Gump?", first["answer"], first["model"],
         True, "UNJUDGED"),
        (second["answer_id"], conversation_id, 2, "When was it released?", second["answer"], second["model"],
         True, "UNJUDGED"),
    ]
    assert all(r[9].tzinfo is not None for r in rows)  # TIMESTAMPTZ, not text
    assert '"Forrest Gump"' in rows[0][8]  # the sources, as JSON

    latest = pg_client.post("/feedback", json={"conversation_id": conversation_id, "feedback": 1})
    assert latest.status_code == 200, latest.get_data(as_text=True)
    assert latest.get_json()["answer_id"] == second["answer_id"]
    chosen = pg_client.post("/feedback", json={"conversation_id": conversation_id, "feedback": -1,
                                               "answer_id": first["answer_id"]})
    assert chosen.status_code == 200, chosen.get_data(as_text=True)
    assert chosen.get_json()["answer_id"] == first["answer_id"]

    assert query(postgres_url, "SELECT conversation_id, answer_id, feedback FROM feedback ORDER BY id") == [
        (conversation_id, second["answer_id"], 1),
        (conversation_id, first["answer_id"], -1),
    ]
    # nothing went to the SQLite file
    assert not pg_app.config["SETTINGS"].sqlite_file.exists()


def test_unknown_conversation_and_bad_feedback_write_nothing(pg_client, postgres_url):
    unknown = "00000000-0000-4000-8000-000000000000"
    assert pg_client.post("/feedback", json={"conversation_id": unknown, "feedback": 1}).status_code == 404
    assert pg_client.post("/question", json={"question": "And it?", "conversation_id": unknown}).status_code == 404

    answer = pg_client.post("/question", json={"question": "Tell me about Finding Nemo"}).get_json()
    for value in (0, 2, "1", True):
        response = pg_client.post("/feedback", json={"conversation_id": answer["conversation_id"], "feedback": value})
        assert response.status_code == 400
    assert query(postgres_url, "SELECT COUNT(*) FROM feedback") == [(0,)]
    assert query(postgres_url, "SELECT COUNT(*) FROM conversations") == [(1,)]


def test_injection_through_the_api_is_stored_verbatim(pg_client, postgres_url):
    question = "x'); DROP TABLE conversations; --"
    response = pg_client.post("/question", json={"question": question})
    assert response.status_code == 200, response.get_data(as_text=True)
    answer_id = response.get_json()["answer_id"]
    assert query(postgres_url, "SELECT question FROM conversations WHERE id = %s", (answer_id,)) == [(question,)]
    assert query(postgres_url, "SELECT COUNT(*) FROM conversations") == [(1,)]
    assert pg_client.get("/health").get_json()["database"]["status"] == "ok"


def test_unreachable_postgres_is_reported_without_the_password(settings):
    secret = "s3cret-Pa55word"
    app = create_app(dataclasses.replace(settings, database_url=f"postgresql://movies:{secret}@127.0.0.1:1/movies"))
    client = app.test_client()

    answer = client.post("/question", json={"question": "Who directed Forrest Gump?"})
    assert answer.status_code == 200  # answered, and kept in the spool until the database is back
    assert secret not in answer.get_data(as_text=True)

    health = client.get("/health")
    assert health.status_code == 200 and health.get_json()["status"] == "degraded"
    assert health.get_json()["database"]["status"] == "unavailable"
    assert health.get_json()["database"]["store"] == "postgresql://127.0.0.1:1/movies"
    assert health.get_json()["database"]["spooled"] == 1
    assert secret not in health.get_data(as_text=True)
