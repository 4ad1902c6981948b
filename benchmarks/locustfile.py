"""Locust users for benchmarks/load.py: real ground-truth questions, follow-ups and feedback.

Each user asks a question of data/ground-truth-retrieval.csv, sometimes follows up in the same
conversation ("Who directed it?") and sometimes rates the last answer, pausing LOAD_WAIT_MIN to
LOAD_WAIT_MAX seconds between requests. A 503 that carries Retry-After (the local model's queue is
full) is counted as a failure named "busy", so load.py can tell it from real errors; the client gives
up after LOAD_CLIENT_TIMEOUT seconds, which would show as a failure too (a silent timeout).

When locust quits (after every user finished its last request) the numbers are written as JSON to
LOAD_SUMMARY: its CSV files are written earlier, before the stop timeout lets the last requests end.
"""

from __future__ import annotations

import csv
import json
import os
import random
from pathlib import Path

from locust import HttpUser, between, events, task

GROUND_TRUTH = Path(__file__).resolve().parent.parent / "data" / "ground-truth-retrieval.csv"
with open(GROUND_TRUTH, newline="", encoding="utf-8") as f:
    QUESTIONS = [row["question"] for row in csv.DictReader(f)]
BUSY = "busy"
# per outcome, for the summary: seconds to each answer and to each busy 503, and the Retry-After values
OUTCOMES: dict[str, list[float]] = {"answered_s": [], "busy_s": [], "retry_after_s": []}


class MoviesUser(HttpUser):
    wait_time = between(float(os.environ.get("LOAD_WAIT_MIN", "0.5")), float(os.environ.get("LOAD_WAIT_MAX", "1.5")))
    network_timeout = float(os.environ.get("LOAD_CLIENT_TIMEOUT", "120"))
    connection_timeout = 10.0

    def on_start(self):
        self.conversation_id = None
        self.answer_id = None

    def _ask(self, body: dict) -> None:
        with self.client.post("/question", json=body, name="/question", catch_response=True) as response:
            if response.status_code == 200:
                data = response.json()
                self.conversation_id, self.answer_id = data["conversation_id"], data["answer_id"]
                OUTCOMES["answered_s"].append(response.elapsed.total_seconds())
            elif response.status_code == 503 and response.headers.get("Retry-After"):
                response.failure(BUSY)
                OUTCOMES["busy_s"].append(response.elapsed.total_seconds())
                OUTCOMES["retry_after_s"].append(float(response.headers["Retry-After"]))
            elif response.status_code == 0:  # no HTTP answer at all: refused, reset or timed out
                response.failure(f"no response: {response.error}")
            else:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")

    @task(6)
    def ask(self):
        self._ask({"question": random.choice(QUESTIONS)})

    @task(2)
    def follow_up(self):
        if self.conversation_id:
            self._ask({"question": "Who directed it?", "conversation_id": self.conversation_id})

    @task(2)
    def rate(self):
        if self.answer_id:
            self.client.post("/feedback", name="/feedback", json={
                "conversation_id": self.conversation_id, "answer_id": self.answer_id,
                "feedback": random.choice((1, -1))})
            self.answer_id = None  # one rating per answer


@events.quitting.add_listener
def write_summary(environment, **_):
    path = os.environ.get("LOAD_SUMMARY")
    if not path:
        return
    endpoints = {}
    for (name, method), entry in environment.stats.entries.items():
        endpoints[name] = {
            "requests": entry.num_requests, "failures": entry.num_failures, "rps": round(entry.total_rps, 1),
            **{f"p{p}": entry.get_response_time_percentile(p / 100) for p in (50, 95, 99)},
            "max": round(entry.max_response_time or 0, 1),
        }
    failures = {}
    for error in environment.stats.errors.values():
        key = f"{error.name}: {BUSY if BUSY in str(error.error) else error.error}"
        failures[key] = failures.get(key, 0) + error.occurrences
    outcomes = {name: summarize(values) for name, values in OUTCOMES.items()}
    Path(path).write_text(json.dumps({"endpoints": endpoints, "failures": failures, "outcomes": outcomes}, indent=2))


def summarize(values: list[float]) -> dict:
    """n, median, 95th percentile and maximum (nearest rank), rounded."""
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}
    rank = lambda q: ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]  # noqa: E731
    return {"n": len(ordered), "p50": round(rank(0.5), 3), "p95": round(rank(0.95), 3), "max": round(ordered[-1], 3)}
