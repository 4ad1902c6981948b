"""Shared fixtures in the style of Flask's tutorial: `settings`, `app`, `client`, `runner`.

The sample index (1,000 real movies) is built once per test session; each test gets its own
SQLite log database. PostgreSQL tests use `postgres_url` (see that fixture).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from movies_assistant.app import create_app
from movies_assistant.config import ROOT, Settings
from movies_assistant.ingest import ingest
from movies_assistant.search.local import LocalStore

SAMPLE = ROOT / "data" / "movies-sample.csv"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory) -> Path:
    """A local index of data/movies-sample.csv, built once."""
    root = tmp_path_factory.mktemp("sample-index")
    from rich.console import Console

    ingest(SAMPLE, LocalStore(root), Console(quiet=True))
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
