"""The log spool: nothing answered is lost while the log database is down, and replay writes it once.

The database here is real SQLite; it is made unavailable by putting a directory where its file
should be (SQLite then cannot open it), and made available again by removing that directory.
tests/test_outage.py kills a real PostgreSQL under load.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import sqlite3
import time

import pytest

from movies_assistant.app import create_app, services
from movies_assistant.logstore import AnswerRecord, LogStoreUnavailable, Spool, open_log_store


def rows(path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


class Outage:
    """Makes a SQLite log database unavailable (a directory where its file should be) and back."""

    def __init__(self, path):
        self.path = path

    def begin(self):
        self.path.with_suffix(".bak").unlink(missing_ok=True)
        if self.path.exists():
            self.path.rename(self.path.with_suffix(".bak"))
        self.path.mkdir()

    def end(self):
        self.path.rmdir()
        if self.path.with_suffix(".bak").exists():
            self.path.with_suffix(".bak").rename(self.path)


@pytest.fixture
def down_settings(settings):
    return dataclasses.replace(settings, spool_retry=0.2)


def answer(i: int, conversation_id: str = "c1") -> AnswerRecord:
    return AnswerRecord(id=f"a{i}", conversation_id=conversation_id, turn=i, question=f"q{i}", answer=f"answer {i}",
                        model_used="composer", response_time=0.01, sources=[{"id": i, "title": f"t{i}", "year": 2000}])


def test_writes_go_to_the_spool_while_down_and_are_replayed_once(down_settings):
    store = open_log_store(down_settings)
    outage = Outage(down_settings.sqlite_file)
    store.ensure_schema()
    store.save_answer(answer(1))
    outage.begin()
    store.retry_seconds = 60  # no background replay: this test replays by hand
    store._down_until = 0
    store.save_answer(answer(2))
    store.save_answer(answer(3))
    assert store.save_feedback("c1", -1) == "a3"  # the latest turn is a spooled one
    assert store.save_feedback("c1", 1, "a2") == "a2"
    store.set_relevance("a2", "RELEVANT", "fine", "judge")
    assert store.spooled() == 5
    assert [t["id"] for t in store.turns("c1")] == ["a2", "a3"]  # the database is down: what the spool knows
    with pytest.raises(LogStoreUnavailable):
        store.save_feedback("c1", 1, "a1")  # only the database knows a1: a clear error, not a guess

    assert store.replay_spool() is None  # still down: the spool stays
    assert store.spooled() == 5
    outage.end()
    store._down_until = 0
    # a replay interrupted after two records, then a full one: every record lands once
    applied = []

    def flaky(kind, data):
        if len(applied) == 2:
            raise LogStoreUnavailable("gone again")
        store._apply(kind, data)
        applied.append(kind)

    with pytest.raises(LogStoreUnavailable):
        store.spool.replay(flaky, LogStoreUnavailable)
    assert store.spool.replaying.exists()
    assert store.replay_spool() == 5
    assert not store.spool.pending() and store.spooled() == 0

    db = down_settings.sqlite_file
    assert rows(db, "SELECT id, turn FROM conversations ORDER BY turn") == [("a1", 1), ("a2", 2), ("a3", 3)]
    assert rows(db, "SELECT answer_id, feedback FROM feedback ORDER BY answer_id") == [("a2", 1), ("a3", -1)]
    assert rows(db, "SELECT relevance FROM conversations WHERE id = 'a2'") == [("RELEVANT",)]
    assert [(t["id"], t["feedback"]) for t in store.turns("c1")] == [("a1", 0), ("a2", 1), ("a3", -1)]
    store.close()


def test_the_app_answers_rates_and_follows_up_while_the_database_is_down(down_settings):
    app = create_app(down_settings)
    client = app.test_client()
    outage = Outage(down_settings.sqlite_file)
    first = client.post("/question", json={"question": "Who directed Alien?"}).get_json()
    outage.begin()
    services_ = app.extensions["movies_assistant"]

    # a follow-up of a conversation only the database knows: a clear 503, not a new conversation
    old_turns = client.post("/question", json={"question": "When was it released?",
                                               "conversation_id": first["conversation_id"]})
    assert old_turns.status_code == 503 and "unavailable" in old_turns.get_json()["error"]
    new = client.post("/question", json={"question": "Finding Nemo"})
    assert new.status_code == 200, new.get_data(as_text=True)
    new = new.get_json()
    # a follow-up whose earlier turn is only in the spool
    again = client.post("/question", json={"question": "Who directed it?", "conversation_id": new["conversation_id"]})
    assert again.status_code == 200, again.get_data(as_text=True)
    again = again.get_json()
    assert again["turn"] == 2 and "Andrew Stanton" in again["answer"]
    rated = client.post("/feedback", json={"conversation_id": new["conversation_id"], "feedback": 1})
    assert rated.status_code == 200 and rated.get_json()["answer_id"] == again["answer_id"]  # the latest turn
    old = client.post("/feedback", json={"conversation_id": first["conversation_id"], "feedback": 1,
                                         "answer_id": first["answer_id"]})
    assert old.status_code == 503 and "unavailable" in old.get_json()["error"]

    health = client.get("/health")
    assert health.status_code == 200  # still answering, and nothing is lost
    report = health.get_json()
    assert report["status"] == "degraded"
    assert report["database"]["status"] == "unavailable" and report["database"]["spooled"] == 3
    assert "spool" in report["database"]["note"]

    outage.end()
    store = services_.log_store
    deadline = time.monotonic() + 10
    while store.spooled() and time.monotonic() < deadline:  # the background replay (SPOOL_RETRY=0.2)
        time.sleep(0.1)
    assert store.spooled() == 0
    report = client.get("/health").get_json()
    assert report["status"] == "ok" and report["database"]["spooled"] == 0
    db = down_settings.sqlite_file
    ids = {r[0] for r in rows(db, "SELECT id FROM conversations")}
    assert ids == {first["answer_id"], new["answer_id"], again["answer_id"]}
    assert rows(db, "SELECT answer_id, feedback FROM feedback") == [(again["answer_id"], 1)]
    with app.app_context():
        assert services().log.count_answers() == 3
    store.close()


def test_a_torn_last_line_is_skipped_and_the_next_record_stays_whole(tmp_path):
    spool = Spool(tmp_path)
    spool.append("feedback", {"n": 1})
    with open(spool.path, "ab") as f:
        f.write(b'{"kind": "feedback", "data": {"n": 2')  # a writer killed mid-line, never acknowledged
    spool.append("feedback", {"n": 3})
    assert [data["n"] for _, data in spool.records()] == [1, 3]


def test_a_record_the_database_refuses_is_set_aside_not_blocking(down_settings):
    store = open_log_store(down_settings)
    store.ensure_schema()
    store.save_answer(answer(1))
    # feedback for an answer that does not exist: the foreign key refuses it on replay
    store.spool.append("feedback", {"uid": "f1", "conversation_id": "c1", "answer_id": "nope", "feedback": 1,
                                    "timestamp": "2026-01-01T00:00:00+00:00"})
    store.spool.append("answer", dataclasses.asdict(answer(2)))
    assert store.replay_spool() == 2
    assert rows(down_settings.sqlite_file, "SELECT id FROM conversations ORDER BY id") == [("a1",), ("a2",)]
    assert "nope" in store.spool.rejected.read_text() and not store.spool.pending()
    store.close()


def _append_many(folder, worker: int, n: int) -> None:
    spool = Spool(folder)
    for i in range(n):
        spool.append("answer", {"worker": worker, "i": i, "text": "x" * 5000})


def test_processes_appending_at_once_keep_every_record_whole(tmp_path):
    workers = [multiprocessing.get_context("fork").Process(target=_append_many, args=(tmp_path, w, 100))
               for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
    records = Spool(tmp_path).records()
    assert len(records) == 400
    for w in range(4):
        assert [d["i"] for _, d in records if d["worker"] == w] == list(range(100))  # each worker's order kept
