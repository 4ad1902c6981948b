"""Services that stall or go away: bounded 503s with a reason, /health naming the culprit, and recovery.

* Elasticsearch: a real node behind a loopback TCP proxy that the test makes stall (accepts, never
  answers) or reset every connection, then forward again.
* The model: the fake OpenAI-compatible server of test_providers.py hangs, then answers.
* The local model: its queue (LLM_MAX_WAITING, LLM_QUEUE_TIMEOUT), with the real SmolLM2 GGUF.
"""

from __future__ import annotations

import dataclasses
import socket
import struct
import threading
import time
from urllib.parse import urlsplit

import pytest

from movies_assistant.app import create_app
from movies_assistant.llm.local import ModelBusy, Turns

from .test_elastic import sample_alias  # noqa: F401 - a fixture: the sample index in the real Elasticsearch
from .test_providers import FakeChatServer


class FaultyProxy:
    """A loopback TCP proxy in front of a real server: `forward`, `stall` (accept, never answer) or `reset`."""

    def __init__(self, upstream: str):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.scheme = parts.scheme
        self.mode = "forward"
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.url = f"{self.scheme}://127.0.0.1:{self.listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def set(self, mode: str) -> None:
        """Switch mode; connections already open are cut, as when a server dies."""
        self.mode = mode
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            s.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.set("forward")
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            if self.mode == "reset":
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()  # RST: what a client sees from a server that just died
                continue
            with self._lock:
                self._sockets.append(client)
            if self.mode == "stall":
                continue
            upstream = socket.create_connection(self.upstream)
            with self._lock:
                self._sockets.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, target):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def timed(request) -> tuple[float, object]:
    started = time.monotonic()
    response = request()
    return time.monotonic() - started, response


def test_elasticsearch_stalled_or_reset_gives_bounded_503s_and_the_app_recovers(settings, elastic_url,
                                                                                sample_alias):  # noqa: F811
    proxy = FaultyProxy(elastic_url)
    try:
        app = create_app(dataclasses.replace(settings, search_backend="elasticsearch", elastic_url=proxy.url,
                                             index_name=sample_alias, elastic_timeout=1.0))
        client = app.test_client()
        ask = lambda: client.post("/question", json={"question": "Who directed Alien?"})  # noqa: E731
        search = lambda: client.get("/search", query_string={"q": "finding nemo"})  # noqa: E731
        assert ask().status_code == 200 and search().status_code == 200

        for mode in ("stall", "reset"):
            proxy.set(mode)
            for request in (ask, search):
                seconds, r = timed(request)
                assert r.status_code == 503 and r.is_json, (mode, r.get_data(as_text=True))
                assert "Elasticsearch" in r.get_json()["error"]
                assert seconds < 1.0 * 2 + 1, f"{mode}: {seconds:.1f} s"  # ELASTIC_TIMEOUT bounds it
            seconds, health = timed(lambda: client.get("/health"))
            assert health.status_code == 503 and seconds < 3
            assert health.get_json()["index"]["status"] == "unavailable"
            assert health.get_json()["database"]["status"] == "ok"  # it says what is down, and only that

            proxy.set("forward")  # the node is back: no restart, no reconnect by hand
            r = ask()
            assert r.status_code == 200, r.get_data(as_text=True)
            assert "Ridley Scott" in r.get_json()["answer"]
            assert search().get_json()["results"][0]["title"] == "Finding Nemo"
            assert client.get("/health").status_code == 200
    finally:
        proxy.close()


def test_a_hanging_model_server_is_a_bounded_503_and_the_app_recovers(settings):
    fake = FakeChatServer()
    try:
        app = create_app(dataclasses.replace(settings, llm_provider="huggingface", llm_model="fake-model",
                                             llm_base_url=fake.url, llm_timeout=1.0, llm_retries=1))
        client = app.test_client()
        for path in ("/question", "/question/stream"):
            fake.replies = [{"hang": 30}]
            seconds, r = timed(lambda: client.post(path, json={"question": "Who directed Alien?"}))
            assert r.status_code == 503 and r.mimetype == "application/json", r.get_data(as_text=True)
            assert "did not answer within 1 s" in r.get_json()["error"]
            assert seconds < 1.0 * 2 + 2, f"{seconds:.1f} s"  # LLM_TIMEOUT bounds it; a timeout is not retried
        fake.replies = [{"chunks": ["Alien (1979) ", "was directed by Ridley Scott."], "usage": (50, 9)}]
        r = client.post("/question", json={"question": "Who directed Alien?"})
        assert r.status_code == 200 and "Ridley Scott" in r.get_json()["answer"]
    finally:
        fake.close()


# -- the local model's queue -----------------------------------------------------------------------
def test_turns_let_a_bounded_number_wait_and_turn_the_rest_away():
    turns = Turns(max_waiting=1, timeout=0.5)
    holding, release = threading.Event(), threading.Event()
    outcomes = []

    def hold():
        with turns.turn("the model"):
            holding.set()
            release.wait(10)

    def wait_then_answer():
        with turns.turn("the model"):
            outcomes.append("answered after waiting")

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    waiter = threading.Thread(target=wait_then_answer)
    waiter.start()
    deadline = time.monotonic() + 5
    while turns.waiting < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    with pytest.raises(ModelBusy, match="LLM_MAX_WAITING=1") as busy:  # the queue is full: at once
        with turns.turn("the model"):
            pass
    assert time.monotonic() - started < 0.1 and busy.value.retry_after >= 1
    release.set()
    holder.join(5)
    waiter.join(5)
    assert outcomes == ["answered after waiting"]

    # waiting too long is a 503 too, never an endless wait
    release.clear()
    holding.clear()
    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    started = time.monotonic()
    with pytest.raises(ModelBusy, match="LLM_QUEUE_TIMEOUT"):
        with turns.turn("the model"):
            pass
    assert 0.4 < time.monotonic() - started < 2
    release.set()
    holder.join(5)
    assert turns.busy_rejections == 2 and turns.waiting == 0


def test_a_busy_local_model_answers_503_with_retry_after(smollm2, settings):
    app = create_app(dataclasses.replace(settings, llm_provider="local", llm_max_tokens=48, top_k=3,
                                         llm_max_waiting=0))
    client = app.test_client()
    assert client.post("/question", json={"question": "Who directed Alien?"}).status_code == 200  # loads it
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(
        client.post("/question", json={"question": "Tell me about Star Wars"}))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    statuses = sorted(r.status_code for r in results)
    assert statuses[0] == 200 and 503 in statuses, statuses
    for r in results:
        if r.status_code == 503:
            assert r.is_json and "busy" in r.get_json()["error"]
            assert int(r.headers["Retry-After"]) >= 1


def test_a_busy_local_model_falls_back_when_a_fallback_is_set(smollm2, settings):
    app = create_app(dataclasses.replace(settings, llm_provider="local", llm_fallback="composer", llm_max_tokens=48,
                                         top_k=3, llm_max_waiting=0))
    provider = app.extensions["movies_assistant"].provider
    local = provider.providers[0]
    with local.turns.turn("the test"):  # the model is busy with someone else
        r = app.test_client().post("/question", json={"question": "Who directed Alien?"})
    assert r.status_code == 200
    assert r.get_json()["model"].startswith("composer (fallback from local:")


def test_fault_settings_are_validated():
    from movies_assistant.config import ConfigError, Settings

    settings = Settings.from_env({"ELASTIC_TIMEOUT": "2.5", "LLM_MAX_WAITING": "0", "LLM_QUEUE_TIMEOUT": "10",
                                  "DATABASE_TIMEOUT": "3", "SPOOL_RETRY": "1"}, dotenv=None)
    assert (settings.elastic_timeout, settings.llm_max_waiting, settings.llm_queue_timeout,
            settings.database_timeout, settings.spool_retry) == (2.5, 0, 10.0, 3.0, 1.0)
    for name, value in (("ELASTIC_TIMEOUT", "0"), ("LLM_MAX_WAITING", "-1"), ("SPOOL_RETRY", "-2")):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: value}, dotenv=None)
