"""Ingest and search benchmark of a search backend at several corpus sizes.

    .venv/bin/python benchmarks/ingest_search.py --backend local --rows 100000 720000
    .venv/bin/python benchmarks/ingest_search.py --backend elasticsearch --elastic-url http://localhost:9200 \\
        --rows 100000 720000

For each size it

1. generates (or reuses from --cache-dir) a CSV of that many movies with benchmarks/generate_movies.py:
   the 18k real corpus rows first, then realistic recombined ones;
2. ingests it with the real ingest code (`movies_assistant.ingest.ingest` into the backend's
   `SearchStore`, as `python -m movies_assistant ingest` does) in a child process, and records the
   wall time, rows/s, CPU time and peak RSS of that process (for Elasticsearch: of the client only);
3. measures warm search latency (a warm-up pass, then a measured pass) over a fixed set of queries:
   400 questions of data/ground-truth-retrieval.csv (the first two of each of its 200 films) and
   100 short title queries, without filters and with filters (year range + genre, min rating, person),
   plus 100 filter-only "browse" queries; and the hit rate / MRR of the ground-truth questions.

Raw results go to benchmarks/results/ingest_search-<backend>-<rows>.json, and the backend's section
of docs/benchmarks.md is rewritten from all result files of that backend.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import generate_movies  # noqa: E402

GROUND_TRUTH = ROOT / "data" / "ground-truth-retrieval.csv"
RESULTS_DIR = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "movies-assistant-bench"
# the goals for the embedded backend on the 2-core development machine
GOAL_INGEST_720K_S = 120.0
GOAL_P95_MS = 20.0
PEOPLE = ["Tom Hanks", "Meryl Streep", "Steven Spielberg", "Samuel L. Jackson", "Nicole Kidman",
          "Robert De Niro", "Alfred Hitchcock", "Cate Blanchett", "Gérard Depardieu", "Shah Rukh Khan"]
GENRES = ["Drama", "Comedy", "Thriller", "Action", "Romance", "Horror", "Science Fiction", "Animation",
          "Documentary", "Crime"]


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# -- the store ------------------------------------------------------------------------------------
def open_backend(backend: str, index_dir: Path, elastic_url: str, index_name: str):
    """The backend's SearchStore, built the way the app builds it (`movies_assistant.search.open_store`)."""
    from movies_assistant.config import Settings
    from movies_assistant.search import open_store

    settings = Settings(instance_dir=index_dir.parent, index_dir=index_dir, search_backend=backend,
                        elastic_url=elastic_url, index_name=index_name)
    settings.validate()
    return open_store(settings)


def child_ingest(argv: list[str]) -> int:
    """`ingest_search.py _ingest ...`: ingest one file in this (child) process and report as JSON."""
    parser = argparse.ArgumentParser(prog="ingest_search.py _ingest")
    parser.add_argument("--backend", required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--elastic-url", default="")
    parser.add_argument("--index-name", default="")
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args(argv)
    from rich.console import Console

    from movies_assistant.ingest import ingest
    from movies_assistant.movies import CSVFormatError
    from movies_assistant.search import SearchUnavailable

    try:
        store = open_backend(args.backend, args.index_dir, args.elastic_url, args.index_name)
        summary = ingest(args.data, store, Console(stderr=True))
    except (SearchUnavailable, CSVFormatError) as exc:
        print(f"ingest failed: {exc}", file=sys.stderr)
        return 2
    for line in summary.lines():
        print(f"    {line}", file=sys.stderr)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    args.result.write_text(json.dumps({
        "rows_read": summary.rows_read, "indexed": summary.indexed, "rejected": summary.rejected,
        "ingest_s": round(summary.seconds, 2), "count_after": store.count(),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
    }))
    return 0


def run_ingest(args, data: Path, index_dir: Path) -> dict:
    """Ingest `data` in a child process; its peak RSS and CPU time come from getrusage."""
    result_file = index_dir.parent / f"ingest-{os.getpid()}-{time.time_ns()}.json"
    command = [sys.executable, str(Path(__file__).resolve()), "_ingest", "--backend", args.backend,
               "--data", str(data), "--index-dir", str(index_dir), "--elastic-url", args.elastic_url,
               "--index-name", args.index_name, "--result", str(result_file)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()
    started = time.perf_counter()
    child = subprocess.run(command, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if child.returncode:
        raise SystemExit(f"the ingest of {data} failed (exit {child.returncode})")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads(result_file.read_text())
    result_file.unlink()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    report.update({
        "process_wall_s": round(wall, 2),
        "rows_per_s": round(report["indexed"] / report["ingest_s"]) if report["ingest_s"] else None,
        "cpu_s": round(cpu, 1),
        "cpu_utilisation": round(cpu / wall, 2) if wall else None,
        "children_max_rss_mb": round(after.ru_maxrss / 1024, 1),  # max over all children so far
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
    })
    if args.backend == "local":
        report["index_mb"] = round(sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file()) / 1e6, 1)
    return report


# -- queries --------------------------------------------------------------------------------------
def query_set() -> tuple[list[tuple[str, int | None]], list[str]]:
    """(text, gold id or None) pairs: 400 ground-truth questions + 100 title queries; and the titles."""
    by_movie: dict[int, list[str]] = {}
    with open(GROUND_TRUTH, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            by_movie.setdefault(int(row["id"]), []).append(row["question"])
    questions = [(q, movie_id) for movie_id, qs in by_movie.items() for q in qs[:2]]
    return questions, sorted(by_movie)


def title_queries(store, gold_ids: list[int]) -> list[tuple[str, int | None]]:
    """Short queries: the bare titles of 100 ground-truth films (read back from the index itself)."""
    movies = store.get(gold_ids[::2][:100])
    return [(m.title, m.id) for m in movies]


def filter_kinds():
    from movies_assistant.search import Filters

    return {
        "plain": lambda i: None,
        "year+genre": lambda i: Filters(year_min=1980 + (i % 4) * 10, year_max=1989 + (i % 4) * 10,
                                        genres=[GENRES[i % len(GENRES)]]),
        "min_rating": lambda i: Filters(min_rating=7.0),
        "person": lambda i: Filters(person=PEOPLE[i % len(PEOPLE)]),
    }


def browse_queries():
    """Filter-only queries (no text: ranked by vote count), 100 combinations."""
    from movies_assistant.search import Filters

    out = []
    for i in range(100):
        decade = 1950 + (i % 7) * 10
        out.append(Filters(year_min=decade, year_max=decade + 9, genres=[GENRES[i % len(GENRES)]],
                           min_votes=[None, 50, 500][i % 3]))
    return out


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def timed_pass(store, items, k: int) -> tuple[list[float], list[float], list]:
    wall, cpu, results = [], [], []
    for text, filters in items:
        t0, c0 = time.perf_counter(), time.thread_time()
        hits = store.search(text, filters, k=k, method="lexical")
        cpu.append((time.thread_time() - c0) * 1000)
        wall.append((time.perf_counter() - t0) * 1000)
        results.append(hits)
    return wall, cpu, results


def stats(wall: list[float], cpu: list[float]) -> dict:
    wall, cpu = sorted(wall), sorted(cpu)
    return {
        "n": len(wall),
        "p50_ms": round(percentile(wall, 50), 2), "p95_ms": round(percentile(wall, 95), 2),
        "p99_ms": round(percentile(wall, 99), 2), "max_ms": round(wall[-1], 2),
        "mean_ms": round(sum(wall) / len(wall), 2),
        # CPU time of the searching thread: what the query costs, without waiting for a busy CPU
        # (for Elasticsearch this is only the client's share)
        "cpu_p50_ms": round(percentile(cpu, 50), 2), "cpu_p95_ms": round(percentile(cpu, 95), 2),
    }


def run_search(args, index_dir: Path) -> tuple[dict, dict]:
    store = open_backend(args.backend, index_dir, args.elastic_url, args.index_name)
    questions, gold_ids = query_set()
    texts = questions + title_queries(store, gold_ids)
    kinds = filter_kinds()
    latency: dict[str, dict] = {}
    quality: dict = {}
    load_before = os.getloadavg()
    for kind, make_filters in kinds.items():
        items = [(text, make_filters(i)) for i, (text, _gold) in enumerate(texts)]
        say(f"    search {kind}: {len(items)} queries, warm-up pass then measured pass")
        timed_pass(store, items, args.k)  # warm-up
        wall, cpu, results = timed_pass(store, items, args.k)
        latency[kind] = stats(wall, cpu)
        if kind == "plain":
            ranks = []
            for (_text, gold), hits in zip(texts[:len(questions)], results):
                ids = [h.movie.id for h in hits]
                ranks.append(ids.index(gold) + 1 if gold in ids else None)
            found = [r for r in ranks if r]
            quality = {"questions": len(ranks), "k": args.k, "hit_rate": round(len(found) / len(ranks), 3),
                       "mrr": round(sum(1 / r for r in found) / len(ranks), 3)}
            title_hits = sum(1 for (_t, gold), hits in zip(texts[len(questions):], results[len(questions):])
                             if hits and hits[0].movie.id == gold)
            quality["titles_first"] = f"{title_hits}/{len(texts) - len(questions)}"
    items = [("", f) for f in browse_queries()]
    say(f"    search browse: {len(items)} filter-only queries, warm-up pass then measured pass")
    timed_pass(store, items, args.k)
    wall, cpu, _ = timed_pass(store, items, args.k)
    latency["browse"] = stats(wall, cpu)
    latency["_load_avg"] = {"before": [round(x, 2) for x in load_before],
                            "after": [round(x, 2) for x in os.getloadavg()]}
    latency["_count"] = store.count()
    if hasattr(store, "close"):
        store.close()
    return latency, quality


# -- data -----------------------------------------------------------------------------------------
def corpus_tag() -> str:
    return hashlib.sha256(generate_movies.CORPUS.read_bytes()).hexdigest()[:8]


def data_file(args, rows: int) -> tuple[Path, dict]:
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    name = f"movies-{rows}-s{args.seed}-g{generate_movies.GENERATOR_VERSION}-c{corpus_tag()}.csv"
    path = args.cache_dir / name
    if path.exists():
        say(f"    data: reusing {path}")
        generated = None
    else:
        say(f"    data: generating {path}")
        generated = generate_movies.generate(rows, path, args.seed)
    info = {"path": str(path), "mb": round(path.stat().st_size / 1e6, 1), "seed": args.seed,
            "generator_version": generate_movies.GENERATOR_VERSION,
            "generate_s": generated["seconds"] if generated else None}
    return path, info


# -- machine notes and the report -----------------------------------------------------------------
def machine_notes(backend: str) -> dict:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu_model = platform.processor()
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    def package(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "movies_assistant"],
                           capture_output=True, text=True).stdout.strip()
    notes = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": cores, "ram_gb": ram_gb, "cpu": cpu_model, "os": platform.platform(),
        "python": platform.python_version(), "tantivy": package("tantivy"),
        "git": commit + (" + uncommitted changes in movies_assistant/" if dirty else ""),
    }
    if backend == "elasticsearch":
        notes["elasticsearch_client"] = package("elasticsearch")
    return notes


def result_path(backend: str, rows: int) -> Path:
    return RESULTS_DIR / f"ingest_search-{backend}-{rows}.json"


def render_section(backend: str) -> str:
    results = sorted((json.loads(p.read_text()) for p in RESULTS_DIR.glob(f"ingest_search-{backend}-*.json")),
                     key=lambda r: r["rows"])
    if not results:
        return ""
    latest = max(results, key=lambda r: r["machine"]["date"])
    m = latest["machine"]
    out = [f"## Ingest and search: `{backend}` backend", "",
           "Written by `benchmarks/ingest_search.py` from `benchmarks/results/ingest_search-"
           f"{backend}-*.json`; do not edit by hand.", "",
           f"Machine (latest run): {m['cores']} cores, {m['ram_gb']} GB RAM, CPU `{m['cpu']}`, "
           f"Python {m['python']}, tantivy {m['tantivy']}"
           + (f", elasticsearch client {m['elasticsearch_client']}" if m.get("elasticsearch_client") else "")
           + f", {m['os']}; {m['date']}; git {m['git']}.", ""]
    commands = sorted({r["command"] for r in results})
    out += ["Command" + ("s" if len(commands) > 1 else "") + ":", "", "```"] + commands + ["```", ""]
    out += ["Data: `benchmarks/generate_movies.py` (the 18,042 real corpus rows first, then real fields "
            "recombined, with the corpus's share of empty fields). A row's `load` column is the 1-minute "
            "load average before/after the ingest: the machine is shared, and a load above the core count "
            "means the run got less than all cores.", ""]
    out += ["### Ingest", "",
            "| rows | CSV MB | ingest s | rows/s | CPU s (use) | peak RSS MB | index MB | load | run |",
            "|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in results:
        i = r["ingest"]
        out.append(f"| {r['rows']:,} | {r['data']['mb']:,} | {i['ingest_s']:.1f} | {i['rows_per_s']:,} | "
                   f"{i['cpu_s']:.0f} ({i['cpu_utilisation']:.2f}) | {i['peak_rss_mb']:,.0f} | "
                   f"{i.get('index_mb', '–')} | {i['load_avg_before'][0]:.1f} → {i['load_avg_after'][0]:.1f} | "
                   f"{r['machine']['date']} |")
    out += ["", "`ingest s` is what `python -m movies_assistant ingest` reports (read, clean, index, commit); "
            "`CPU s` is user+system time of the ingest process and `use` that over its wall time; "
            "`peak RSS` is the process's maximum resident set (getrusage)"
            + (" — for Elasticsearch the Python client only, not the server" if backend == "elasticsearch" else "")
            + ".", ""]
    out += ["### Search latency (warm, k=10)", "",
            "| rows | queries | n | p50 ms | p95 ms | p99 ms | max ms | CPU p50 / p95 ms |",
            "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        for kind, s in r["search"].items():
            if kind.startswith("_"):
                continue
            out.append(f"| {r['rows']:,} | {kind} | {s['n']} | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} | "
                       f"{s['p99_ms']:.1f} | {s['max_ms']:.1f} | {s['cpu_p50_ms']:.1f} / {s['cpu_p95_ms']:.1f} |")
    out += ["", "Queries: 400 ground-truth questions (the first two per film of "
            "`data/ground-truth-retrieval.csv`) and 100 bare titles of ground-truth films, each run "
            "`plain`, with `year+genre` (a decade and one genre), `min_rating` (≥ 7.0) and `person` "
            "(one of 10 well-known names) filters; `browse` is 100 filter-only queries (no text, ranked by "
            "votes). Each set runs once to warm up, then once measured, one query at a time. `CPU` is the "
            "searching thread's CPU time"
            + (" (the client's share only)" if backend == "elasticsearch" else
               ": the query's cost without time spent waiting for a busy CPU") + ".", ""]
    out += ["Retrieval of the ground-truth questions at each size (plain, top 10), a check that the real "
            "films are still found among the generated ones:", "",
            "| rows | questions | hit rate | MRR | titles ranked first |", "|---:|---:|---:|---:|---:|"]
    for r in results:
        q = r["quality"]
        out.append(f"| {r['rows']:,} | {q['questions']} | {q['hit_rate']:.3f} | {q['mrr']:.3f} | "
                   f"{q['titles_first']} |")
    goals = [r for r in results if r.get("goals")]
    if goals:
        out += ["", "### Goals", ""]
        for r in goals:
            for goal, value in r["goals"].items():
                out.append(f"* {r['rows']:,} rows — {goal}: {value}")
    return "\n".join(out) + "\n"


def write_doc(backend: str) -> None:
    start, end = f"<!-- ingest_search:{backend}:start -->", f"<!-- ingest_search:{backend}:end -->"
    section = f"{start}\n{render_section(backend)}{end}\n"
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)


def goals(backend: str, rows: int, ingest: dict, search: dict) -> dict:
    if backend != "local":
        return {}
    out = {}
    if rows >= 720_000:
        met = ingest["ingest_s"] <= GOAL_INGEST_720K_S * rows / 720_000
        out[f"ingest ≤ {GOAL_INGEST_720K_S:.0f} s"] = f"{'met' if met else 'NOT met'} ({ingest['ingest_s']:.1f} s)"
        worst = max((k for k in ("plain", "year+genre", "min_rating", "person")), key=lambda k: search[k]["p95_ms"])
        met = search[worst]["p95_ms"] <= GOAL_P95_MS
        out[f"search p95 ≤ {GOAL_P95_MS:.0f} ms"] = (
            f"{'met' if met else 'NOT met'} (worst: {worst} {search[worst]['p95_ms']:.1f} ms; "
            + ", ".join(f"{k} {search[k]['p95_ms']:.1f}" for k in ("plain", "year+genre", "min_rating", "person"))
            + ")")
    return out


# -- main -----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_ingest"]:
        return child_ingest(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--backend", choices=("local", "elasticsearch"), default="local")
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 720_000], help="corpus sizes")
    parser.add_argument("--elastic-url", default=os.environ.get("ELASTIC_URL", "http://localhost:9200"))
    parser.add_argument("--index-name", default="movies-bench",
                        help="Elasticsearch alias to build (default keeps clear of the app's 'movies')")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="generated CSVs, kept for reuse")
    parser.add_argument("--work-dir", type=Path, default=None, help="where indexes are built (default: a temp dir)")
    parser.add_argument("--keep-index", action="store_true", help="do not delete the benchmark indexes")
    parser.add_argument("--no-doc", action="store_true", help=f"do not rewrite {DOC.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    from rich.console import Console

    console = Console(stderr=True)
    command = ".venv/bin/python benchmarks/ingest_search.py " + " ".join(argv)
    work = Path(tempfile.mkdtemp(prefix="ingest-search-", dir=args.work_dir))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    try:
        for rows in args.rows:
            console.rule(f"{args.backend}: {rows:,} rows")
            data, data_info = data_file(args, rows)
            index_dir = work / f"index-{rows}"
            say(f"    ingest: {data.name} -> {args.backend} "
                + (str(index_dir) if args.backend == "local" else f"{args.elastic_url} {args.index_name}"))
            ingest = run_ingest(args, data, index_dir)
            say(f"    ingest: {ingest['ingest_s']:.1f} s, {ingest['rows_per_s']:,} rows/s, "
                f"CPU {ingest['cpu_s']:.0f} s, peak RSS {ingest['peak_rss_mb']:,.0f} MB")
            search, quality = run_search(args, index_dir)
            for kind, s in search.items():
                if not kind.startswith("_"):
                    say(f"    {kind:>10}: p50 {s['p50_ms']:6.1f}  p95 {s['p95_ms']:6.1f}  "
                        f"p99 {s['p99_ms']:6.1f} ms  (CPU p95 {s['cpu_p95_ms']:.1f})")
            say(f"    ground truth: hit rate {quality['hit_rate']:.3f}, MRR {quality['mrr']:.3f}")
            result = {"backend": args.backend, "rows": rows, "command": command, "machine": machine_notes(args.backend),
                      "data": data_info, "ingest": ingest, "search": search, "quality": quality,
                      "goals": goals(args.backend, rows, ingest, search)}
            result_path(args.backend, rows).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
            say(f"    saved {result_path(args.backend, rows).relative_to(ROOT)}")
            if not args.keep_index:
                if args.backend == "local":
                    shutil.rmtree(index_dir, ignore_errors=True)
                else:
                    store = open_backend(args.backend, index_dir, args.elastic_url, args.index_name)
                    if hasattr(store, "drop"):
                        store.drop()
        if not args.no_doc:
            write_doc(args.backend)
            say(f"updated {DOC.relative_to(ROOT)}")
    finally:
        if not args.keep_index:
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"indexes kept in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
