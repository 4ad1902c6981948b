"""A small HTTP client for a running Movies Assistant, shared by the root `cli.py` and `test.py`.

Every expected failure (server down, timeout, 4xx/5xx) becomes a `ClientError` whose message can
be shown to the user as is.
"""

from __future__ import annotations

import csv
import os
import random
from pathlib import Path

import requests

DEFAULT_URL = "http://localhost:5000"
URL_ENV = "MOVIES_ASSISTANT_URL"
GROUND_TRUTH = Path(__file__).resolve().parent.parent / "data" / "ground-truth-retrieval.csv"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 120.0  # a local model can take a while; gunicorn's own timeout is 120 s
MAX_SOURCES_SHOWN = 5


class ClientError(RuntimeError):
    """The API could not be used; the message says why and is meant for the user."""


def default_url() -> str:
    return os.environ.get(URL_ENV) or DEFAULT_URL


class Client:
    def __init__(self, url: str | None = None, timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)):
        self.url = (url or default_url()).rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def ask(self, question: str, conversation_id: str | None = None) -> dict:
        body = {"question": question}
        if conversation_id:
            body["conversation_id"] = conversation_id
        return self._post("/question", body)

    def feedback(self, conversation_id: str, value: int, answer_id: str | None = None) -> dict:
        body = {"conversation_id": conversation_id, "feedback": value}
        if answer_id:
            body["answer_id"] = answer_id
        return self._post("/feedback", body)

    def _post(self, path: str, body: dict) -> dict:
        try:
            response = self.session.post(self.url + path, json=body, timeout=self.timeout)
        except requests.exceptions.Timeout:
            raise ClientError(f"the Movies Assistant at {self.url} did not answer within {self.timeout[1]:.0f} s") from None
        except requests.exceptions.ConnectionError:
            raise ClientError(f"cannot reach the Movies Assistant at {self.url}; start it with `make run`") from None
        except requests.exceptions.RequestException as exc:
            raise ClientError(f"request to {self.url}{path} failed: {exc}") from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if not response.ok:
            message = data.get("error") if isinstance(data, dict) else None
            raise ClientError(f"the server answered HTTP {response.status_code}: {message or response.reason}")
        if not isinstance(data, dict):
            raise ClientError(f"unexpected (non-JSON) response from {self.url}{path}")
        return data


def ground_truth_questions(path: Path = GROUND_TRUTH) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return [row["question"] for row in csv.DictReader(f) if row.get("question")]
    except (OSError, KeyError, csv.Error) as exc:
        raise ClientError(f"cannot read questions from {path}: {exc}") from None


def random_question(path: Path = GROUND_TRUTH) -> str:
    questions = ground_truth_questions(path)
    if not questions:
        raise ClientError(f"no questions in {path}")
    return random.choice(questions)


def format_sources(sources: list[dict], limit: int = MAX_SOURCES_SHOWN) -> str:
    if not sources:
        return "Sources: none"
    lines = ["Sources:"]
    for s in sources[:limit]:
        year = f" ({s['year']})" if s.get("year") else ""
        lines.append(f"  - {s.get('title', '?')}{year}")
    if len(sources) > limit:
        lines.append(f"  (and {len(sources) - limit} more)")
    return "\n".join(lines)


def format_answer(answer: dict) -> str:
    return f"{answer.get('answer', '(no answer)')}\n\n{format_sources(answer.get('sources') or [])}"
