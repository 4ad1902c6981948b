"""The app under real gunicorn (`python -m movies_assistant serve`): slow clients, body limits, gunicorn's own errors.

Each test talks raw HTTP over a socket, so that it can stall a body, send it chunked, or send what
no HTTP client library would.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from movies_assistant.config import ROOT

from .conftest import gunicorn

BODY_TIMEOUT = 3.0  # REQUEST_BODY_TIMEOUT of the server under test
HEAD_TIMEOUT = 4.0  # REQUEST_HEAD_TIMEOUT of the server under test
STALLED_HEAD = (b"POST /question HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000\r\n\r\n")


@contextlib.contextmanager
def running_server(index, instance, **env_overrides):
    """`python -m movies_assistant serve` with `make run`'s shape (one worker, eight threads, the default
    address) on a free port; yields the port."""
    env = {"INSTANCE_DIR": str(instance), "INDEX_DIR": str(index), "LLM_PROVIDER": "composer",
           "JUDGE_PROVIDER": "none", "REQUEST_BODY_TIMEOUT": str(BODY_TIMEOUT),
           "REQUEST_HEAD_TIMEOUT": str(HEAD_TIMEOUT), "BIND_HOST": "", **env_overrides}
    with gunicorn(env, instance / "gunicorn.log", workers=1, threads=8, host=None) as (base, _):
        yield int(base.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def server(sample_index, tmp_path_factory):
    instance = tmp_path_factory.mktemp("http-serving")
    with running_server(sample_index, instance) as port:
        yield port, instance


def exchange(port: int, data: bytes, timeout: float = 10) -> tuple[int, dict, bytes]:
    """Sends `data`, reads until the server closes or the response is complete: (status, JSON body, raw)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_response(sock)


def read_response(sock: socket.socket) -> tuple[int, dict, bytes]:
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {raw!r}"
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    assert b"content-type: application/json" in head.lower(), raw
    return int(head.split(b" ", 2)[1]), json.loads(body), raw


def health_seconds(port: int) -> float:
    began = time.monotonic()
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5).close()
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"/health {exc.code}: {exc.read()[:500]!r}") from None
    return time.monotonic() - began


def stalled_upload(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(STALLED_HEAD + b'{"question": ')  # 13 of the 1000 bytes promised
    return sock


def logged_questions(instance) -> list[str]:
    with sqlite3.connect(instance / "movies_assistant.sqlite3") as conn:
        return [row[0] for row in conn.execute("SELECT question FROM conversations")]


def test_stalled_uploads_do_not_starve_health(server):
    port, _ = server
    stalled = [stalled_upload(port) for _ in range(8)]  # as many as the worker has threads
    try:
        time.sleep(0.5)
        latencies = [health_seconds(port) for _ in range(5)]
        assert max(latencies) < 1.5, latencies
    finally:
        for sock in stalled:
            sock.close()


def test_a_stalled_body_gets_408_and_its_connection_closed(server):
    port, _ = server
    sock = stalled_upload(port)
    began = time.monotonic()
    with sock:
        status, body, _ = read_response(sock)
        took = time.monotonic() - began
        assert status == 408 and "did not arrive" in body["error"]
        assert BODY_TIMEOUT - 0.5 < took < BODY_TIMEOUT + 2, took
        sock.settimeout(5)
        assert sock.recv(100) == b"", "the connection stays open after the 408"


def stalled_head(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(b"POST /question HTTP/1.1\r\nHost: test\r\n")  # half a head, and then nothing
    return sock


def test_a_stalled_request_head_gets_408_and_its_connection_closed(server):
    port, _ = server
    began = time.monotonic()
    with stalled_head(port) as sock:
        status, body, _ = read_response(sock)
        took = time.monotonic() - began
        assert status == 408 and f"did not arrive within {HEAD_TIMEOUT:g} s" in body["error"]
        assert HEAD_TIMEOUT - 0.5 < took < HEAD_TIMEOUT + 2, took
        assert sock.recv(100) == b"", "the connection stays open after the 408"


def test_stalled_request_heads_do_not_starve_health(server):
    port, _ = server
    stalled = [stalled_head(port) for _ in range(8)]  # as many as the worker has threads
    began = time.monotonic()
    try:
        latency = health_seconds(port)
        replies = [read_response(sock) for sock in stalled]
        took = time.monotonic() - began
    finally:
        for sock in stalled:
            sock.close()
    assert latency < 3, latency  # the heads' grace while threads are short, and the once-a-second sweep
    assert [status for status, _, _ in replies] == [408] * 8
    assert took < HEAD_TIMEOUT, took


def test_a_chunked_body_over_the_limit_is_413_and_not_logged(server):
    port, instance = server
    question = "Chunked and far too long, who directed Alien?"
    body = json.dumps({"question": question}).encode() + b" " * 200_000  # valid JSON in its first 64 KB
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 8192]), body[i:i + 8192]) for i in range(0, len(body), 8192))
    request = (b"POST /question HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
    status, reply, _ = exchange(port, request)
    assert status == 413 and "64 KB" in reply["error"]
    assert question not in logged_questions(instance)


def test_a_chunked_body_within_the_limit_is_answered(server):
    port, _ = server
    body = json.dumps({"question": "Who directed Alien?"}).encode()
    request = (b"POST /question HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    status, reply, _ = exchange(port, request)
    assert status == 200 and reply["answer"]


def test_a_content_length_over_the_limit_is_413_before_the_body(server):
    port, _ = server
    request = (b"POST /question HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
               b"Content-Length: 200000\r\n\r\n{")
    status, reply, _ = exchange(port, request)
    assert status == 413 and "64 KB" in reply["error"]


def test_a_malformed_request_line_is_400_json(server):
    port, _ = server
    status, reply, raw = exchange(port, b"GARBAGE\r\n\r\n")
    assert status == 400 and "GARBAGE" in reply["error"]
    assert b"<html" not in raw


def test_a_request_line_over_gunicorns_limit_is_414_json(server):
    port, _ = server
    status, reply, _ = exchange(port, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: test\r\n\r\n")
    assert status == 414 and "too large" in reply["error"]


def test_header_fields_over_gunicorns_limit_are_431_json(server):
    port, _ = server
    status, reply, _ = exchange(port, b"GET /health HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
    assert status == 431 and reply["error"]


def listening_addresses(port: int) -> set[str]:
    listening = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True)
    if listening.returncode != 0:
        pytest.skip("no ss here to list listening sockets")
    return {line.split()[3] for line in listening.stdout.splitlines()}


def test_serve_listens_on_loopback_by_default(server):
    port, _ = server
    assert listening_addresses(port) == {f"127.0.0.1:{port}"}


def test_bind_host_opens_serve_to_the_network(sample_index, tmp_path):
    with running_server(sample_index, tmp_path, BIND_HOST="0.0.0.0") as port:
        assert listening_addresses(port) == {f"0.0.0.0:{port}"}


def test_uploads_beyond_the_waiting_slots_get_503_and_health_still_answers(server):
    port, _ = server
    stalled = [stalled_upload(port) for _ in range(12)]  # more than the 6 (8 threads - 2) body slots
    try:
        time.sleep(0.5)
        latencies = [health_seconds(port) for _ in range(3)]
        replies = [read_response(sock) for sock in stalled]
    finally:
        for sock in stalled:
            sock.close()
    assert max(latencies) < 1.5, latencies
    assert sorted(status for status, _, _ in replies) == [408] * 6 + [503] * 6
    for status, body, raw in replies:
        if status == 503:
            assert b"retry-after: 1" in raw.lower() and "retry" in body["error"]
