"""Slow-client probe: stalled uploads against a running server, and how /health fares meanwhile.

    .venv/bin/python benchmarks/slow_clients.py --url http://127.0.0.1:5000 --label branch
    .venv/bin/python benchmarks/slow_clients.py --url http://127.0.0.1:5000 --stalled 24 --label branch-24
    .venv/bin/python benchmarks/slow_clients.py --url http://127.0.0.1:5000 --stall head --label branch-head

Opens --stalled connections that each send `POST /question` with `Content-Length: 1000`, then 13
bytes of the body, and then nothing (`--stall body`), or only the request line and one header of such
a request (`--stall head`). Meanwhile it asks `GET /health` every --every seconds (each with
a 5 s timeout) and watches the stalled connections for the server's answer or close. After
--duration seconds it reports /health's successes and latency, and which stalled connections were
dropped (with their status and when) or are still open. Raw results go to
benchmarks/results/slow_clients-<label>.json; docs/benchmarks.md ("Slow clients") quotes them.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

RESULTS_DIR = Path(__file__).resolve().parent / "results"
HEAD = (b"POST /question HTTP/1.1\r\nHost: probe\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n")
STALLS = {
    "body": HEAD + b'{"question": ',  # 13 bytes of the promised 1000
    "head": HEAD[:HEAD.index(b"Content-Type")],  # the request line and Host, then nothing
}


def stall(host: str, port: int, sent: bytes, start: float, duration: float, outcome: dict) -> None:
    """One stalled upload; records when the server answered or closed it, or that it never did."""
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(sent)
        sock.settimeout(max(0.1, duration - (time.monotonic() - start)))
        received = b""
        try:
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    outcome["closed_s"] = round(time.monotonic() - start, 2)
                    break
                received += chunk
                outcome.setdefault("answered_s", round(time.monotonic() - start, 2))
        except TimeoutError:
            pass
        except OSError as exc:
            outcome["closed_s"] = round(time.monotonic() - start, 2)
            outcome["error"] = type(exc).__name__
        if received:
            outcome["status"] = int(received.split(b" ", 2)[1])


def health(url: str) -> tuple[int | None, float]:
    began = time.monotonic()
    try:
        with urllib.request.urlopen(url + "/health", timeout=5) as response:
            return response.status, time.monotonic() - began
    except urllib.error.HTTPError as exc:
        return exc.code, time.monotonic() - began
    except OSError:
        return None, time.monotonic() - began


def run(args) -> dict:
    parts = urlsplit(args.url)
    start = time.monotonic()
    outcomes = [{} for _ in range(args.stalled)]
    threads = [threading.Thread(target=stall, args=(parts.hostname, parts.port or 80, STALLS[args.stall], start, args.duration, o),
                                daemon=True) for o in outcomes]
    for t in threads:
        t.start()
    time.sleep(args.settle)
    checks = []
    while time.monotonic() - start < args.duration - 5:
        at = round(time.monotonic() - start, 2)
        status, seconds = health(args.url)
        checks.append({"at_s": at, "status": status, "seconds": round(seconds, 3)})
        time.sleep(max(0.0, args.every - seconds))
    for t in threads:
        t.join(args.duration + 5)
    ok = [c["seconds"] for c in checks if c["status"] == 200]
    dropped = [o for o in outcomes if "closed_s" in o]
    return {
        "label": args.label, "url": args.url, "stall": args.stall, "stalled": args.stalled, "duration_s": args.duration,
        "health_checks": len(checks), "health_ok": len(ok),
        "health_max_s": round(max(ok), 3) if ok else None,
        "health_p50_s": round(statistics.median(ok), 3) if ok else None,
        "stalled_dropped": len(dropped), "stalled_open_at_end": args.stalled - len(dropped),
        "dropped_at_s": sorted({o["closed_s"] for o in dropped}),
        "stalled_statuses": sorted({o.get("status") for o in dropped if o.get("status")}),
        "checks": checks, "connections": outcomes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--stalled", type=int, default=8, help="stalled uploads (default 8)")
    parser.add_argument("--stall", choices=sorted(STALLS), default="body", help="what stalls (default body)")
    parser.add_argument("--duration", type=float, default=30, help="seconds the probe runs (default 30)")
    parser.add_argument("--every", type=float, default=3, help="seconds between /health checks (default 3)")
    parser.add_argument("--settle", type=float, default=1, help="seconds before the first check (default 1)")
    parser.add_argument("--label", default="run", help="names the results file")
    args = parser.parse_args(argv)
    result = run(args)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"slow_clients-{args.label}.json").write_text(json.dumps(result, indent=2) + "\n")
    summary = {k: v for k, v in result.items() if k not in ("checks", "connections")}
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
