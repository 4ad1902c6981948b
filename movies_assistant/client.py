"""A small HTTP client for a running Movies Assistant, shared by the root `cli.py` and `test.py`.

Every expected failure (server down, timeout, 4xx/5xx) becomes a `ClientError` whose message can
be shown to the user as is.

With `on_token` set (a callable taking each chunk of text), `ask` streams: it reads the server-sent
events of `/question/stream`, calls `on_token` as the answer arrives, and returns the final `done`
event (the JSON answer, with sources as cards, token counts and timing).

When the server has an API key (its API_KEY setting), the client sends MOVIES_ASSISTANT_API_KEY as
`Authorization: Bearer <key>`; the key is never printed.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import random
from pathlib import Path
from typing import Callable, Iterator

import requests

DEFAULT_URL = "http://localhost:5000"
URL_ENV = "MOVIES_ASSISTANT_URL"
API_KEY_ENV = "MOVIES_ASSISTANT_API_KEY"
GROUND_TRUTH = Path(__file__).resolve().parent.parent / "data" / "ground-truth-retrieval.csv"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 120.0  # a local model can take a while; gunicorn's own timeout is 120 s
MAX_SOURCES_SHOWN = 5


class ClientError(RuntimeError):
    """The API could not be used; the message says why and is meant for the user."""


def default_url() -> str:
    return os.environ.get(URL_ENV) or DEFAULT_URL


class Client:
    def __init__(self, url: str | None = None, timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
                 on_token: Callable[[str], None] | None = None, api_key: str | None = None):
        self.url = (url or default_url()).rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV, "")
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"
        self.on_token = on_token

    def ask(self, question: str, conversation_id: str | None = None) -> dict:
        """The answer; streamed through `on_token` when it is set."""
        body = {"question": question}
        if conversation_id:
            body["conversation_id"] = conversation_id
        if self.on_token is not None:
            return self._ask_streaming(body)
        return self._post("/question", body)

    def _ask_streaming(self, body: dict) -> dict:
        for event, data in self.events("/question/stream", body):
            if event == "token":
                self.on_token(data.get("text", ""))
            elif event == "done":
                return data
            elif event == "error":
                raise ClientError(f"the answer failed: {data.get('error') or 'unknown error'}")
        raise ClientError(f"the stream from {self.url} ended before the answer was complete")

    def events(self, path: str, body: dict) -> Iterator[tuple[str, dict]]:
        """(event name, JSON data) for each server-sent event of a POST, as they arrive."""
        try:
            response = self.session.post(self.url + path, json=body, timeout=self.timeout, stream=True,
                                         headers={"Accept": "text/event-stream"})
        except requests.exceptions.RequestException as exc:
            raise self._connection_error(exc, path) from None
        with response:
            if not response.ok:
                self._raise_for(response)
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            buffer = ""
            try:
                for chunk in response.iter_content(chunk_size=None):
                    buffer += decoder.decode(chunk).replace("\r\n", "\n")
                    while "\n\n" in buffer:
                        raw, buffer = buffer.split("\n\n", 1)
                        event = parse_event(raw)
                        if event is not None:
                            yield event
            except requests.exceptions.RequestException as exc:
                raise self._connection_error(exc, path) from None

    def feedback(self, conversation_id: str, value: int, answer_id: str | None = None) -> dict:
        body = {"conversation_id": conversation_id, "feedback": value}
        if answer_id:
            body["answer_id"] = answer_id
        return self._post("/feedback", body)

    def _connection_error(self, exc: Exception, path: str) -> ClientError:
        if isinstance(exc, (requests.exceptions.Timeout, requests.exceptions.ReadTimeout)) or \
                "timed out" in str(exc).lower():
            return ClientError(f"the Movies Assistant at {self.url} did not answer within {self.timeout[1]:.0f} s")
        if isinstance(exc, requests.exceptions.ConnectionError):
            return ClientError(f"cannot reach the Movies Assistant at {self.url}; start it with `make run`")
        return ClientError(f"request to {self.url}{path} failed: {exc}")

    @staticmethod
    def _raise_for(response) -> None:
        try:
            data = response.json()
        except ValueError:
            data = None
        message = data.get("error") if isinstance(data, dict) else None
        if response.status_code == 401:
            raise ClientError(f"the server at {response.url.split('?')[0]} needs an API key: set {API_KEY_ENV} "
                              "to the server's API_KEY")
        raise ClientError(f"the server answered HTTP {response.status_code}: {message or response.reason}")

    def _post(self, path: str, body: dict) -> dict:
        try:
            response = self.session.post(self.url + path, json=body, timeout=self.timeout)
        except requests.exceptions.RequestException as exc:
            raise self._connection_error(exc, path) from None
        if not response.ok:
            self._raise_for(response)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ClientError(f"unexpected (non-JSON) response from {self.url}{path}")
        return data


def parse_event(raw: str) -> tuple[str, dict] | None:
    """One server-sent event block -> (name, JSON data); None for comments and empty blocks."""
    name, data = "message", []
    for line in raw.split("\n"):
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if not data:
        return None
    try:
        return name, json.loads("\n".join(data))
    except json.JSONDecodeError:
        raise ClientError(f"unreadable event from the server: {raw[:200]!r}") from None


def ground_truth_questions(path: Path = GROUND_TRUTH, types: tuple[str, ...] | None = None) -> list[str]:
    """The questions of a ground-truth CSV; with `types`, only rows of those types (its `type` column)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return [row["question"] for row in csv.DictReader(f)
                    if row.get("question") and (types is None or row.get("type") in types)]
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
        details = []
        if s.get("genres"):
            details.append("/".join(s["genres"][:3]))
        if s.get("vote_count"):
            details.append(f"{s.get('vote_average', 0):.1f}/10")
        lines.append(f"  - {s.get('title', '?')}{year}" + (f"  [{', '.join(details)}]" if details else ""))
    if len(sources) > limit:
        lines.append(f"  (and {len(sources) - limit} more)")
    return "\n".join(lines)


def format_answer(answer: dict) -> str:
    return f"{answer.get('answer', '(no answer)')}\n\n{format_sources(answer.get('sources') or [])}"
