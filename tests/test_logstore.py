"""The log store, one suite run on SQLite and on a real PostgreSQL server.

The PostgreSQL runs need TEST_POSTGRES_URL (see `postgres_admin_url` in conftest.py, and
scripts/test-postgres.sh to start a throwaway server); without it they are skipped with the reason.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from movies_assistant.logstore import AnswerRecord, LogStore, LogStoreUnavailable, UnknownConversation
from movies_assistant.logstore import store as store_module
from movies_assistant.logstore.connections import PostgresConnections, SQLiteConnections
from movies_assistant.logstore.migrations import MIGRATIONS

LATEST = max(version for version, _, _ in MIGRATIONS)
INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg2.IntegrityError)

INJECTIONS = [
    "x'); DROP TABLE conversations; --",
    "'; DROP TABLE feedback; --",
    "Robert'); DELETE FROM conversations WHERE ('1'='1",
    "' OR '1'='1",
    '" OR 1=1; --',
    "1; UPDATE conversations SET answer = 'pwned'; --",
    "%s %(x)s %% ? ?? $1 :name \\' \\\\",
    "'); DROP TABLE schema_migrations; SELECT ('",
    "Amélie — 千と千尋の神隠し 🎬",
]


def close(store: LogStore) -> None:
    """Close a PostgreSQL pool so the test database can be dropped cleanly."""
    pool = getattr(store.connections, "_pool", None)
    if pool is not None and not pool.closed:
        pool.closeall()


@pytest.fixture(params=["sqlite", "postgresql"])
def log_store(request, tmp_path) -> LogStore:
    """A log store on an empty database, not migrated yet; `log_store.reopen()` gives another one on it."""
    if request.param == "sqlite":
        path = tmp_path / "log.sqlite3"
        connections = lambda: SQLiteConnections(path)  # noqa: E731
    else:
        url = request.getfixturevalue("postgres_url")
        connections = lambda: PostgresConnections(url)  # noqa: E731
    opened = []

    def reopen() -> LogStore:
        opened.append(LogStore(connections()))
        return opened[-1]

    store = reopen()
    store.reopen = reopen
    yield store
    for s in opened:
        close(s)


@pytest.fixture
def store(log_store) -> LogStore:
    """A migrated log store."""
    log_store.migrate()
    return log_store


def raw(store: LogStore, query: str, params: tuple = ()) -> list[tuple]:
    """Run SQL straight on the store's database, bypassing LogStore."""
    with store.connections.connect() as conn:
        cur = conn.cursor()
        cur.execute(store.connections.sql(query), params)
        return cur.fetchall() if cur.description else []


def record(conversation_id: str, turn: int, **fields) -> AnswerRecord:
    values = {
        "id": str(uuid.uuid4()), "conversation_id": conversation_id, "turn": turn,
        "question": f"question {turn}", "answer": f"answer {turn}", "model_used": "composer",
        "response_time": 0.25, "retrieval_time": 0.05, "prompt_tokens": 0, "completion_tokens": 0,
        "sources": [{"id": 100 + turn, "title": f"Movie {turn}", "year": 2000 + turn}],
    }
    values.update(fields)
    return AnswerRecord(**values)


def table_counts(store: LogStore) -> dict[str, int]:
    return {t: raw(store, f"SELECT COUNT(*) FROM {t}")[0][0] for t in ("conversations", "feedback", "schema_migrations")}


# -- schema ------------------------------------------------------------------

def test_migrate_creates_schema_and_is_idempotent(log_store):
    assert log_store.migrate() == [version for version, _, _ in MIGRATIONS]
    assert log_store.schema_version() == LATEST
    assert table_counts(log_store) == {"conversations": 0, "feedback": 0, "schema_migrations": len(MIGRATIONS)}

    r = record("c1", 1)
    log_store.save_answer(r)
    log_store.save_feedback("c1", 1)

    assert log_store.migrate() == []  # nothing left to apply
    assert log_store.reopen().migrate() == []  # a new store (new connections) on the same database agrees
    assert log_store.schema_version() == LATEST
    assert table_counts(log_store) == {"conversations": 1, "feedback": 1, "schema_migrations": len(MIGRATIONS)}
    assert log_store.get_answer(r.id)["question"] == "question 1"
    assert log_store.feedback_for("c1") == [1]


def test_concurrent_migrations_apply_each_migration_once(log_store):
    """Several processes (here: stores with their own connections) starting on an empty database at once."""
    stores = [log_store.reopen() for _ in range(6)]
    barrier = threading.Barrier(len(stores))
    results: list = [None] * len(stores)

    def migrate(i):
        barrier.wait()
        try:
            results[i] = stores[i].migrate()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=migrate, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    all_versions = [version for version, _, _ in MIGRATIONS]
    # each migration applied exactly once, by whichever store got to it first
    assert sorted(v for applied in results for v in applied) == all_versions, results
    assert table_counts(log_store)["schema_migrations"] == len(MIGRATIONS)


def test_a_failing_migration_leaves_nothing_behind(store, monkeypatch):
    broken = (LATEST + 1, "broken", ["CREATE TABLE half_done (id INTEGER)", "THIS IS NOT SQL"])
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS + [broken])
    with pytest.raises(Exception):
        store.migrate()
    assert store.schema_version() == LATEST
    with pytest.raises(Exception):  # the first statement was rolled back with the second
        raw(store, "SELECT COUNT(*) FROM half_done")

    fixed = (LATEST + 1, "fixed", ["CREATE TABLE half_done (id INTEGER)"])
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS + [fixed])
    assert store.migrate() == [LATEST + 1]
    assert raw(store, "SELECT COUNT(*) FROM half_done") == [(0,)]


def test_schema_migrations_records_names(store):
    rows = raw(store, "SELECT version, name FROM schema_migrations ORDER BY version")
    assert rows == [(version, name) for version, name, _ in MIGRATIONS]


# -- answers -------------------------------------------------------------------

def test_save_and_get_answer_round_trip(store):
    r = record("conv-1", 1, question="Who directed Alien?", answer="Ridley Scott directed Alien (1979).",
               model_used="smollm2", prompt_tokens=120, completion_tokens=35)
    store.save_answer(r)

    got = store.get_answer(r.id)
    assert got == {
        "id": r.id, "conversation_id": "conv-1", "turn": 1, "question": "Who directed Alien?",
        "answer": "Ridley Scott directed Alien (1979).", "model_used": "smollm2", "relevance": "UNJUDGED",
        "relevance_explanation": "", "prompt_tokens": 120, "completion_tokens": 35, "total_tokens": 155,
    }
    assert store.get_answer("no-such-answer") is None
    assert store.count_answers() == 1
    (response_time, retrieval_time), = raw(store, "SELECT response_time, retrieval_time FROM conversations")
    assert response_time == pytest.approx(0.25) and retrieval_time == pytest.approx(0.05)


def test_an_answer_id_is_stored_once(store):
    # a write the database committed just before it went down may be spooled and replayed: the id keeps one row
    r = record("conv-1", 1)
    store.save_answer(r)
    store.save_answer(record("conv-1", 2, id=r.id))
    assert store.count_answers() == 1
    assert store.get_answer(r.id)["turn"] == 1


def test_history_is_oldest_first_and_limited(store):
    for turn in (3, 1, 2, 5, 4, 8, 6, 7):  # inserted out of order on purpose
        store.save_answer(record("conv-a", turn))
    store.save_answer(record("conv-b", 1, question="other conversation"))

    history = store.history("conv-a", limit=6)
    assert [h["turn"] for h in history] == [3, 4, 5, 6, 7, 8]
    assert history[-1] == {"turn": 8, "question": "question 8", "answer": "answer 8",
                           "sources": [{"id": 108, "title": "Movie 8", "year": 2008}]}
    assert [h["turn"] for h in store.history("conv-a", limit=2)] == [7, 8]
    assert [h["turn"] for h in store.history("conv-a", limit=100)] == list(range(1, 9))
    assert [h["question"] for h in store.history("conv-b")] == ["other conversation"]
    assert store.history("conv-unknown") == []


def test_last_turn(store):
    assert store.last_turn("conv-a") == 0
    store.save_answer(record("conv-a", 1))
    store.save_answer(record("conv-a", 2))
    store.save_answer(record("conv-b", 5))
    assert store.last_turn("conv-a") == 2
    assert store.last_turn("conv-b") == 5


# -- feedback ----------------------------------------------------------------

def test_feedback_goes_to_latest_answer_by_default(store):
    first, second = record("conv-a", 1), record("conv-a", 2)
    store.save_answer(second)  # the latest turn, saved first
    store.save_answer(first)

    assert store.save_feedback("conv-a", 1) == second.id
    assert store.save_feedback("conv-a", -1) == second.id
    assert store.feedback_for("conv-a") == [1, -1]
    rows = raw(store, "SELECT conversation_id, answer_id, feedback FROM feedback ORDER BY id")
    assert rows == [("conv-a", second.id, 1), ("conv-a", second.id, -1)]


def test_feedback_to_a_given_answer(store):
    first, second = record("conv-a", 1), record("conv-a", 2)
    store.save_answer(first)
    store.save_answer(second)

    assert store.save_feedback("conv-a", -1, answer_id=first.id) == first.id
    assert raw(store, "SELECT answer_id, feedback FROM feedback") == [(first.id, -1)]


def test_feedback_to_another_conversations_answer_is_rejected(store):
    mine, theirs = record("conv-a", 1), record("conv-b", 1)
    store.save_answer(mine)
    store.save_answer(theirs)
    with pytest.raises(UnknownConversation):
        store.save_feedback("conv-a", 1, answer_id=theirs.id)
    with pytest.raises(UnknownConversation):
        store.save_feedback("conv-a", 1, answer_id="no-such-answer")
    assert store.feedback_for("conv-a") == []


@pytest.mark.parametrize("value", [0, 2, -2, 10, "1", None, 1.5])
def test_feedback_value_must_be_plus_or_minus_one(store, value):
    store.save_answer(record("conv-a", 1))
    with pytest.raises(ValueError):
        store.save_feedback("conv-a", value)
    assert store.feedback_for("conv-a") == []


@pytest.mark.parametrize("value", [0, 2, -5])
def test_database_check_constraint_rejects_other_feedback_values(store, value):
    r = record("conv-a", 1)
    store.save_answer(r)
    with pytest.raises(INTEGRITY_ERRORS):
        raw(store, "INSERT INTO feedback (conversation_id, answer_id, feedback, timestamp) VALUES (?, ?, ?, ?)",
            ("conv-a", r.id, value, "2024-01-01T00:00:00+00:00"))
    assert store.feedback_for("conv-a") == []
    store.save_feedback("conv-a", 1)  # the store still works after the failed insert
    assert store.feedback_for("conv-a") == [1]


def test_database_rejects_feedback_for_unknown_answer(store):
    with pytest.raises(INTEGRITY_ERRORS):
        raw(store, "INSERT INTO feedback (conversation_id, answer_id, feedback, timestamp) VALUES (?, ?, ?, ?)",
            ("conv-a", "no-such-answer", 1, "2024-01-01T00:00:00+00:00"))


def test_feedback_for_unknown_conversation(store):
    store.save_answer(record("conv-a", 1))
    with pytest.raises(UnknownConversation):
        store.save_feedback("conv-unknown", 1)
    with pytest.raises(UnknownConversation):
        store.save_feedback("", -1)
    assert table_counts(store)["feedback"] == 0


# -- relevance ---------------------------------------------------------------

def test_set_relevance(store):
    r = record("conv-a", 1)
    store.save_answer(r)
    store.set_relevance(r.id, "PARTLY_RELEVANT", "covers the director, not the year", "judge-model",
                        prompt_tokens=50, completion_tokens=7)
    got = store.get_answer(r.id)
    assert (got["relevance"], got["relevance_explanation"]) == ("PARTLY_RELEVANT", "covers the director, not the year")
    assert raw(store, "SELECT judge_model, eval_prompt_tokens, eval_completion_tokens, eval_total_tokens "
                      "FROM conversations") == [("judge-model", 50, 7, 57)]


@pytest.mark.parametrize("label", ["relevant", "GOOD", "", "RELEVANT'; --", "UNJUDGED "])
def test_set_relevance_rejects_unknown_labels(store, label):
    r = record("conv-a", 1)
    store.save_answer(r)
    with pytest.raises(ValueError):
        store.set_relevance(r.id, label, "explanation", "judge")
    got = store.get_answer(r.id)
    assert (got["relevance"], got["relevance_explanation"]) == ("UNJUDGED", "")


# -- SQL injection -------------------------------------------------------------

@pytest.mark.parametrize("payload", INJECTIONS)
def test_text_fields_are_stored_verbatim(store, payload):
    """Every text field is a bound parameter: injection attempts are data, and the tables survive."""
    bystander = record("bystander", 1)
    store.save_answer(bystander)

    conversation_id = payload
    r = record(conversation_id, 1, id=payload + "#id", question=payload, answer=payload, model_used=payload,
               sources=[{"id": 1, "title": payload, "year": 1999}])
    store.save_answer(r)
    store.set_relevance(r.id, "RELEVANT", payload, payload)

    got = store.get_answer(r.id)
    assert got["conversation_id"] == payload
    assert got["question"] == payload and got["answer"] == payload and got["model_used"] == payload
    assert got["relevance_explanation"] == payload
    assert store.history(conversation_id) == [
        {"turn": 1, "question": payload, "answer": payload, "sources": [{"id": 1, "title": payload, "year": 1999}]}
    ]
    assert store.last_turn(conversation_id) == 1
    assert store.save_feedback(conversation_id, 1) == r.id
    assert store.save_feedback(conversation_id, -1, answer_id=r.id) == r.id
    assert store.feedback_for(conversation_id) == [1, -1]

    # nothing was dropped, deleted or rewritten
    assert table_counts(store) == {"conversations": 2, "feedback": 2, "schema_migrations": len(MIGRATIONS)}
    assert store.schema_version() == LATEST
    assert store.get_answer(bystander.id)["answer"] == "answer 1"
    assert raw(store, "SELECT judge_model FROM conversations WHERE id = ?", (r.id,)) == [(payload,)]


@pytest.mark.parametrize("payload", ["' OR '1'='1", "x' OR 1=1 --", "%", "_"])
def test_lookups_do_not_match_other_conversations(store, payload):
    store.save_answer(record("conv-a", 3))
    assert store.history(payload) == []
    assert store.last_turn(payload) == 0
    assert store.get_answer(payload) is None
    with pytest.raises(UnknownConversation):
        store.save_feedback(payload, 1)


# -- unavailable database ---------------------------------------------------------

SECRET = "s3cret-Pa55word"


def test_unreachable_postgres_is_unavailable_without_leaking_the_password():
    store = LogStore(PostgresConnections(f"postgresql://movies:{SECRET}@127.0.0.1:1/movies"))
    assert SECRET not in store.describe()
    for call in (store.migrate, store.count_answers, lambda: store.save_answer(record("c", 1)),
                 lambda: store.history("c"), lambda: store.save_feedback("c", 1)):
        with pytest.raises(LogStoreUnavailable) as info:
            call()
        message = str(info.value)
        assert SECRET not in message and SECRET not in repr(info.value)
        assert "127.0.0.1:1" in message
        assert SECRET not in str(info.value.__cause__)
    close(store)


@pytest.mark.parametrize("url", [
    f"postgresql://movies:{SECRET}@db.example:5433/movies",
    f"postgres://movies:{SECRET}@db.example:5433/movies?sslmode=require",
    f"host=db.example port=5433 dbname=movies user=movies password={SECRET}",
    f"postgresql://movies:{SECRET}@db.example:not-a-port/movies",
    f"not a url {SECRET}",
], ids=["url", "postgres-scheme", "key-value", "bad-port", "garbage"])
def test_describe_never_shows_the_password(url):
    described = PostgresConnections(url).describe()
    assert SECRET not in described
    assert described.startswith("postgresql://")


def test_wrong_postgres_password_is_unavailable_without_leaking_it(postgres_admin_url):
    parts = urlsplit(postgres_admin_url)
    netloc = f"{parts.username or 'postgres'}:{SECRET}@{parts.hostname}:{parts.port or 5432}"
    store = LogStore(PostgresConnections(urlunsplit(parts._replace(netloc=netloc))))
    try:
        store.count_answers()
    except LogStoreUnavailable as exc:
        assert SECRET not in str(exc) and SECRET not in str(exc.__cause__)
    except psycopg2.Error:  # connected (the server trusts this client) but the schema is missing
        pytest.skip("the server at TEST_POSTGRES_URL does not check passwords (trust authentication)")
    else:
        pytest.skip("the server at TEST_POSTGRES_URL does not check passwords (trust authentication)")
    finally:
        close(store)

