"""Streaming answers over a real HTTP connection to a running server (werkzeug, in a thread).

The wire format is read with `http.client`, line by line, so what is checked is what a browser or
curl receives: `start`, then `token` events as the model produces them, then `done` (see api.py).
A gated test provider proves that tokens leave the server before the answer is finished.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import threading
import time
from urllib.parse import urlsplit

import pytest

from movies_assistant.app import create_app
from movies_assistant.client import Client
from movies_assistant.llm import Completion, ModelUnavailable, Stream, collect

from .conftest import serving


class GatedProvider:
    """Streams its first chunk, then waits for `gate` before the rest; records when it was closed."""

    name = "gated"

    def __init__(self, chunks: list[str], fail_after_first: bool = False, delay: float = 0.0):
        self.chunks, self.fail_after_first, self.delay = chunks, fail_after_first, delay
        self.gate = threading.Event()
        self.closed = threading.Event()
        self.finished = threading.Event()

    def status(self) -> str:
        return "ready"

    def generate(self, request):
        return collect(self.stream(request))

    def stream(self, request) -> Stream:
        return Stream(self._stream())

    def _stream(self):
        try:
            yield self.chunks[0]
            if not self.gate.wait(20):
                raise ModelUnavailable("the test never opened the gate")
            if self.fail_after_first:
                raise ModelUnavailable("the model server went away in the middle of the answer")
            for chunk in self.chunks[1:]:
                time.sleep(self.delay)
                yield chunk
        except GeneratorExit:
            self.closed.set()
            raise
        self.finished.set()
        return Completion("".join(self.chunks).strip(), self.name, prompt_tokens=11, completion_tokens=len(self.chunks))


@pytest.fixture
def log(app):
    return app.extensions["movies_assistant"].log


def use_provider(app, provider) -> None:
    """Swap the app's model before its first use (Services builds the assistant lazily)."""
    app.extensions["movies_assistant"].provider = provider


class EventReader:
    """POSTs a question and reads the server-sent events off the socket one at a time."""

    def __init__(self, url: str, body: dict, path: str = "/question/stream", accept: str = "text/event-stream"):
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.conn.request("POST", path, body=json.dumps(body),
                          headers={"Content-Type": "application/json", "Accept": accept})
        self.response = self.conn.getresponse()

    def next(self) -> tuple[str, dict] | None:
        name, data = None, []
        while True:
            line = self.response.fp.readline()
            if not line:
                return None
            line = line.decode("utf-8").rstrip("\r\n")
            if not line:
                if data:
                    return name, json.loads("\n".join(data))
                continue
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data.append(line[len("data: "):])

    def all(self) -> list[tuple[str, dict]]:
        events = []
        while (event := self.next()) is not None:
            events.append(event)
        return events

    def close(self) -> None:
        self.conn.close()


def test_stream_protocol_over_http(server, log):
    reader = EventReader(server, {"question": "Who directed Star Wars?"})
    assert reader.response.status == 200
    assert reader.response.getheader("Content-Type").startswith("text/event-stream")
    assert reader.response.getheader("Cache-Control") == "no-cache"
    events = reader.all()
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done"
    assert names.count("token") >= 2 and set(names[1:-1]) == {"token"}
    start, done = events[0][1], events[-1][1]
    tokens = "".join(data["text"] for name, data in events if name == "token")

    assert start["conversation_id"] == done["conversation_id"] and start["answer_id"] == done["answer_id"]
    star_wars = start["sources"][0]
    assert {"id": 11, "title": "Star Wars", "year": 1977}.items() <= star_wars.items()
    assert "Science Fiction" in star_wars["genres"] and star_wars["vote_average"] > 7 and star_wars["vote_count"] > 1000
    assert tokens == done["answer"] and "George Lucas" in tokens
    # tokens stay text; the finished answer also comes rendered, its film linked to its card
    assert done["answer_html"].startswith(f'<p><a href="#film-{done["answer_id"]}-11" class="film-link"')
    assert "George Lucas" in done["answer_html"] and "answer_html" not in start
    assert done["sources"] == start["sources"] and done["model"] == "composer" and done["turn"] == 1
    assert done["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    assert done["cost"] == 0 and done["grounding"]["grounded"] is True
    timing = done["timing"]
    assert 0 < timing["time_to_first_token"] <= timing["response_time"]
    assert timing["retrieval_time"] <= timing["time_to_first_token"]

    row = log.answer_details(done["answer_id"])
    assert row["answer"] == done["answer"] and row["model_used"] == "composer"
    assert row["time_to_first_token"] == pytest.approx(timing["time_to_first_token"], abs=1e-3)
    assert row["generation_time"] > 0 and row["cost"] == 0
    assert row["sources"][0] == {"id": 11, "title": "Star Wars", "year": 1977}  # the log keeps id, title, year


def test_accept_header_chooses_the_stream_on_the_question_endpoint(server):
    reader = EventReader(server, {"question": "Who directed Star Wars?"}, path="/question")
    names = [name for name, _ in reader.all()]
    assert names[0] == "start" and names[-1] == "done"
    reader = EventReader(server, {"question": "Who directed Star Wars?"}, path="/question", accept="*/*")
    assert reader.response.getheader("Content-Type") == "application/json"
    assert "George Lucas" in json.loads(reader.response.read())["answer"]


def test_tokens_leave_the_server_before_the_answer_is_finished(app, log):
    provider = GatedProvider(["Star Wars (1977) ", "was directed ", "by George Lucas."])
    use_provider(app, provider)
    with serving(app) as url:
        reader = EventReader(url, {"question": "Who directed Star Wars?"})
        assert reader.next()[0] == "start"
        name, data = reader.next()
        # the model is still blocked on its gate: this token was sent while the answer was unfinished
        assert (name, data) == ("token", {"text": "Star Wars (1977) "})
        assert not provider.gate.is_set() and log.count_answers() == 0
        time.sleep(0.3)  # the model "thinks" before its second chunk
        provider.gate.set()
        rest = reader.all()
        assert [n for n, _ in rest] == ["token", "token", "done"]
        done = rest[-1][1]
        assert done["answer"] == "Star Wars (1977) was directed by George Lucas."
        assert done["model"] == "gated" and done["usage"]["prompt_tokens"] == 11
        assert done["timing"]["time_to_first_token"] < 0.3 <= done["timing"]["generation_time"]


def test_follow_up_over_the_stream(server, log):
    first = EventReader(server, {"question": "Tell me about Finding Nemo"}).all()[-1][1]
    events = EventReader(server, {"question": "Who directed it?", "conversation_id": first["conversation_id"]}).all()
    start, done = events[0][1], events[-1][1]
    assert start["turn"] == done["turn"] == 2 and done["conversation_id"] == first["conversation_id"]
    assert start["understanding"]["subject"] == "Finding Nemo (2003)"
    assert "Andrew Stanton" in done["answer"]
    assert [t["turn"] for t in log.turns(first["conversation_id"])] == [1, 2]


@pytest.mark.parametrize("body, status, message", [
    ({"question": "Who directed it?", "conversation_id": "00000000-0000-0000-0000-000000000000"}, 404,
     "unknown conversation_id"),
    ({"question": ""}, 400, "question must be"),
    ({"question": "hi", "extra": 1}, 400, "unknown field"),
])
def test_errors_before_the_first_token_are_plain_json(server, body, status, message):
    reader = EventReader(server, body)
    assert reader.response.status == status
    assert reader.response.getheader("Content-Type") == "application/json"
    assert message in json.loads(reader.response.read())["error"]


def test_model_failure_mid_stream_is_an_error_event(app, log):
    provider = GatedProvider(["Star Wars (1977) ", "never sent"], fail_after_first=True)
    provider.gate.set()
    use_provider(app, provider)
    with serving(app) as url:
        events = EventReader(url, {"question": "Who directed Star Wars?"}).all()
    assert [n for n, _ in events] == ["start", "token", "error"]
    assert events[-1][1] == {"error": "the model server went away in the middle of the answer", "status": 503}
    assert log.count_answers() == 0  # a failed answer is not logged as one


def test_a_client_that_hangs_up_stops_the_model_and_the_partial_answer_is_logged(app, log):
    provider = GatedProvider(["Star Wars (1977) "] + [f"word{i} " for i in range(200)], delay=0.01)
    use_provider(app, provider)
    with serving(app) as url:
        reader = EventReader(url, {"question": "Who directed Star Wars?"})
        start = reader.next()[1]
        assert reader.next()[0] == "token"
        reader.response.close()
        reader.close()
        provider.gate.set()
        assert provider.closed.wait(10), "the model kept generating for nobody"
        assert not provider.finished.is_set()
        deadline = time.monotonic() + 5
        while log.answer_details(start["answer_id"]) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    row = log.answer_details(start["answer_id"])
    assert row is not None and row["grounding"] == {"interrupted": True}
    assert row["answer"].startswith("Star Wars (1977)") and row["time_to_first_token"] > 0


def test_client_streams_tokens_and_keeps_the_conversation(server):
    tokens: list[str] = []
    client = Client(server, on_token=tokens.append)
    first = client.ask("Who starred in Alien?")
    assert len(tokens) >= 2 and "".join(tokens) == first["answer"]
    second = client.ask("What else has she been in?", first["conversation_id"])
    assert second["conversation_id"] == first["conversation_id"]
    assert second["understanding"]["person"] == "Sigourney Weaver"
    assert {"genres", "vote_average"} <= set(second["sources"][0])


# -- the real local model ----------------------------------------------------------------------------
def test_local_model_streams_over_http(smollm2, settings):
    app = create_app(dataclasses.replace(settings, llm_provider="local", llm_max_tokens=24, top_k=2))
    with serving(app) as url:
        events = EventReader(url, {"question": "Who directed Star Wars?"}).all()
    names = [n for n, _ in events]
    assert names[0] == "start" and names[-1] == "done" and names.count("token") >= 2
    done = events[-1][1]
    assert done["model"] == f"local:{smollm2.name}"
    assert done["answer"].strip() and done["usage"]["prompt_tokens"] > 50
    assert 0 < done["usage"]["completion_tokens"] <= 24
    assert 0 < done["timing"]["time_to_first_token"] < done["timing"]["response_time"]
    row = app.extensions["movies_assistant"].log.answer_details(done["answer_id"])
    assert (row["prompt_tokens"], row["completion_tokens"]) == (done["usage"]["prompt_tokens"],
                                                                done["usage"]["completion_tokens"])
    assert row["cost"] == 0 and row["time_to_first_token"] > 0 and "grounded" in row["grounding"]


def test_provider_tokens_are_relayed_as_they_arrive(settings):
    """HF InferenceClient (stream=True) -> our SSE -> the client: two chunks, then the model server hangs."""
    from .test_providers import FakeChatServer

    fake = FakeChatServer()
    fake.replies = [{"chunks": ["Star Wars (1977) ", "was directed ", "by George Lucas."], "hang_after": 2}]
    app = create_app(dataclasses.replace(settings, llm_provider="huggingface", llm_model="fake-model",
                                         llm_base_url=fake.url, llm_timeout=2.0))
    try:
        with serving(app) as url:
            started = time.monotonic()
            reader = EventReader(url, {"question": "Who directed Star Wars?"})
            assert reader.next()[0] == "start"
            assert reader.next() == ("token", {"text": "Star Wars (1977) "})
            assert reader.next() == ("token", {"text": "was directed "})
            assert time.monotonic() - started < 1.5  # delivered while the model server was still silent
            name, data = reader.next()
            assert name == "error" and data["status"] == 503 and "did not answer within 2 s" in data["error"]
            assert time.monotonic() - started < 6
            assert reader.next() is None
    finally:
        fake.close()
    assert fake.requests[0]["json"]["stream"] is True
