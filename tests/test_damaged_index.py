"""A damaged index is an outage, never a dead worker or a 500: real tantivy and faiss files, real gunicorn.

Each test copies the sample index, serves it with two gunicorn workers, damages a file of the build
being served (the kind of damage a full disk, a bad copy or a stray writer leaves), and checks that
every request gets JSON (503 naming the index, or a lexical answer that says so), that /health says
why, that no worker was replaced, and that `ingest --if-missing` (what `make run` does) recovers.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from movies_assistant.config import ROOT

from .conftest import SAMPLE, gunicorn

QUESTION = {"question": "Who directed The Matrix?"}


def call(url: str, body: dict | None = None) -> tuple[int, dict | str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode()
    if text.startswith("event:"):  # a stream: its events, or the JSON error before the first one
        return status, text
    return status, json.loads(text)


def workers(master: subprocess.Popen) -> set[int]:
    return {int(pid) for pid in Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()}


@pytest.fixture
def served(sample_index, tmp_path):
    """A copy of the sample index served by gunicorn: (base URL, master process, index root, env)."""
    root = tmp_path / "index"
    shutil.copytree(sample_index, root)
    env = {"INSTANCE_DIR": str(tmp_path), "INDEX_DIR": str(root), "DATA_PATH": str(SAMPLE),
           "LLM_PROVIDER": "composer", "JUDGE_PROVIDER": "none"}
    with gunicorn(env, tmp_path / "gunicorn.log") as (base, master):
        assert call(base + "/health")[0] == 200
        deadline = time.monotonic() + 30
        while len(workers(master)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        yield base, master, root, env


def build(root: Path) -> Path:
    return root / "builds" / (root / "CURRENT").read_text().strip()


def biggest(folder: Path, suffix: str) -> Path:
    return max(folder.glob(f"*{suffix}"), key=lambda p: p.stat().st_size)


def overwrite(path: Path) -> None:
    """Random bytes over the whole file, same size (a bad copy): tantivy panics reading it."""
    path.write_bytes(random.Random(16).randbytes(path.stat().st_size))


def truncate(path: Path) -> None:
    """Half the file gone (a full disk): a mapped page past the end is SIGBUS."""
    os.truncate(path, path.stat().st_size // 2)


def requests(base: str) -> list[tuple[int, dict | str]]:
    return [call(base + "/question", QUESTION), call(base + "/question/stream", QUESTION),
            call(base + "/search?q=matrix"), call(base + "/search?q=matrix&method=dense"),
            call(base + "/search?q=matrix&method=lexical")]


def rebuild(env: dict) -> str:
    done = subprocess.run([sys.executable, "-m", "movies_assistant", "ingest", "--if-missing"], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("damage", [overwrite, truncate], ids=["overwritten", "truncated"])
@pytest.mark.parametrize("suffix", [".store", ".term"])
def test_damaged_only_build_is_a_503_naming_the_index_and_recovers(served, damage, suffix):
    base, master, root, env = served
    pids = workers(master)
    folder = build(root)
    damage(biggest(folder, suffix))
    for status, body in requests(base):
        assert status == 503, body
        assert "search index build" in body["error"] and str(folder) in body["error"]
    status, health = call(base + "/health")
    assert status == 503 and health["index"]["status"] == "unavailable", health
    assert suffix.lstrip(".") in health["index"]["error"]
    assert workers(master) == pids  # no worker died and was replaced
    assert "cannot be served" in rebuild(env)
    assert [status for status, _ in requests(base)] == [200] * 5
    status, health = call(base + "/health")
    assert status == 200 and health["index"]["status"] == "ok", health
    assert workers(master) == pids


def test_damaged_current_build_falls_back_to_the_previous_one(served):
    base, master, root, env = served
    pids = workers(master)
    previous = build(root)
    (root / "CURRENT").write_text("no-such-build\n")
    assert [status for status, _ in requests(base)] == [200] * 5
    status, health = call(base + "/health")
    assert status == 200 and health["index"]["status"] == "degraded", health
    assert any("no-such-build" in p and "missing" in p for p in health["index"]["problems"])
    assert any(previous.name in p for p in health["index"]["problems"])
    rebuild(env)
    fresh = build(root)
    assert fresh.name != previous.name and previous.is_dir()  # one previous build is kept
    truncate(biggest(fresh, ".store"))  # now the rebuilt one is damaged: the one before it serves
    assert [status for status, _ in requests(base)] == [200] * 5
    assert call(base + "/health")[1]["index"]["status"] == "degraded"
    assert workers(master) == pids


def test_empty_vectors_answer_lexically_and_say_so(served):
    base, master, root, env = served
    pids = workers(master)
    (build(root) / "vectors.faiss").write_bytes(b"")
    status, found = call(base + "/search?q=matrix")
    assert status == 200 and found["method"] == "lexical", found
    assert "vectors.faiss" in found["fallback"]["reason"] and found["fallback"]["method"] == "lexical"
    status, answer = call(base + "/question", QUESTION)
    assert status == 200 and "vectors.faiss" in answer["understanding"]["search_fallback"]["reason"], answer
    status, stream = call(base + "/question/stream", QUESTION)
    assert status == 200 and "search_fallback" in stream and "event: done" in stream
    status, dense = call(base + "/search?q=matrix&method=dense")
    assert status == 503 and "vectors.faiss" in dense["error"], dense
    status, health = call(base + "/health")
    assert status == 200 and health["index"]["status"] == "degraded", health
    assert any("vectors.faiss" in p for p in health["index"]["problems"])
    assert workers(master) == pids
    rebuild(env)
    assert call(base + "/search?q=matrix")[1]["method"] == "hybrid"
    assert call(base + "/health")[1]["index"]["status"] == "ok"


def test_a_rebuild_still_being_written_never_serves(sample_index, tmp_path):
    from movies_assistant.search import SearchUnavailable
    from movies_assistant.search.local import LocalStore

    root = tmp_path / "index"
    shutil.copytree(sample_index, root)
    only = build(root)
    unfinished = root / "builds" / "99991231T000000-unfinished-v2"  # newer by name, no manifest yet
    shutil.copytree(only, unfinished)
    (unfinished / "manifest.json").unlink()
    shutil.rmtree(only)
    store = LocalStore(root)
    with pytest.raises(SearchUnavailable, match="build folder is missing"):
        store.search("matrix", method="lexical")


def test_engine_panic_on_a_build_that_passed_its_checks_is_a_503(served):
    """Damage the checks cannot see (same size, same modification time): tantivy panics, the worker lives."""
    base, master, root, env = served
    pids = workers(master)
    store = biggest(build(root), ".store")
    seen = store.stat()
    overwrite(store)
    os.utime(store, ns=(seen.st_atime_ns, seen.st_mtime_ns))
    for status, body in requests(base):
        assert status == 503 and "search index build" in body["error"], body
    assert call(base + "/health")[0] == 503
    assert workers(master) == pids
    rebuild(env)
    assert [status for status, _ in requests(base)] == [200] * 5
