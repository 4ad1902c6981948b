"""The monitoring numbers behind `GET /dashboard`, one query layer for SQLite and PostgreSQL.

The SQL here is portable (comparisons, COUNT, CASE, ORDER BY, LIMIT; no date functions) and runs
through the log store's connections, so nothing is written twice per database. What SQL cannot do
portably, time buckets and percentiles, is computed in Python over the rows of the range: at most
`MAX_ROWS` of them, the most recent (`truncated` says when more matched).

Timestamps are compared as ISO 8601 UTC strings with microseconds, which is how the log store
writes them (`store.now()`): SQLite, which stores that text, compares it as text, and PostgreSQL
casts it to TIMESTAMPTZ.

The numbers are the Grafana dashboard's (grafana/dashboards/movies-assistant.json): the range is
inclusive at both ends (as `$__timeFilter`), buckets are aligned on the Unix epoch (as
`$__timeGroup`), percentiles are interpolated linearly (as PostgreSQL's `percentile_cont`), an
answer's generation time is `generation_time`, or `response_time - retrieval_time` for answers
logged before that column existed, and time to first token counts only answers that measured it
(> 0). tests/test_grafana.py checks that both give the same values on the same rows.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .store import RELEVANCE_LABELS, LogStore

MAX_ROWS = 50_000
MAX_BUCKETS = 60
# Bucket widths in seconds; the smallest giving at most MAX_BUCKETS buckets is used.
BUCKET_STEPS = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2592000)
LAST_ANSWERS = 5

_RELATIVE = re.compile(r"^now(?:\s*-\s*(\d+)\s*([smhdw]))?$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def iso(moment: datetime) -> str:
    """The form the log store writes timestamps in: UTC, microseconds, explicit offset."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def parse_time(value: str, now: datetime) -> datetime:
    """`now`, `now-15m` (s, m, h, d, w), Unix epoch milliseconds, or ISO 8601 (no offset means UTC)."""
    text = value.strip()
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = relative.groups()
        return now - timedelta(seconds=int(amount or 0) * _UNITS.get(unit or "s", 1))
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, timezone.utc)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a time: use now, now-15m, now-24h, now-7d, epoch milliseconds or ISO 8601"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime

    @classmethod
    def parse(cls, start: str | None, end: str | None, now: datetime | None = None,
              default_start: str = "now-24h") -> TimeRange:
        now = now or datetime.now(timezone.utc)
        rng = cls(parse_time(start or default_start, now), parse_time(end or "now", now))
        if rng.start >= rng.end:
            raise ValueError("the range must start before it ends")
        return rng

    @property
    def params(self) -> tuple[str, str]:
        return iso(self.start), iso(self.end)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def bucket_width(seconds: float) -> int:
    for step in BUCKET_STEPS:
        if seconds / step <= MAX_BUCKETS:
            return step
    return BUCKET_STEPS[-1]


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _moment(value) -> datetime:
    """A timestamp column value: datetime from PostgreSQL, ISO text from SQLite."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def generation_seconds(generation_time: float, response_time: float, retrieval_time: float) -> float:
    return generation_time if generation_time > 0 else max(response_time - retrieval_time, 0.0)


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


ANSWER_COLUMNS = (
    "timestamp, conversation_id, model_used, relevance, response_time, retrieval_time, generation_time, "
    "time_to_first_token, prompt_tokens, completion_tokens, total_tokens, cost, "
    "CASE WHEN sources = '[]' THEN 1 ELSE 0 END"
)


def dashboard_metrics(log: LogStore, rng: TimeRange, bucket_seconds: int | None = None,
                      max_rows: int = MAX_ROWS) -> dict:
    """Every number of the built-in dashboard for answers and feedback logged in `rng`."""
    frm, to = rng.params
    rows = log._run(
        f"SELECT {ANSWER_COLUMNS} FROM conversations WHERE timestamp BETWEEN ? AND ? "
        "ORDER BY timestamp DESC LIMIT ?", (frm, to, max_rows), fetch="all")
    total = len(rows)
    if total == max_rows:
        total = log._run("SELECT COUNT(*) FROM conversations WHERE timestamp BETWEEN ? AND ?",
                         (frm, to), fetch="one")[0]
    votes = log._run("SELECT timestamp, feedback FROM feedback WHERE timestamp BETWEEN ? AND ? "
                     "ORDER BY timestamp DESC LIMIT ?", (frm, to, max_rows), fetch="all")
    last = log._run(
        "SELECT id, conversation_id, timestamp, question, answer, relevance, model_used, response_time "
        "FROM conversations WHERE timestamp BETWEEN ? AND ? ORDER BY timestamp DESC LIMIT ?",
        (frm, to, LAST_ANSWERS), fetch="all")

    step = int(bucket_seconds or bucket_width(rng.seconds))
    first = math.floor(rng.start.timestamp() / step) * step
    count = (math.floor(rng.end.timestamp() / step) * step - first) // step + 1
    times = [first + i * step for i in range(count)]
    buckets: list[dict] = [
        {"answers": 0, "prompt": 0, "completion": 0, "total": 0, "cost": 0.0, "no_sources": 0, "up": 0, "down": 0,
         "response": [], "retrieval": [], "generation": [], "ttft": []}
        for _ in times
    ]

    def bucket(moment: datetime) -> dict:
        index = int(math.floor(moment.timestamp() / step) * step - first) // step
        return buckets[min(max(index, 0), count - 1)]

    conversations, models, relevance_by_model = set(), {}, {}
    relevance = dict.fromkeys(RELEVANCE_LABELS, 0)
    response, retrieval, generation, ttft = [], [], [], []
    prompt = completion = tokens = no_sources = 0
    cost = 0.0
    for (ts, conversation_id, model, label, resp, retr, gen, first_token, p_tok, c_tok, t_tok, price,
         missed) in rows:
        b = bucket(_moment(ts))
        gen = generation_seconds(gen, resp, retr)
        b["answers"] += 1
        b["prompt"] += p_tok
        b["completion"] += c_tok
        b["total"] += t_tok
        b["cost"] += price
        b["no_sources"] += missed
        b["response"].append(resp)
        b["retrieval"].append(retr)
        b["generation"].append(gen)
        conversations.add(conversation_id)
        models[model] = models.get(model, 0) + 1
        per_model = relevance_by_model.setdefault(model, dict.fromkeys(RELEVANCE_LABELS, 0))
        per_model[label] = per_model.get(label, 0) + 1
        relevance[label] = relevance.get(label, 0) + 1
        response.append(resp)
        retrieval.append(retr)
        generation.append(gen)
        if first_token > 0:
            b["ttft"].append(first_token)
            ttft.append(first_token)
        prompt, completion, tokens = prompt + p_tok, completion + c_tok, tokens + t_tok
        cost += price
        no_sources += missed
    up = down = 0
    for ts, value in votes:
        b = bucket(_moment(ts))
        if value > 0:
            b["up"] += 1
            up += 1
        else:
            b["down"] += 1
            down += 1

    minutes = rng.seconds / 60
    step_minutes = step / 60
    answered = len(rows)
    return {
        "range": {"from": frm, "to": to, "bucket_seconds": step},
        "store": log.connections.name,
        "truncated": total > answered,
        "summary": {
            "answers": total,
            "conversations": len(conversations),
            "requests_per_minute": total / minutes,
            "response_time_avg": _mean(response),
            "response_time_p50": percentile(response, 0.5),
            "response_time_p95": percentile(response, 0.95),
            "retrieval_p50": percentile(retrieval, 0.5),
            "retrieval_p95": percentile(retrieval, 0.95),
            "generation_p50": percentile(generation, 0.5),
            "generation_p95": percentile(generation, 0.95),
            "ttft_p50": percentile(ttft, 0.5),
            "ttft_p95": percentile(ttft, 0.95),
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": tokens,
            "cost": cost,
            "no_sources": no_sources,
            "no_sources_rate": _ratio(no_sources, answered),
            "feedback_up": up,
            "feedback_down": down,
            "feedback_ratio": _ratio(up, up + down),
        },
        "last_answers": [
            {"answer_id": a_id, "conversation_id": c_id, "timestamp": iso(_moment(ts)), "question": q,
             "answer": a, "relevance": label, "model_used": model, "response_time": resp}
            for a_id, c_id, ts, q, a, label, model, resp in last
        ],
        "feedback": {"up": up, "down": down},
        "relevance": relevance,
        "models": [{"model": m, "answers": n} for m, n in sorted(models.items(), key=lambda kv: (-kv[1], kv[0]))],
        "relevance_by_model": [{"model": m, **labels} for m, labels in sorted(relevance_by_model.items())],
        "series": {
            "time": times,
            "answers": [b["answers"] for b in buckets],
            "requests_per_minute": [b["answers"] / step_minutes for b in buckets],
            "prompt_tokens": [b["prompt"] for b in buckets],
            "completion_tokens": [b["completion"] for b in buckets],
            "total_tokens": [b["total"] for b in buckets],
            "cost": [b["cost"] for b in buckets],
            "response_time_avg": [_mean(b["response"]) for b in buckets],
            "response_time_p95": [percentile(b["response"], 0.95) for b in buckets],
            "retrieval_p50": [percentile(b["retrieval"], 0.5) for b in buckets],
            "retrieval_p95": [percentile(b["retrieval"], 0.95) for b in buckets],
            "generation_p50": [percentile(b["generation"], 0.5) for b in buckets],
            "generation_p95": [percentile(b["generation"], 0.95) for b in buckets],
            "ttft_p50": [percentile(b["ttft"], 0.5) for b in buckets],
            "ttft_p95": [percentile(b["ttft"], 0.95) for b in buckets],
            "no_sources": [b["no_sources"] for b in buckets],
            "no_sources_rate": [_ratio(b["no_sources"], b["answers"]) for b in buckets],
            "feedback_up": [b["up"] for b in buckets],
            "feedback_down": [b["down"] for b in buckets],
            "feedback_ratio": [_ratio(b["up"], b["up"] + b["down"]) for b in buckets],
        },
    }
