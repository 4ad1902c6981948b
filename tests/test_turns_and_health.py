"""Turns stay unique under concurrent follow-ups, /health says where writes go, follow-ups survive a log outage.

The concurrent follow-ups run against real gunicorn (two workers) on SQLite and on PostgreSQL
(TEST_POSTGRES_URL, skipped without it); the write lock is another SQLite connection holding
BEGIN EXCLUSIVE; the unwritable spool is a spool file and instance folder made read-only.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import subprocess
import threading
import time
import uuid

import psycopg2
import pytest

from movies_assistant.app import create_app
from movies_assistant.logstore import AnswerRecord, LogStore
from movies_assistant.logstore.connections import SQLiteConnections
from movies_assistant.logstore.migrations import MIGRATIONS

from .conftest import call, gunicorn

FOLLOW_UPS = 8


@pytest.fixture(params=["sqlite", "postgresql"])
def gunicorn_base(request, sample_index, tmp_path):
    env = {"INSTANCE_DIR": str(tmp_path), "INDEX_DIR": str(sample_index), "LLM_PROVIDER": "composer",
           "JUDGE_PROVIDER": "none", "SPOOL_RETRY": "0.5", "DATABASE_URL": ""}  # empty: SQLite
    if request.param == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    with gunicorn(env, tmp_path / "gunicorn.log", threads=8) as (base, _server):
        assert call(base + "/health", timeout=5)[0] == 200
        yield base, env.get("DATABASE_URL") or str(tmp_path / "movies_assistant.sqlite3")


def logged_turns(database: str, conversation_id: str) -> list[tuple[str, int]]:
    if database.startswith("postgresql"):
        conn = psycopg2.connect(database)
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT id, turn FROM conversations WHERE conversation_id = %s ORDER BY turn",
                            (conversation_id,))
                return cur.fetchall()
        finally:
            conn.close()
    conn = sqlite3.connect(database)
    try:
        return conn.execute("SELECT id, turn FROM conversations WHERE conversation_id = ? ORDER BY turn",
                            (conversation_id,)).fetchall()
    finally:
        conn.close()


def test_parallel_follow_ups_get_distinct_ordered_turns(gunicorn_base):
    base, database = gunicorn_base
    status, first = call(base + "/question", {"question": "Who directed Alien?"})
    assert status == 200, first
    conversation_id = first["conversation_id"]
    barrier = threading.Barrier(FOLLOW_UPS)
    answers: list = [None] * FOLLOW_UPS

    def follow_up(i):
        barrier.wait()
        answers[i] = call(base + "/question", {"question": "who directed it?", "conversation_id": conversation_id})

    threads = [threading.Thread(target=follow_up, args=(i,)) for i in range(FOLLOW_UPS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [s for s, _ in answers] == [200] * FOLLOW_UPS, answers
    assert sorted(a["turn"] for _, a in answers) == list(range(2, FOLLOW_UPS + 2))
    logged = logged_turns(database, conversation_id)
    assert [t for _, t in logged] == list(range(1, FOLLOW_UPS + 2))
    assert {i: t for i, t in logged} == {first["answer_id"]: 1, **{a["answer_id"]: a["turn"] for _, a in answers}}
    # "the latest answer" is now one answer: the highest turn
    status, rated = call(base + "/feedback", {"conversation_id": conversation_id, "feedback": 1})
    assert status == 200 and rated["answer_id"] == logged[-1][0]


def record(conversation_id: str, turn: int) -> AnswerRecord:
    return AnswerRecord(id=str(uuid.uuid4()), conversation_id=conversation_id, turn=turn, question=f"q{turn}",
                        answer=f"a{turn}", model_used="composer", response_time=0.1)


def test_migration_5_renumbers_duplicate_turns_then_makes_them_unique(tmp_path):
    path = tmp_path / "log.sqlite3"
    store = LogStore(SQLiteConnections(path))
    before_5 = [m for m in MIGRATIONS if m[0] < 5]
    from movies_assistant.logstore import store as store_module

    store_module.MIGRATIONS, saved = before_5, store_module.MIGRATIONS
    try:
        store.migrate()
    finally:
        store_module.MIGRATIONS = saved
    conn = sqlite3.connect(path)
    rows = [("a", "c1", 1, "2024-01-01T00:00:01"), ("b", "c1", 2, "2024-01-01T00:00:03"),
            ("c", "c1", 2, "2024-01-01T00:00:02"), ("d", "c1", 3, "2024-01-01T00:00:04"),
            ("e", "c2", 1, "2024-01-01T00:00:01"), ("f", "c2", 5, "2024-01-01T00:00:01")]
    with conn:
        conn.executemany("INSERT INTO conversations (id, conversation_id, turn, question, answer, model_used, "
                         "response_time, timestamp) VALUES (?, ?, ?, 'q', 'a', 'composer', 0, ?)", rows)
    conn.close()
    assert store.migrate() == [5]
    conn = sqlite3.connect(path)
    got = conn.execute("SELECT id, turn FROM conversations ORDER BY id").fetchall()
    assert got == [("a", 1), ("b", 3), ("c", 2), ("d", 4), ("e", 1), ("f", 5)]  # c2 had no duplicate: untouched
    with pytest.raises(sqlite3.IntegrityError):
        with conn:
            conn.execute("INSERT INTO conversations (id, conversation_id, turn, question, answer, model_used, "
                         "response_time, timestamp) VALUES ('g', 'c1', 4, 'q', 'a', 'composer', 0, 'x')")
    conn.close()
    assert store.save_answer(record("c1", 4)) == 5  # taken: the next free turn


def test_migration_5_on_postgres(postgres_url):
    from movies_assistant.logstore.connections import PostgresConnections
    from movies_assistant.logstore import store as store_module

    store = LogStore(PostgresConnections(postgres_url))
    store_module.MIGRATIONS, saved = [m for m in MIGRATIONS if m[0] < 5], store_module.MIGRATIONS
    try:
        store.migrate()
    finally:
        store_module.MIGRATIONS = saved
    conn = psycopg2.connect(postgres_url)
    try:
        with conn, conn.cursor() as cur:
            for i, turn in (("a", 1), ("b", 2), ("c", 2)):
                cur.execute("INSERT INTO conversations (id, conversation_id, turn, question, answer, model_used, "
                            "response_time, timestamp) VALUES (%s, 'c1', %s, 'q', 'a', 'composer', 0, now())",
                            (i, turn))
        assert store.migrate() == [5]
        with conn, conn.cursor() as cur:
            cur.execute("SELECT turn FROM conversations ORDER BY turn")
            assert [r[0] for r in cur.fetchall()] == [1, 2, 3]
        with pytest.raises(psycopg2.IntegrityError), conn, conn.cursor() as cur:
            cur.execute("INSERT INTO conversations (id, conversation_id, turn, question, answer, model_used, "
                        "response_time, timestamp) VALUES ('d', 'c1', 3, 'q', 'a', 'composer', 0, now())")
    finally:
        conn.close()
        store.connections._pool and store.connections._pool.closeall()


def test_spooled_follow_ups_get_distinct_turns_and_keep_them_on_replay(settings):
    from movies_assistant.logstore import open_log_store

    store = open_log_store(dataclasses.replace(settings, spool_retry=60))
    store.ensure_schema()
    store.save_answer(record("c1", 1))
    store.spool.append("answer", {**dataclasses.asdict(record("c0", 1))})  # the database is "down": spooling
    turns = [store.save_answer(record("c1", 2)) for _ in range(3)]
    assert turns == [2, 3, 4]
    assert store.replay_spool() == 4
    assert [t["turn"] for t in store.turns("c1")] == [1, 2, 3, 4]
    # a spooled answer whose turn a live write took meanwhile: replayed as the next free turn
    store.spool.append("answer", dataclasses.asdict(record("c1", 4)))
    assert store.replay_spool() == 1
    assert [t["turn"] for t in store.turns("c1")] == [1, 2, 3, 4, 5]
    store.close()


@pytest.fixture
def health_app(settings):
    app = create_app(dataclasses.replace(settings, database_timeout=0.5, spool_retry=60))
    yield app
    app.extensions["movies_assistant"].log_store.close()


def test_health_is_degraded_while_sqlite_is_write_locked_and_unavailable_without_a_spool(health_app, settings):
    client = health_app.test_client()
    assert client.get("/health").get_json()["database"]["status"] == "ok"
    lock = sqlite3.connect(settings.sqlite_file, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        health = client.get("/health")
        assert time.monotonic() - started < 2
        report = health.get_json()
        assert health.status_code == 200 and report["status"] == "degraded", report  # before any write failed
        assert report["database"]["status"] == "unavailable" and "locked" not in report["database"].get("note", "")
        asked = client.post("/question", json={"question": "Who directed Alien?"})
        assert asked.status_code == 200
        report = client.get("/health").get_json()
        assert report["status"] == "degraded" and report["database"]["spooled"] == 1
        assert report["database"]["spool"] == {"status": "ok"}

        spool = settings.instance_dir / "log-spool.jsonl"
        os.chmod(spool, 0o444)
        os.chmod(settings.instance_dir, 0o555)
        try:
            if os.access(spool, os.W_OK):  # root ignores modes: make the file immutable instead
                subprocess.run(["chattr", "+i", str(spool)], check=True)
            asked = client.post("/question", json={"question": "Who directed Heat?"})
            health = client.get("/health")
        finally:
            subprocess.run(["chattr", "-i", str(spool)], check=False)
            os.chmod(settings.instance_dir, 0o755)
            os.chmod(spool, 0o644)
        assert asked.status_code == 503 and "spool" in asked.get_json()["error"]
        report = health.get_json()
        assert health.status_code == 503 and report["status"] == "unavailable", report
        assert report["database"]["spool"]["status"] == "unavailable"
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    store = health_app.extensions["movies_assistant"].log_store
    store._down_until = 0
    report = client.get("/health").get_json()
    assert report["database"]["status"] == "replaying" and report["status"] == "degraded"
    assert store.replay_spool() == 1
    report = client.get("/health").get_json()
    assert report["status"] == "ok" and report["database"]["spooled"] == 0


def test_follow_up_of_a_logged_turn_right_after_a_failed_write(health_app, settings):
    """The database refuses writes but can be read: the follow-up resolves against the logged turn, no 503."""
    client = health_app.test_client()
    first = client.post("/question", json={"question": "Who directed Finding Nemo?"}).get_json()
    lock = sqlite3.connect(settings.sqlite_file, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        other = client.post("/question", json={"question": "Heat"})  # spooled after a failed write
        assert other.status_code == 200
        again = client.post("/question", json={"question": "When was it released?",
                                                "conversation_id": first["conversation_id"]})
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert again.status_code == 200, again.get_data(as_text=True)
    again = again.get_json()
    assert again["turn"] == 2 and "Finding Nemo" in again["understanding"].get("subject", "")


def test_feedback_with_another_conversations_answer_names_the_answer(client):
    mine = client.post("/question", json={"question": "Who directed Alien?"}).get_json()
    theirs = client.post("/question", json={"question": "Who directed Heat?"}).get_json()
    r = client.post("/feedback", json={"conversation_id": mine["conversation_id"], "feedback": 1,
                                       "answer_id": theirs["answer_id"]})
    assert r.status_code == 404
    error = r.get_json()["error"]
    assert theirs["answer_id"] in error and "is not an answer of" in error and "unknown conversation" not in error
    unknown = str(uuid.uuid4())
    r = client.post("/feedback", json={"conversation_id": unknown, "feedback": 1})
    assert r.status_code == 404 and r.get_json()["error"] == f"unknown conversation_id {unknown!r}"
