"""Known conversations and feedback for the monitoring tests, and the numbers they must produce.

`seed(log, base)` writes them through the real LogStore (save_answer, set_relevance, save_feedback) at
minutes relative to `base`: seven answers in [base, base + 60 min] and two outside it (one before,
one after), so every panel's time filter is exercised. Feedback gets its time from the store's
clock, which is set to the wanted moment while it is saved.

EXPECTED holds the values for the range [base, base + 60 min] with 10-minute buckets, worked out by
hand (percentiles interpolate linearly between closest ranks, as PostgreSQL's percentile_cont).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta, timezone
from unittest import mock

from movies_assistant.logstore import AnswerRecord, LogStore
from movies_assistant.logstore import store as store_module

BASE = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)  # on a 10-minute boundary of the epoch
BUCKET = 600
QWEN = "qwen2.5-7b-instruct"

# name, minute, conversation, turn, question, model, response, retrieval, generation, ttft,
# prompt tokens, completion tokens, cost (USD), relevance, number of sources
ANSWERS = [
    ("a1", 1, "A", 1, "Who directed Alien?", "composer", 0.10, 0.02, 0.08, 0.0, 0, 0, 0.0, "UNJUDGED", 3),
    ("a2", 3, "A", 2, "And who wrote it?", "composer", 0.20, 0.05, 0.15, 0.0, 0, 0, 0.0, "UNJUDGED", 0),
    ("a3", 12, "B", 1, "Recommend French comedies from the 90s", QWEN, 1.5, 0.1, 1.4, 0.3, 100, 50, 0.002, "RELEVANT", 10),
    ("a4", 15, "B", 2, "Which of them is the funniest?", QWEN, 2.5, 0.2, 2.3, 0.5, 120, 80, 0.003, "PARTLY_RELEVANT", 10),
    ("a5", 18, "B", 3, "Compare Alien and Aliens", QWEN, 3.0, 0.3, 2.7, 0.6, 200, 100, 0.004, "NON_RELEVANT", 2),
    # logged before generation_time existed (0): its generation time is response - retrieval = 0.2
    ("a6", 35, "C", 1, "Movies about a haunted lighthouse", "composer", 0.3, 0.1, 0.0, 0.0, 0, 0, 0.0, "UNJUDGED", 0),
    ("a7", 52, "D", 1, "What is Heat (1995) about?", QWEN, 1.0, 0.1, 0.9, 0.2, 50, 50, 0.001, "RELEVANT", 4),
    # outside the range
    ("a8", -30, "E", 1, "Before Sunrise actors", QWEN, 9.9, 9.0, 0.9, 5.0, 999, 999, 0.5, "RELEVANT", 0),
    ("a9", 90, "F", 1, "Films by Agnès Varda", QWEN, 8.8, 8.0, 0.8, 4.0, 888, 888, 0.4, "NON_RELEVANT", 0),
]
# answer, minute, value
FEEDBACK = [("a1", 2, 1), ("a3", 13, 1), ("a4", 16, -1), ("a5", 19, -1), ("a7", 53, 1), ("a8", -29, -1)]
NEW_COLUMNS = ("cost", "time_to_first_token", "generation_time")


def at(base: datetime, minute: float) -> datetime:
    return base + timedelta(minutes=minute)


def ts(base: datetime, minute: float) -> str:
    return at(base, minute).astimezone(timezone.utc).isoformat(timespec="microseconds")


def seed(log: LogStore, base: datetime = BASE) -> dict[str, dict]:
    """Writes ANSWERS and FEEDBACK; returns each answer's id, conversation id and values by name."""
    record_fields = {f.name for f in dataclasses.fields(AnswerRecord)}
    conversations = {c: str(uuid.uuid5(uuid.NAMESPACE_URL, f"movies-assistant-test/{c}/{base.isoformat()}"))
                     for c in "ABCDEF"}
    seeded = {}
    for (name, minute, conv, turn, question, model, response, retrieval, generation, ttft, p_tok, c_tok, cost,
         relevance, n_sources) in ANSWERS:
        answer_id = f"{name}-{base.timestamp():.0f}"
        extra = {"cost": cost, "time_to_first_token": ttft, "generation_time": generation}
        record = AnswerRecord(
            id=answer_id, conversation_id=conversations[conv], turn=turn, question=question,
            answer=f"Answer to: {question}", model_used=model, response_time=response, retrieval_time=retrieval,
            prompt_tokens=p_tok, completion_tokens=c_tok, timestamp=ts(base, minute),
            sources=[{"id": 1000 + i, "title": f"Movie {i}", "year": 1990 + i} for i in range(n_sources)],
            **{k: v for k, v in extra.items() if k in record_fields},
        )
        log.save_answer(record)
        if relevance != "UNJUDGED":
            log.set_relevance(answer_id, relevance, "seeded", "judge-model")
        missing = {k: v for k, v in extra.items() if k not in record_fields}
        if missing:  # the record has no such field (yet): set the columns directly
            assignments = ", ".join(f"{k} = ?" for k in missing)
            log._run(f"UPDATE conversations SET {assignments} WHERE id = ?", (*missing.values(), answer_id))
        seeded[name] = {"id": answer_id, "conversation_id": conversations[conv], "question": question,
                        "timestamp": at(base, minute), "response_time": response, "model": model,
                        "relevance": relevance}
    for name, minute, value in FEEDBACK:
        with mock.patch.object(store_module, "now", lambda m=minute: ts(base, m)):
            log.save_feedback(seeded[name]["conversation_id"], value, seeded[name]["id"])
    return seeded


def epoch(minute: float, base: datetime = BASE) -> int:
    return int(at(base, minute).timestamp())


# -- expected values for [BASE, BASE + 60 min], 10-minute buckets ---------------------------------------

IN_RANGE = ["a1", "a2", "a3", "a4", "a5", "a6", "a7"]
LAST_FIVE = ["a7", "a6", "a5", "a4", "a3"]
# every bucket of the range, as the built-in dashboard lists them (empty ones included)
BUCKETS = [0, 10, 20, 30, 40, 50, 60]
NONE = None

EXPECTED = {
    "summary": {
        "answers": 7, "conversations": 4, "requests_per_minute": 7 / 60,
        "response_time_avg": 8.6 / 7, "response_time_p50": 1.0, "response_time_p95": 2.85,
        "retrieval_p50": 0.1, "retrieval_p95": 0.27,
        "generation_p50": 0.9, "generation_p95": 2.58,
        "ttft_p50": 0.4, "ttft_p95": 0.585,
        "prompt_tokens": 470, "completion_tokens": 280, "total_tokens": 750, "cost": 0.010,
        "no_sources": 2, "no_sources_rate": 2 / 7,
        "feedback_up": 3, "feedback_down": 2, "feedback_ratio": 0.6,
    },
    "feedback": {"up": 3, "down": 2},
    "relevance": {"RELEVANT": 2, "PARTLY_RELEVANT": 1, "NON_RELEVANT": 1, "UNJUDGED": 3},
    "models": [{"model": QWEN, "answers": 4}, {"model": "composer", "answers": 3}],
    "relevance_by_model": [
        {"model": "composer", "RELEVANT": 0, "PARTLY_RELEVANT": 0, "NON_RELEVANT": 0, "UNJUDGED": 3},
        {"model": QWEN, "RELEVANT": 2, "PARTLY_RELEVANT": 1, "NON_RELEVANT": 1, "UNJUDGED": 0},
    ],
    "series": {
        "answers": [2, 3, 0, 1, 0, 1, 0],
        "requests_per_minute": [0.2, 0.3, 0, 0.1, 0, 0.1, 0],
        "prompt_tokens": [0, 420, 0, 0, 0, 50, 0],
        "completion_tokens": [0, 230, 0, 0, 0, 50, 0],
        "total_tokens": [0, 650, 0, 0, 0, 100, 0],
        "cost": [0, 0.009, 0, 0, 0, 0.001, 0],
        "response_time_avg": [0.15, 7.0 / 3, NONE, 0.3, NONE, 1.0, NONE],
        "retrieval_p50": [0.035, 0.2, NONE, 0.1, NONE, 0.1, NONE],
        "retrieval_p95": [0.0485, 0.29, NONE, 0.1, NONE, 0.1, NONE],
        "generation_p50": [0.115, 2.3, NONE, 0.2, NONE, 0.9, NONE],
        "generation_p95": [0.1465, 2.66, NONE, 0.2, NONE, 0.9, NONE],
        "ttft_p50": [NONE, 0.5, NONE, NONE, NONE, 0.2, NONE],
        "ttft_p95": [NONE, 0.59, NONE, NONE, NONE, 0.2, NONE],
        "no_sources": [1, 0, 0, 1, 0, 0, 0],
        "no_sources_rate": [0.5, 0.0, NONE, 1.0, NONE, 0.0, NONE],
        "feedback_up": [1, 1, 0, 0, 0, 1, 0],
        "feedback_down": [0, 2, 0, 0, 0, 0, 0],
        "feedback_ratio": [1.0, 1 / 3, NONE, NONE, NONE, 1.0, NONE],
    },
}
