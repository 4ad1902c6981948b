"""Load benchmark: locust against the app under real gunicorn on loopback, then a count of the log.

    .venv/bin/python benchmarks/load.py                                   # composer: 50 users, 60 s
    .venv/bin/python benchmarks/load.py --provider local --users 4        # the SmolLM2 GGUF, its queue

It builds (once, cached in --index-dir) the local index of the bundled 18,042-movie corpus, serves
the app with `python -m movies_assistant serve` (gunicorn) on 127.0.0.1 with a fresh SQLite log (or
--database-url), runs locust headless (benchmarks/locustfile.py: ground-truth questions, follow-ups,
feedback) for --run-time seconds, lets every user finish its request, and then counts the logged
conversations and feedback, which must equal the successful requests. Raw results go to
benchmarks/results/load-<provider>.json and the `load` section of docs/benchmarks.md is rewritten
from all of them. Exit status 1 when a goal is missed (an error other than a local model's busy 503,
or logged != answered).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from ingest_search import DOC, RESULTS_DIR, machine_notes  # noqa: E402

PYTHON = sys.executable
DEFAULT_INDEX = Path(tempfile.gettempdir()) / "movies-assistant-load-index"
START, END = "<!-- load:start -->", "<!-- load:end -->"


def say(line: str) -> None:
    print(f"[load] {line}", file=sys.stderr, flush=True)


def load_average() -> float:
    return os.getloadavg()[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(args, instance: Path) -> dict:
    env = {**os.environ, "INSTANCE_DIR": str(instance), "INDEX_DIR": str(args.index_dir), "SEARCH_BACKEND": "local",
           "LLM_PROVIDER": args.provider, "JUDGE_PROVIDER": "none", "LLM_FALLBACK": "",
           "LLM_MAX_TOKENS": str(args.max_tokens), "LLM_MAX_WAITING": str(args.max_waiting),
           "LLM_QUEUE_TIMEOUT": str(args.queue_timeout), "DATABASE_URL": args.database_url or "",
           "TOP_K": str(args.top_k)}
    if not args.database_url:
        env["POSTGRES_HOST"] = ""  # a .env must not switch the benchmark to another database
    return env


def build_index(args) -> None:
    if (args.index_dir / "CURRENT").exists():
        return
    say(f"building the local index of the bundled corpus in {args.index_dir}")
    subprocess.run([PYTHON, "-m", "movies_assistant", "ingest"], check=True, cwd=ROOT,
                   env={**os.environ, "INDEX_DIR": str(args.index_dir), "SEARCH_BACKEND": "local"})


def wait_healthy(url: str, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited before it was healthy")
        try:
            with urllib.request.urlopen(url + "/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the app did not become healthy")


def warm_up(url: str) -> None:
    """One question, so a local model is loaded before the clock starts."""
    request = urllib.request.Request(url + "/question", data=json.dumps({"question": "Who directed Alien?"}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        response.read()


def logged_counts(args, instance: Path) -> tuple[int, int]:
    """(conversations, feedback) in the log database."""
    sys.path.insert(0, str(ROOT))
    from movies_assistant.config import Settings
    from movies_assistant.logstore import open_log_store

    store = open_log_store(Settings.from_env(app_env(args, instance), dotenv=None))
    store.ensure_schema()
    assert store.spooled() == 0, "records are still in the spool"
    return store.count_answers(), store.count_feedback()


def run(args) -> dict:
    build_index(args)
    instance = Path(tempfile.mkdtemp(prefix="movies-assistant-load-"))
    env = app_env(args, instance)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(instance / "gunicorn.log", "w")
    server = subprocess.Popen([PYTHON, "-m", "movies_assistant", "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--workers", str(args.workers), "--threads", str(args.threads)],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(url, server)
        warm_up(url)
        baseline = logged_counts(args, instance)  # the warm-up question, or what a PostgreSQL log held
        load_before = load_average()
        say(f"locust: {args.users} users, spawn rate {args.spawn_rate}/s, {args.run_time} s against {url} "
            f"({args.provider}, {args.workers} worker(s) x {args.threads} threads); load {load_before:.2f}")
        summary = instance / "locust-summary.json"
        subprocess.run([PYTHON, "-m", "locust", "-f", str(ROOT / "benchmarks" / "locustfile.py"), "--headless",
                        "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
                        "--run-time", f"{args.run_time}s", "--stop-timeout", "150", "--host", url,
                        "--only-summary", "--loglevel", "WARNING"],
                       cwd=ROOT, env={**os.environ, "LOAD_CLIENT_TIMEOUT": str(args.client_timeout),
                                      "LOAD_SUMMARY": str(summary)},
                       timeout=args.run_time + 300)
        load_after = load_average()
    finally:
        server.terminate()
        server.wait(60)
        log.close()
    answers, feedback = logged_counts(args, instance)
    stats = json.loads(summary.read_text())
    failures = stats["failures"]
    question, rate = stats["endpoints"]["/question"], stats["endpoints"].get("/feedback")
    busy = sum(n for key, n in failures.items() if key == "/question: busy")
    shutil.rmtree(instance, ignore_errors=True)
    errors = sum(failures.values()) - busy
    answered = question["requests"] - question["failures"]
    rated = rate["requests"] - rate["failures"] if rate else 0
    return {
        "provider": args.provider, "users": args.users, "spawn_rate": args.spawn_rate, "run_time_s": args.run_time,
        "workers": args.workers, "threads": args.threads, "top_k": args.top_k,
        "think_time_s": [float(os.environ.get("LOAD_WAIT_MIN", 0.5)), float(os.environ.get("LOAD_WAIT_MAX", 1.5))],
        "max_tokens": args.max_tokens if args.provider == "local" else None,
        "max_waiting": args.max_waiting if args.provider == "local" else None,
        "queue_timeout_s": args.queue_timeout if args.provider == "local" else None,
        "client_timeout_s": args.client_timeout, "log": "postgresql" if args.database_url else "sqlite",
        "question": question, "feedback": rate,
        "answered": answered, "busy_503": busy, "errors": errors, "failures": failures,
        "outcomes": stats["outcomes"],
        "logged_answers": answers - baseline[0], "rated": rated, "logged_feedback": feedback - baseline[1],
        "load": [round(load_before, 2), round(load_after, 2)], "machine": machine_notes("local"),
        "command": "python benchmarks/load.py " + " ".join(sys.argv[1:]),
    }


def render(results: list[dict]) -> str:
    out = ["## Load: gunicorn under locust", "",
           "Written by `benchmarks/load.py` from `benchmarks/results/load-*.json`; do not edit by hand.", "",
           "The app runs under real gunicorn on 127.0.0.1 with the embedded default (local index of the 18,042-movie "
           "corpus, SQLite log); locust users ask ground-truth questions (6 parts), follow up in the same "
           "conversation (2) and rate the last answer (2), pausing between requests. `logged` is counted in the "
           "database afterwards and must equal the answered questions and accepted feedback. `busy 503` is the "
           "local model's queue saying \"try again\" (503 with Retry-After): an answer, not an error or a timeout.",
           "", "| model | users | s | workers x threads | questions | answered | logged | busy 503 | errors "
           "| question rps | p50 / p95 / p99 / max ms | feedback ok / logged | load before → after |",
           "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---|---|"]
    for r in results:
        q = r["question"]
        model = r["provider"] + (f" (top {r.get('top_k', 10)}, max {r['max_tokens']} tokens, queue {r['max_waiting']}, "
                                 f"wait ≤ {r['queue_timeout_s']:g} s)" if r["provider"] == "local" else "")
        out.append(f"| {model} | {r['users']} | {r['run_time_s']} | {r['workers']} x {r['threads']} | {q['requests']} "
                   f"| {r['answered']} | {r['logged_answers']} | {r['busy_503']} | {r['errors']} | {q['rps']} "
                   f"| {q['p50']:.0f} / {q['p95']:.0f} / {q['p99']:.0f} / {q['max']:.0f} "
                   f"| {r['rated']} / {r['logged_feedback']} | {r['load'][0]} → {r['load'][1]} |")
    out.append("")
    for r in results:
        m = r["machine"]
        out.append(f"* `{r['command']}` ({r['provider']}): {m['date']}, git {m['git']}; {m['cores']} cores "
                   f"(`{m['cpu']}`), {m['ram_gb']} GB RAM, Python {m['python']}; think time "
                   f"{r['think_time_s'][0]:g}-{r['think_time_s'][1]:g} s, client timeout {r['client_timeout_s']:g} s"
                   + (f"; failures: {r['failures']}" if r["failures"] else ""))
    for r in results:
        o = r.get("outcomes") or {}
        if r["provider"] == "local" and o.get("answered_s", {}).get("n"):
            a, b, ra = o["answered_s"], o["busy_s"], o["retry_after_s"]
            out.append(f"* local model queue: {a['n']} answers took {a['p50']:.1f} s (median), {a['max']:.1f} s "
                       f"at most, waiting for their turn included; {b.get('n', 0)} busy 503s came back in "
                       f"{b.get('p50', 0):.2f} s (median), {b.get('max', 0):.2f} s at most, with Retry-After "
                       f"{ra.get('p50', 0):g} s (median; one answer at a time, so each costs every waiter its "
                       "generation time); "
                       + ("no request timed out on the client" if r["errors"] == 0 else f"{r['errors']} errors"))
    out += ["", "The machine is shared (2 cores, other jobs running): `load` is the 1-minute load average before and "
            "after the run; locust itself runs on the same cores."]
    return "\n".join(out) + "\n"


def write_doc(results: list[dict]) -> None:
    section = f"{START}\n{render(results)}{END}\n"
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section + rest.split(END, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provider", choices=("composer", "local"), default="composer")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--run-time", type=int, default=60, help="seconds")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: 2, or 1 for the local model)")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=128, help="LLM_MAX_TOKENS for the local model")
    parser.add_argument("--max-waiting", type=int, default=2, help="LLM_MAX_WAITING for the local model")
    parser.add_argument("--queue-timeout", type=float, default=20, help="LLM_QUEUE_TIMEOUT for the local model")
    parser.add_argument("--top-k", type=int, default=10, help="TOP_K: records per question (the prompt's size)")
    parser.add_argument("--client-timeout", type=float, default=120, help="seconds before locust gives up")
    parser.add_argument("--index-dir", type=Path, default=DEFAULT_INDEX)
    parser.add_argument("--database-url", default="", help="PostgreSQL log database (default: a fresh SQLite file)")
    args = parser.parse_args(argv)
    args.workers = args.workers or (1 if args.provider == "local" else 2)
    result = run(args)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"load-{args.provider}.json").write_text(json.dumps(result, indent=2) + "\n")
    write_doc([json.loads(p.read_text()) for p in sorted(RESULTS_DIR.glob("load-*.json"))])
    q = result["question"]
    say(f"{result['answered']} answered, {result['busy_503']} busy 503, {result['errors']} errors; "
        f"p50 {q['p50']:.0f} ms, p95 {q['p95']:.0f} ms; logged {result['logged_answers']} answers, "
        f"{result['logged_feedback']} of {result['rated']} feedback; load {result['load']}")
    ok = result["errors"] == 0 and result["logged_answers"] == result["answered"] \
        and result["logged_feedback"] == result["rated"]
    if not ok:
        say("GOAL MISSED: errors, or the log does not match the successful requests")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
