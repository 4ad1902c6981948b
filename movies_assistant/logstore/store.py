"""Log-store operations, written once for both databases (parameterised SQL only)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .migrations import MIGRATIONS

RELEVANCE_LABELS = ("RELEVANT", "PARTLY_RELEVANT", "NON_RELEVANT", "UNJUDGED")


class LogStoreUnavailable(RuntimeError):
    """The log database cannot be reached."""


class UnknownConversation(LookupError):
    """Feedback or a follow-up named a conversation (or answer) that was never logged."""


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
    """Conversations and feedback. Every database error that means 'down' becomes LogStoreUnavailable."""

    def __init__(self, connections):
        self.connections = connections

    def describe(self) -> str:
        return self.connections.describe()

    def _run(self, query: str, params: tuple = (), fetch: str | None = None):
        try:
            with self.connections.connect() as conn:
                cur = conn.cursor()
                cur.execute(self.connections.sql(query), params)
                if fetch == "one":
                    return cur.fetchone()
                if fetch == "all":
                    return cur.fetchall()
                return cur.rowcount
        except self.connections.unavailable_errors as exc:
            raise LogStoreUnavailable(f"log database {self.describe()} is unavailable: {type(exc).__name__}") from exc

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
            raise LogStoreUnavailable(f"log database {self.describe()} is unavailable: {type(exc).__name__}") from exc
        return applied_now

    def schema_version(self) -> int:
        row = self._run("SELECT MAX(version) FROM schema_migrations", fetch="one")
        return row[0] or 0

    # -- answers ---------------------------------------------------------
    def save_answer(self, r: AnswerRecord) -> None:
        self._run(
            "INSERT INTO conversations (id, conversation_id, turn, question, answer, model_used, response_time, "
            "retrieval_time, prompt_tokens, completion_tokens, total_tokens, relevance, relevance_explanation, "
            "sources, timestamp, cost, time_to_first_token, generation_time, grounding, understanding) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                r.id, r.conversation_id, r.turn, r.question, r.answer, r.model_used, r.response_time,
                r.retrieval_time, r.prompt_tokens, r.completion_tokens, r.total_tokens, r.relevance,
                r.relevance_explanation, json.dumps(r.sources), r.timestamp, r.cost, r.time_to_first_token,
                r.generation_time, json.dumps(r.grounding) if r.grounding else "",
                json.dumps(r.understanding) if r.understanding else "",
            ),
        )

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
        """The last `limit` turns with what follow-ups need (grounding, understanding, feedback), oldest first."""
        rows = self._run(
            "SELECT id, turn, question, answer, sources, grounding, understanding FROM conversations "
            "WHERE conversation_id = ? ORDER BY turn DESC LIMIT ?",
            (conversation_id, limit),
            fetch="all",
        )
        feedback = dict(self._run(
            "SELECT answer_id, MIN(feedback) FROM feedback WHERE conversation_id = ? GROUP BY answer_id",
            (conversation_id,), fetch="all",
        ))
        return [
            {"id": i, "turn": t, "question": q, "answer": a, "sources": json.loads(s),
             "grounding": json.loads(g) if g else {}, "understanding": json.loads(u) if u else {},
             "feedback": feedback.get(i, 0)}
            for i, t, q, a, s, g, u in reversed(rows)
        ]

    def last_turn(self, conversation_id: str) -> int:
        row = self._run("SELECT MAX(turn) FROM conversations WHERE conversation_id = ?", (conversation_id,), fetch="one")
        return row[0] or 0

    def set_relevance(self, answer_id: str, label: str, explanation: str, judge_model: str,
                      prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        if label not in RELEVANCE_LABELS:
            raise ValueError(f"unknown relevance label {label!r}")
        self._run(
            "UPDATE conversations SET relevance = ?, relevance_explanation = ?, judge_model = ?, "
            "eval_prompt_tokens = ?, eval_completion_tokens = ?, eval_total_tokens = ? WHERE id = ?",
            (label, explanation, judge_model, prompt_tokens, completion_tokens,
             prompt_tokens + completion_tokens, answer_id),
        )

    # -- feedback --------------------------------------------------------
    def save_feedback(self, conversation_id: str, value: int, answer_id: str | None = None) -> str:
        """Store +1/-1 for an answer (default: the conversation's latest); returns the answer id."""
        if value not in (1, -1):
            raise ValueError("feedback must be 1 or -1")
        if answer_id:
            row = self._run("SELECT id FROM conversations WHERE id = ? AND conversation_id = ?",
                            (answer_id, conversation_id), fetch="one")
        else:
            row = self._run("SELECT id FROM conversations WHERE conversation_id = ? ORDER BY turn DESC LIMIT 1",
                            (conversation_id,), fetch="one")
        if not row:
            raise UnknownConversation(conversation_id)
        self._run(
            "INSERT INTO feedback (conversation_id, answer_id, feedback, timestamp) VALUES (?, ?, ?, ?)",
            (conversation_id, row[0], value, now()),
        )
        return row[0]

    def feedback_for(self, conversation_id: str) -> list[int]:
        rows = self._run("SELECT feedback FROM feedback WHERE conversation_id = ? ORDER BY id",
                         (conversation_id,), fetch="all")
        return [r[0] for r in rows]

    def count_answers(self) -> int:
        return self._run("SELECT COUNT(*) FROM conversations", fetch="one")[0]
