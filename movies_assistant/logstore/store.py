"""Log-store operations, written once for both databases (parameterised SQL only)."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from .migrations import MIGRATIONS
from .spool import Spool

log = logging.getLogger(__name__)

RELEVANCE_LABELS = ("RELEVANT", "PARTLY_RELEVANT", "NON_RELEVANT", "UNJUDGED")
TURN_ATTEMPTS = 20  # inserts of one answer racing others of its conversation for the next turn number


class LogStoreUnavailable(RuntimeError):
    """The log database cannot be reached."""


class UnknownConversation(LookupError):
    """Feedback or a follow-up named a conversation (or answer) that was never logged; the message says which."""

    def __init__(self, conversation_id: str, answer_id: str | None = None, conversation_exists: bool = False):
        if answer_id and conversation_exists:
            message = f"answer_id {answer_id!r} is not an answer of conversation_id {conversation_id!r}"
        elif answer_id:
            message = f"unknown conversation_id {conversation_id!r} (answer_id {answer_id!r})"
        else:
            message = f"unknown conversation_id {conversation_id!r}"
        super().__init__(message)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


@dataclass
class AnswerRecord:
    """One logged answer: one turn of a conversation."""

    id: str
    conversation_id: str
    turn: int
    question: str
    answer: str
    model_used: str
    response_time: float
    retrieval_time: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    sources: list[dict] = field(default_factory=list)
    relevance: str = "UNJUDGED"
    relevance_explanation: str = ""
    timestamp: str = field(default_factory=now)
    cost: float = 0.0  # dollars, from the model's price (pricing.py); 0 for the composer and local models
    time_to_first_token: float = 0.0  # seconds from the question to the first streamed chunk
    generation_time: float = 0.0  # seconds the model took, first request to last chunk
    grounding: dict = field(default_factory=dict)  # the grounding check's result (rag.py)
    understanding: dict = field(default_factory=dict)  # the turn's state, for follow-ups

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class LogStore:
    """Conversations and feedback. Every database error that means 'down' becomes LogStoreUnavailable.

    With a `spool`, writes never fail because the database is down: answers, feedback and verdicts
    go to the spool instead (and also while it still holds older records, so they stay in order),
    and a background thread replays it every `retry_seconds` until the database takes them.
    """

    def __init__(self, connections, spool: Spool | None = None, retry_seconds: float = 2.0):
        self.connections = connections
        self.spool = spool
        self.retry_seconds = retry_seconds
        self._migrated = False
        self._lock = threading.Lock()
        self._thread_lock = threading.Lock()
        self._down_until = 0.0  # see _down()
        self._down_reason = ""
        self._stop = threading.Event()
        self._replayer: threading.Thread | None = None
        if spool is not None and spool.pending():  # left by an earlier run
            self._start_replayer()

    def describe(self) -> str:
        return self.connections.describe()

    def _unavailable(self, exc: Exception) -> LogStoreUnavailable:
        return LogStoreUnavailable(f"log database {self.describe()} is unavailable: {type(exc).__name__}")

    def _down(self, exc: LogStoreUnavailable) -> LogStoreUnavailable:
        """Remember the failure: calls fail fast for `retry_seconds` instead of each waiting on a timeout."""
        self._down_reason = str(exc)
        self._down_until = time.monotonic() + self.retry_seconds
        return exc

    @contextmanager
    def _cursor(self, fail_fast: bool = True):
        """A cursor in one transaction; `fail_fast=False` tries the database even just after a failure."""
        if fail_fast and time.monotonic() < self._down_until:
            raise LogStoreUnavailable(self._down_reason)
        try:
            with self.connections.connect() as conn:
                yield conn.cursor()
        except self.connections.unavailable_errors as exc:
            raise self._down(self._unavailable(exc)) from exc

    def _run(self, query: str, params: tuple = (), fetch: str | None = None, fail_fast: bool = True):
        with self._cursor(fail_fast) as cur:
            cur.execute(self.connections.sql(query), params)
            if fetch == "one":
                return cur.fetchone()
            if fetch == "all":
                return cur.fetchall()
            return cur.rowcount

    # -- schema ----------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply the migrations not applied yet, each in one transaction; returns their numbers.

        Each transaction first takes the database's migration lock and then checks whether the
        migration is still to do, so processes migrating the same database at once apply it once.
        """
        types = self.connections.types
        lock = self.connections.migration_lock
        applied_now = []
        try:
            with self.connections.connect() as conn:
                cur = conn.cursor()
                cur.execute(lock)
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    f"(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at {types['ts']} NOT NULL)"
                )
            for version, name, statements in MIGRATIONS:
                with self.connections.connect() as conn:
                    cur = conn.cursor()
                    cur.execute(lock)
                    cur.execute(self.connections.sql("SELECT 1 FROM schema_migrations WHERE version = ?"), (version,))
                    if cur.fetchone():
                        continue
                    for statement in statements:
                        cur.execute(statement.format(**types))
                    cur.execute(
                        self.connections.sql("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
                        (version, name, now()),
                    )
                applied_now.append(version)
        except self.connections.unavailable_errors as exc:
            raise self._unavailable(exc) from exc
        return applied_now

    def ensure_schema(self) -> None:
        """Migrate once per process, before the first write (retried on later calls while the database is down)."""
        if not self._migrated:
            if time.monotonic() < self._down_until:
                raise LogStoreUnavailable(self._down_reason)
            with self._lock:
                if not self._migrated:
                    try:
                        self.migrate()
                    except LogStoreUnavailable as exc:
                        raise self._down(exc) from exc
                    self._migrated = True

    def schema_version(self) -> int:
        row = self._run("SELECT MAX(version) FROM schema_migrations", fetch="one")
        return row[0] or 0

    # -- answers ---------------------------------------------------------
    def save_answer(self, r: AnswerRecord) -> int:
        """Log an answer; returns the turn it was logged as.

        `r.turn` is the turn the answer expects (the last one it saw, plus one). When another answer of
        the conversation took that number first (concurrent follow-ups, or a spooled answer replayed
        after a live one), it gets the conversation's next free turn instead: (conversation_id, turn)
        is unique, so turns stay distinct and in the order they were logged.
        """
        return self._write("answer", asdict(r))

    def _insert_answer(self, r: AnswerRecord) -> int:
        columns = (
            "id, conversation_id, turn, question, answer, model_used, response_time, retrieval_time, prompt_tokens, "
            "completion_tokens, total_tokens, relevance, relevance_explanation, sources, timestamp, cost, "
            "time_to_first_token, generation_time, grounding, understanding"
        )
        values = (
            r.id, r.conversation_id, r.turn, r.question, r.answer, r.model_used, r.response_time,
            r.retrieval_time, r.prompt_tokens, r.completion_tokens, r.total_tokens, r.relevance,
            r.relevance_explanation, json.dumps(r.sources), r.timestamp, r.cost, r.time_to_first_token,
            r.generation_time, json.dumps(r.grounding) if r.grounding else "",
            json.dumps(r.understanding) if r.understanding else "",
        )
        placeholders = ["?"] * len(values)
        insert = f"INSERT INTO conversations ({columns}) VALUES ({', '.join(placeholders)}) ON CONFLICT (id) DO NOTHING"
        # the next free turn, computed inside the insert: SQLite runs it under its write lock; PostgreSQL
        # transactions racing for it meet the unique index, and the losers try again
        placeholders[2] = "(SELECT COALESCE(MAX(turn), 0) + 1 FROM conversations WHERE conversation_id = ?)"
        next_turn = f"INSERT INTO conversations ({columns}) VALUES ({', '.join(placeholders)}) ON CONFLICT (id) DO NOTHING"
        query, params = insert, values
        for _ in range(TURN_ATTEMPTS):
            try:
                with self._cursor() as cur:
                    cur.execute(self.connections.sql(query), params)
                    cur.execute(self.connections.sql("SELECT turn FROM conversations WHERE id = ?"), (r.id,))
                    return cur.fetchone()[0]
            except self.connections.conflict_errors:  # the turn is taken: take the next free one
                query, params = next_turn, values[:2] + (r.conversation_id,) + values[3:]
        raise LogStoreUnavailable(f"log database {self.describe()}: no free turn for conversation "
                                  f"{r.conversation_id} after {TURN_ATTEMPTS} attempts")

    def get_answer(self, answer_id: str) -> dict | None:
        row = self._run(
            "SELECT id, conversation_id, turn, question, answer, model_used, relevance, relevance_explanation, "
            "prompt_tokens, completion_tokens, total_tokens FROM conversations WHERE id = ?",
            (answer_id,),
            fetch="one",
        )
        keys = ("id", "conversation_id", "turn", "question", "answer", "model_used", "relevance",
                "relevance_explanation", "prompt_tokens", "completion_tokens", "total_tokens")
        return dict(zip(keys, row)) if row else None

    def answer_details(self, answer_id: str) -> dict | None:
        """Everything logged about one answer, JSON columns decoded (None when unknown)."""
        keys = ("id", "conversation_id", "turn", "question", "answer", "model_used", "response_time",
                "retrieval_time", "prompt_tokens", "completion_tokens", "total_tokens", "relevance",
                "relevance_explanation", "judge_model", "eval_prompt_tokens", "eval_completion_tokens", "cost",
                "time_to_first_token", "generation_time", "sources", "grounding", "understanding", "timestamp")
        row = self._run(f"SELECT {', '.join(keys)} FROM conversations WHERE id = ?", (answer_id,), fetch="one")
        if not row:
            return None
        data = dict(zip(keys, row))
        for key, empty in (("sources", []), ("grounding", {}), ("understanding", {})):
            data[key] = json.loads(data[key]) if data[key] else empty
        return data

    def history(self, conversation_id: str, limit: int = 6) -> list[dict]:
        """The last `limit` turns of a conversation, oldest first: question, answer and sources only."""
        keys = ("turn", "question", "answer", "sources")
        return [{k: t[k] for k in keys} for t in self.turns(conversation_id, limit)]

    def turns(self, conversation_id: str, limit: int = 20) -> list[dict]:
        """The last `limit` turns with what follow-ups need (grounding, understanding, feedback), oldest first.

        Turns still in the spool count too, so a conversation goes on while the database is down.
        """
        answers, feedback = self._spooled(conversation_id)  # read before the database: see Spool.replay
        # a database that refuses writes may still be readable (a read-only file, another writer's lock):
        # a conversation the spool does not know is looked up there even just after a failed write
        fail_fast = bool(answers)
        try:
            rows = self._run(
                "SELECT id, turn, question, answer, sources, grounding, understanding FROM conversations "
                "WHERE conversation_id = ? ORDER BY turn DESC LIMIT ?",
                (conversation_id, limit),
                fetch="all", fail_fast=fail_fast,
            )
            logged = dict(self._run(
                "SELECT answer_id, MIN(feedback) FROM feedback WHERE conversation_id = ? GROUP BY answer_id",
                (conversation_id,), fetch="all", fail_fast=fail_fast,
            ))
        except LogStoreUnavailable:
            if not answers:
                raise
            rows, logged = [], {}
        turns = {i: {"id": i, "turn": t, "question": q, "answer": a, "sources": json.loads(s),
                     "grounding": json.loads(g) if g else {}, "understanding": json.loads(u) if u else {}}
                 for i, t, q, a, s, g, u in rows}
        for r in answers:
            turns.setdefault(r["id"], {k: r[k] for k in ("id", "turn", "question", "answer", "sources", "grounding",
                                                          "understanding")})
        for answer_id, value in feedback:
            logged[answer_id] = min(logged.get(answer_id, value), value)
        ordered = sorted(turns.values(), key=lambda t: t["turn"])[-limit:]
        return [{**t, "feedback": logged.get(t["id"], 0)} for t in ordered]

    def last_turn(self, conversation_id: str) -> int:
        row = self._run("SELECT MAX(turn) FROM conversations WHERE conversation_id = ?", (conversation_id,), fetch="one")
        return row[0] or 0

    def set_relevance(self, answer_id: str, label: str, explanation: str, judge_model: str,
                      prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        if label not in RELEVANCE_LABELS:
            raise ValueError(f"unknown relevance label {label!r}")
        self._write("relevance", {"answer_id": answer_id, "label": label, "explanation": explanation,
                                  "judge_model": judge_model, "prompt_tokens": prompt_tokens,
                                  "completion_tokens": completion_tokens})

    def _update_relevance(self, answer_id: str, label: str, explanation: str, judge_model: str,
                          prompt_tokens: int, completion_tokens: int) -> None:
        self._run(
            "UPDATE conversations SET relevance = ?, relevance_explanation = ?, judge_model = ?, "
            "eval_prompt_tokens = ?, eval_completion_tokens = ?, eval_total_tokens = ? WHERE id = ?",
            (label, explanation, judge_model, prompt_tokens, completion_tokens,
             prompt_tokens + completion_tokens, answer_id),
        )

    # -- feedback --------------------------------------------------------
    def save_feedback(self, conversation_id: str, value: int, answer_id: str | None = None) -> str:
        """Store +1/-1 for an answer (default: the conversation's latest); returns the answer id.

        An answer still in the spool can be rated; one only the database knows needs the database.
        """
        if value not in (1, -1):
            raise ValueError("feedback must be 1 or -1")
        spooled = [r for r in self._spooled(conversation_id)[0] if not answer_id or r["id"] == answer_id]
        if spooled:
            target = max(spooled, key=lambda r: r["turn"])["id"]
        else:
            if answer_id:
                row = self._run("SELECT id FROM conversations WHERE id = ? AND conversation_id = ?",
                                (answer_id, conversation_id), fetch="one")
            else:
                row = self._run("SELECT id FROM conversations WHERE conversation_id = ? ORDER BY turn DESC LIMIT 1",
                                (conversation_id,), fetch="one")
            if not row:
                raise UnknownConversation(conversation_id, answer_id, answer_id is not None and (
                    bool(self._spooled(conversation_id)[0]) or self.last_turn(conversation_id) > 0))
            target = row[0]
        self._write("feedback", {"uid": str(uuid.uuid4()), "conversation_id": conversation_id, "answer_id": target,
                                 "feedback": value, "timestamp": now()})
        return target

    def _insert_feedback(self, uid: str, conversation_id: str, answer_id: str, feedback: int, timestamp: str) -> None:
        self._run(
            "INSERT INTO feedback (uid, conversation_id, answer_id, feedback, timestamp) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (uid) DO NOTHING",
            (uid, conversation_id, answer_id, feedback, timestamp),
        )

    def feedback_for(self, conversation_id: str) -> list[int]:
        rows = self._run("SELECT feedback FROM feedback WHERE conversation_id = ? ORDER BY id",
                         (conversation_id,), fetch="all")
        return [r[0] for r in rows]

    def count_answers(self) -> int:
        return self._run("SELECT COUNT(*) FROM conversations", fetch="one")[0]

    def count_feedback(self) -> int:
        return self._run("SELECT COUNT(*) FROM feedback", fetch="one")[0]

    # -- the spool ---------------------------------------------------------
    def _write(self, kind: str, data: dict):
        """Into the database; into the spool when the database is down or the spool still holds records.

        Returns what `_apply` returns (an answer's turn), for a spooled answer the turn it was spooled as.
        """
        if self.spool is None:
            return self._apply(kind, data)
        if not self.spool.pending():
            try:
                return self._apply(kind, data)
            except LogStoreUnavailable as exc:
                log.warning("%s; spooling the %s record to %s", exc, kind, self.spool.path)
        try:
            amend = (lambda records: with_next_spooled_turn(data, records)) if kind == "answer" else None
            spooled = self.spool.append(kind, data, amend)
        except OSError as exc:  # e.g. a full disk: the client must not believe the record is kept
            raise LogStoreUnavailable(self._unwritable_spool(exc)) from None
        self._start_replayer()
        return spooled.get("turn")

    def _unwritable_spool(self, exc: OSError) -> str:
        return (f"the log database is unavailable and the spool {self.spool.path} cannot be written "
                f"({exc.strerror or type(exc).__name__})")

    def _apply(self, kind: str, data: dict):
        """One record into the database; idempotent, so a replayed record is written once."""
        self.ensure_schema()
        if kind == "answer":
            return self._insert_answer(AnswerRecord(**data))
        elif kind == "feedback":
            self._insert_feedback(**data)
        elif kind == "relevance":
            self._update_relevance(**data)
        else:
            raise ValueError(f"unknown log record kind {kind!r}")

    def _spooled(self, conversation_id: str) -> tuple[list[dict], list[tuple[str, int]]]:
        """The conversation's answers and (answer id, feedback) pairs still in the spool."""
        if self.spool is None or not self.spool.pending():
            return [], []
        answers, feedback = [], []
        for kind, data in self.spool.records():
            if data.get("conversation_id") != conversation_id:
                continue
            if kind == "answer":
                answers.append(data)
            elif kind == "feedback":
                feedback.append((data["answer_id"], data["feedback"]))
        return answers, feedback

    def write_status(self) -> dict:
        """Where writes go now, for /health: `ok` only while they reach the database.

        The database is probed with a write that changes nothing (a lock held by another writer or a
        read-only file fails it at once); while it refuses writes, or older records still wait for it,
        they go to the spool, and the spool is checked for being writable.
        """
        status = {"status": "ok", "store": self.describe()}
        try:
            self.ensure_schema()
            if time.monotonic() < self._down_until:
                raise LogStoreUnavailable(self._down_reason)
            try:
                self.connections.probe_write("UPDATE schema_migrations SET name = name WHERE version < 0")
            except self.connections.unavailable_errors as exc:
                raise self._unavailable(exc) from exc
            status["schema_version"] = self.schema_version()
        except LogStoreUnavailable as exc:
            status.update(status="unavailable", error=str(exc))
        status["spooled"] = self.spooled()
        if status["status"] == "ok" and not status["spooled"]:
            return status
        if status["status"] == "ok":
            status["status"] = "replaying"  # the database is back; the backlog goes first, new writes behind it
        status["spool"] = self._spool_status()
        if status["spool"]["status"] == "ok":
            status["note"] = "answers and feedback are kept in the local spool and written when the database takes them"
        return status

    def _spool_status(self) -> dict:
        if self.spool is None:
            return {"status": "unavailable", "error": "no spool is configured"}
        try:
            self.spool.check_writable()
        except OSError as exc:
            return {"status": "unavailable", "error": self._unwritable_spool(exc)}
        return {"status": "ok"}

    def spooled(self) -> int:
        """How many records wait in the spool for the database."""
        return self.spool.count() if self.spool is not None and self.spool.pending() else 0

    def replay_spool(self) -> int | None:
        """Write the spooled records to the database now; how many (None: down, or another process replays)."""
        if self.spool is None:
            return 0
        try:
            applied = self.spool.replay(self._apply, LogStoreUnavailable)
        except LogStoreUnavailable as exc:
            log.info("log spool not replayed yet: %s", exc)
            return None
        if applied:
            log.info("replayed %d spooled log records into %s", applied, self.describe())
        return applied

    def _start_replayer(self) -> None:
        with self._thread_lock:
            if self._replayer is None:
                self._replayer = threading.Thread(target=self._replay_until_stopped, name="log-spool-replay",
                                                  daemon=True)
                self._replayer.start()

    def _replay_until_stopped(self) -> None:
        while not self._stop.wait(self.retry_seconds):
            if self.spool.pending():
                try:
                    self.replay_spool()
                except Exception:  # e.g. the instance folder is unwritable: keep the thread, say why
                    log.exception("replaying the log spool failed")

    def close(self) -> None:
        """Stop the replay thread (tests and shutdown); the spool stays on disk for the next start."""
        self._stop.set()
        if self._replayer is not None:
            self._replayer.join(timeout=10)



def with_next_spooled_turn(data: dict, spooled: list[tuple[str, dict]]) -> dict:
    """A spooled answer with its turn, or the next after those of its conversation already in the spool.

    Called under the spool's lock, so concurrent follow-ups spooled by several workers get distinct
    turns, in the order they were spooled (replay keeps them unless the database took one meanwhile).
    """
    taken = [d.get("turn", 0) for kind, d in spooled
             if kind == "answer" and d.get("conversation_id") == data["conversation_id"] and d.get("id") != data["id"]]
    return {**data, "turn": max([data["turn"]] + [t + 1 for t in taken])}
