"""PostgreSQL killed under load: every answered question and accepted feedback ends up logged exactly once.

The test starts its own PostgreSQL (scripts/test-postgres.sh on TEST_OUTAGE_PG_PORT, default 54340;
skipped with the reason when it cannot, failed when REQUIRE_POSTGRES=1), serves the app with real
gunicorn (two workers sharing one spool) and sends questions, follow-ups and feedback from four
threads for about 24 s. At 6 s it stops PostgreSQL with `pg_ctl stop -m immediate` (a crash: no
shutdown checkpoint, every connection cut), at 14 s it starts it again. Then it waits for the spool
to drain and compares the database with what the clients were told.
"""

from __future__ import annotations

import collections
import glob
import os
import random
import subprocess
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from movies_assistant.config import ROOT
from movies_assistant.evaluate import load_ground_truth
from movies_assistant.logstore import Spool

from .conftest import call, gunicorn, skip_or_fail

PORT = os.environ.get("TEST_OUTAGE_PG_PORT", "54340")
SCRIPT = ROOT / "scripts" / "test-postgres.sh"
RUN_SECONDS, KILL_AT, RESTART_AT = 24.0, 6.0, 14.0


class OwnPostgres:
    """A PostgreSQL server this test may crash and restart (its data directory survives both)."""

    def __init__(self, url: str, base: Path):
        self.url, self.base = url, base

    def pg_ctl(self, *args: str) -> None:
        bindir = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))[-1]
        command = [f"{bindir}/pg_ctl", "-D", str(self.base / "data"), *args]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, cwd="/", capture_output=True, timeout=90)

    def crash(self) -> None:
        self.pg_ctl("-m", "immediate", "-w", "stop")

    def restart(self) -> None:
        # with the server down, `restart` starts it with the options of its last start (postmaster.opts)
        self.pg_ctl("-l", str(self.base / "server.log"), "-w", "-t", "60", "restart")

    def new_database(self) -> str:
        name = f"ma_outage_{uuid.uuid4().hex[:10]}"
        admin = psycopg2.connect(self.url)
        admin.autocommit = True
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        # scripts/test-postgres.sh runs the server with synchronous_commit=off for speed, which lets a crash
        # lose commits it already acknowledged; PostgreSQL's default (on) is what the app relies on
        admin.cursor().execute(f'ALTER DATABASE "{name}" SET synchronous_commit = on')
        admin.close()
        return urlunsplit(urlsplit(self.url)._replace(path=f"/{name}"))


@pytest.fixture(scope="module")
def own_postgres():
    env = {**os.environ, "TEST_PG_PORT": PORT}
    started = subprocess.run(["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=300)
    if started.returncode != 0:
        skip_or_fail(f"cannot start a PostgreSQL of our own on port {PORT}: {started.stderr.strip()[-400:]}",
                     "REQUIRE_POSTGRES")
    yield OwnPostgres(started.stdout.strip().splitlines()[-1], Path(f"/tmp/movies-assistant-pg-{PORT}"))
    subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, timeout=120)


@pytest.fixture
def gunicorn_app(own_postgres, sample_index, tmp_path):
    database_url = own_postgres.new_database()
    env = {"INSTANCE_DIR": str(tmp_path), "INDEX_DIR": str(sample_index), "DATABASE_URL": database_url,
           "LLM_PROVIDER": "composer", "JUDGE_PROVIDER": "none", "SPOOL_RETRY": "0.5", "DATABASE_TIMEOUT": "3"}
    with gunicorn(env, tmp_path / "gunicorn.log") as (base, _server):
        assert call(base + "/health", timeout=5)[0] == 200
        yield base, database_url, Spool(tmp_path)


def test_postgres_killed_under_load_loses_nothing(own_postgres, gunicorn_app):
    base, database_url, spool = gunicorn_app
    questions = [q.text for q in load_ground_truth(ROOT / "data" / "ground-truth-retrieval.csv")]
    answered: dict[str, float] = {}  # answer id -> when the client got it (seconds into the run)
    feedback = collections.Counter()  # answer id -> accepted feedback
    refused: list[tuple[str, int, dict]] = []
    failures: list[str] = []  # timeouts, broken connections, anything but an HTTP answer
    lock = threading.Lock()
    start = time.monotonic()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conversation = None
        while time.monotonic() - start < RUN_SECONDS:
            body = {"question": rng.choice(questions)}
            if conversation and rng.random() < 0.3:
                body = {"question": "Who directed it?", "conversation_id": conversation}
            try:
                status, reply = call(base + "/question", body)
                if status == 200:
                    with lock:
                        answered[reply["answer_id"]] = time.monotonic() - start
                    conversation = reply["conversation_id"]
                    status, fb = call(base + "/feedback", {"conversation_id": conversation, "answer_id":
                                                           reply["answer_id"], "feedback": rng.choice((1, -1))})
                    if status == 200:
                        with lock:
                            feedback[reply["answer_id"]] += 1
                    else:
                        refused.append(("/feedback", status, fb))
                else:
                    refused.append(("/question", status, reply))
            except Exception as exc:  # noqa: BLE001 - every kind is a failure to report
                failures.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(KILL_AT)
    own_postgres.crash()
    killed_at = time.monotonic() - start
    time.sleep(2)
    health_during = call(base + "/health")
    time.sleep(max(0.0, RESTART_AT - (time.monotonic() - start)))
    own_postgres.restart()
    restarted_at = time.monotonic() - start
    for t in threads:
        t.join(60)

    deadline = time.monotonic() + 30
    while spool.pending() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not spool.pending(), "the spool was not replayed within 30 s"

    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT id, COUNT(*) FROM conversations GROUP BY id")
            logged = dict(cur.fetchall())
            cur.execute("SELECT answer_id, COUNT(*) FROM feedback GROUP BY answer_id")
            logged_feedback = collections.Counter(dict(cur.fetchall()))
    finally:
        conn.close()

    during = [a for a, at in answered.items() if killed_at + 0.5 < at < restarted_at]
    lost = set(answered) - set(logged)
    summary = (f"requests answered {len(answered)} (during the outage {len(during)}), logged {len(logged)}, "
               f"lost {len(lost)}; feedback accepted {sum(feedback.values())}, logged {sum(logged_feedback.values())}; "
               f"refused {len(refused)} ({collections.Counter((p, s) for p, s, _ in refused)}); "
               f"client failures {len(failures)}")
    print(summary)
    assert not failures, failures[:5]
    assert health_during[0] == 200 and health_during[1]["database"]["status"] == "unavailable"
    assert health_during[1]["database"]["spooled"] > 0
    assert len(answered) >= 100 and len(during) >= 20, summary
    assert not lost, summary
    assert set(logged) == set(answered) and set(logged.values()) == {1}, summary  # exactly once, nothing extra
    assert logged_feedback == feedback, summary
    for path, status, reply in refused:  # a refusal is a clear 503 with a reason, never a silent timeout
        assert status == 503 and "unavailable" in reply.get("error", ""), (path, status, reply)
