"""Damage the served index and count what the clients get: status codes and gunicorn worker restarts.

    .venv/bin/python benchmarks/damaged_index.py INDEX_ROOT [--code FOLDER] [--workers 1]

For each case, copies INDEX_ROOT (a built local index), serves it as `make run` does
(`python -m movies_assistant serve`, run from `--code`, default this checkout), damages the current
build, sends five requests (/question, /question/stream, /search hybrid, dense and lexical) and
prints their status codes ("-" for no response) and how many workers gunicorn had to boot again.
Also times verifying a build at opening (the manifest's sizes and checksums) on INDEX_ROOT.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = json.dumps({"question": "Who directed The Matrix?"}).encode()
PATHS = [("/question", QUESTION), ("/question/stream", QUESTION), ("/search?q=matrix", None),
         ("/search?q=matrix&method=dense", None), ("/search?q=matrix&method=lexical", None)]


def current(root: Path) -> Path:
    return root / "builds" / (root / "CURRENT").read_text().strip()


def biggest(root: Path, suffix: str) -> Path:
    return max(current(root).glob(f"*{suffix}"), key=lambda p: p.stat().st_size)


def overwrite_store(root: Path) -> None:
    path = biggest(root, ".store")
    path.write_bytes(random.Random(16).randbytes(path.stat().st_size))


def truncate_store(root: Path) -> None:
    path = biggest(root, ".store")
    os.truncate(path, path.stat().st_size // 2)


def empty_vectors(root: Path) -> None:
    (current(root) / "vectors.faiss").write_bytes(b"")


def missing_build(root: Path) -> None:
    (root / "CURRENT").write_text("no-such-build\n")


CASES = {"overwritten .store": overwrite_store, "truncated .store": truncate_store,
         "empty vectors.faiss": empty_vectors, "CURRENT -> missing build": missing_build}


def status(base: str, path: str, body: bytes | None) -> str:
    request = urllib.request.Request(base + path, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return str(response.status)
    except urllib.error.HTTPError as exc:
        return str(exc.code)
    except OSError:
        return "-"


def probe(index: Path, code: Path, damage, workers: int) -> tuple[list[str], int, str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "index"
        shutil.copytree(index, root)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "INSTANCE_DIR": tmp, "INDEX_DIR": str(root), "LLM_PROVIDER": "composer",
               "JUDGE_PROVIDER": "none"}
        log_path = Path(tmp) / "serve.log"
        with open(log_path, "w") as log:
            server = subprocess.Popen([sys.executable, "-m", "movies_assistant", "serve", "--host", "127.0.0.1",
                                       "--port", str(port), "--workers", str(workers)], cwd=code, env=env,
                                      stdout=log, stderr=subprocess.STDOUT)
            base = f"http://127.0.0.1:{port}"
            while status(base, "/health", None) == "-":
                time.sleep(0.3)
            damage(root)
            codes = [status(base, path, body) for path, body in PATHS]
            health = status(base, "/health", None)
            time.sleep(2)  # a replaced worker boots in the meantime
            server.terminate()
            server.wait(30)
        booted = log_path.read_text().count("Booting worker")
        return codes, booted - workers, health


def verify_cost(index: Path, repeat: int = 5) -> tuple[float, int]:
    sys.path.insert(0, str(ROOT))
    from movies_assistant.search.builds import verify

    folder = current(index)
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        verify(folder)
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2] * 1000, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("--code", type=Path, default=ROOT)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    for name, damage in CASES.items():
        codes, restarts, health = probe(args.index, args.code, damage, args.workers)
        print(f"{name:26} requests {' '.join(codes):24} /health {health}  worker restarts {restarts}")
    if (ROOT / "movies_assistant" / "search" / "builds.py").exists():
        ms, size = verify_cost(args.index)
        print(f"verifying the build at opening: {ms:.0f} ms for {size / 1e6:.0f} MB (median of 5, page cache warm)")


if __name__ == "__main__":
    main()
