"""Commands registered on the app (`python -m movies_assistant --help`): ingest, embed, init-db, serve, search,
ask, evaluate, evaluate-conversations."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from rich.console import Console

from .config import CONVERSATIONS, DEFAULT_GROUND_TRUTH, EXTRA_GROUND_TRUTH
from .evaluate import APP_METHODS, SPLITS
from .logstore import LogStoreUnavailable
from .movies import CSVFormatError
from .schemas import question_text
from .search import METHODS, SearchUnavailable


def _services():
    return current_app.extensions["movies_assistant"]


def register(app: Flask) -> None:
    app.cli.add_command(ingest_command)
    app.cli.add_command(embed_command)
    app.cli.add_command(init_db_command)
    app.cli.add_command(serve_command)
    app.cli.add_command(search_command)
    app.cli.add_command(ask_command)
    app.cli.add_command(evaluate_command)
    app.cli.add_command(evaluate_conversations_command)


def _open_stores(settings, backends: tuple[str, ...]) -> dict:
    """The search store of each backend (default: SEARCH_BACKEND), each checked to have an index."""
    from dataclasses import replace

    from .search import open_store

    stores = {}
    for backend in backends or (settings.search_backend,):
        store = stores[backend] = open_store(replace(settings, search_backend=backend))
        try:
            if not store.exists():
                raise click.ClickException(f"no {backend} index yet: build it with `ingest` first")
        except SearchUnavailable as exc:
            raise click.ClickException(str(exc)) from None
    return stores


@click.command("ingest", short_help="Build the search index and its vectors from a CSV.")
@with_appcontext
@click.option("--data", "data_path", type=click.Path(path_type=Path), help="CSV or CSV.gz (default: DATA_PATH).")
@click.option("--if-missing", is_flag=True, help="Do nothing when a servable index exists (a damaged one is rebuilt).")
@click.option("--no-vectors", is_flag=True, help="Skip the vectors for dense and hybrid search (`embed` adds them).")
def ingest_command(data_path: Path | None, if_missing: bool, no_vectors: bool) -> None:
    """Build the search index from a Kaggle 'Millions of Movies'-style CSV, then its vectors."""
    from .ingest import ingest

    svc = _services()
    damage = _damaged(svc.store) if if_missing and svc.store.exists() else None
    if damage:
        click.echo(f"the index cannot be served ({damage}); rebuilding it")
    elif if_missing and svc.store.exists():
        click.echo(f"index exists ({svc.store.count():,} movies); skipping ingest")
        if not no_vectors and not svc.store.has_vectors() and svc.store.embedder.available():
            _write_vectors(data_path or svc.settings.data_path, None)  # an index from before vectors existed
        return
    path = data_path or svc.settings.data_path
    try:
        summary = ingest(path, svc.store, Console(stderr=True))
    except (CSVFormatError, SearchUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    for line in summary.lines():
        click.echo(line)
    if no_vectors:
        return
    if not svc.store.embedder.available():
        click.echo("no embedding model installed: lexical search only (see `embed`)")
        return
    _write_vectors(path, None)


def _damaged(store) -> str | None:
    """Why the index cannot be served as it is (so `ingest --if-missing` rebuilds it), or None."""
    try:
        store.count()
        return "; ".join(store.problems()) or None
    except SearchUnavailable as exc:
        return str(exc)


@click.command("embed", short_help="Add the vectors for dense and hybrid search.")
@with_appcontext
@click.option("--data", "data_path", type=click.Path(path_type=Path), help="CSV or CSV.gz (default: DATA_PATH).")
@click.option("--export", "export_path", type=click.Path(path_type=Path), default=None, metavar="FOLDER",
              help="Also write these vectors to FOLDER/movie-vectors-<model>.npz, one file per model "
                   "(like the shipped vectors in data/).")
def embed_command(data_path: Path | None, export_path: Path | None) -> None:
    """Give the indexed movies their vectors (dense and hybrid search); resumable, reuses stored vectors."""
    _write_vectors(data_path or _services().settings.data_path, export_path)


def _write_vectors(path: Path, export_path: Path | None) -> None:
    import numpy as np

    from .embeddings import EmbeddingUnavailable
    from .ingest import index_vectors
    from .vectors import ShippedVectors, VectorCache, write_shipped

    svc = _services()
    embedder = svc.store.embedder
    if export_path and export_path.exists() and not export_path.is_dir():
        raise click.ClickException(f"--export takes a folder (the files are movie-vectors-<model>.npz in it), "
                                   f"and {export_path} is a file")
    collected: list | None = [] if export_path else None
    try:
        embedder.load()  # a clear error when the model files are missing
        cache = VectorCache(svc.settings.vector_cache_file, embedder.model_id)
        shipped = ShippedVectors(svc.settings.vectors_dir, embedder)
        summary = index_vectors(path, svc.store, embedder, cache, shipped, Console(stderr=True), collect=collected)
        cache.close()
    except (CSVFormatError, SearchUnavailable, EmbeddingUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    for line in summary.lines():
        click.echo(line)
    if export_path:
        files = write_shipped(export_path, np.concatenate([c.ids for c in collected]),
                              np.concatenate([c.hashes for c in collected]),
                              np.concatenate([c.vectors for c in collected]), embedder)
        click.echo(f"wrote {summary.movies:,} vectors to {', '.join(str(f) for f in files)}")


@click.command("init-db", short_help="Create or upgrade the log database schema.")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the log database schema (numbered migrations; never drops data)."""
    svc = _services()
    try:
        applied = svc.log_store.migrate()
    except LogStoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    done = ", ".join(map(str, applied)) if applied else "none (up to date)"
    click.echo(f"log store {svc.log_store.describe()}: applied migrations {done}")


@click.command("serve", short_help="Serve the API with gunicorn.")
@with_appcontext
@click.option("--host", default=None, help="Address to listen on (default: BIND_HOST, 127.0.0.1).")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def serve_command(host: str | None, port: int, workers: int, threads: int) -> None:
    """Serve the API with gunicorn."""
    from .server import serve

    serve(current_app._get_current_object(), host or _services().settings.bind_host, port, workers, threads)


@click.command("search", short_help="Search the index directly (no model).")
@with_appcontext
@click.argument("query")
@click.option("-k", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--method", type=click.Choice(METHODS), default=None, help="Ranking (default: SEARCH_METHOD).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def search_command(query: str, k: int, method: str | None, as_json: bool) -> None:
    """Search the index directly (no model), as `GET /search` does: the filters the query states apply."""
    try:
        found = _services().retriever.search(query, k=k, method=method)
    except SearchUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    hits = found.hits
    if as_json:
        click.echo(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
        return
    if filters := found.filters.to_dict():
        shown = (f"{name} {'/'.join(value) if isinstance(value, list) else value}" for name, value in filters.items())
        click.echo("filters: " + ", ".join(shown), err=True)
    for i, hit in enumerate(hits, 1):
        click.echo(f"{i:2}. {hit.movie.label()}  [id {hit.movie.id}, score {hit.score:.2f}]")


@click.command("ask", short_help="Answer one question (logged like an API request).")
@with_appcontext
@click.argument("question")
@click.option("--conversation-id", default=None, help="Continue an earlier conversation.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON the API would return.")
def ask_command(question: str, conversation_id: str | None, as_json: bool) -> None:
    """Answer one question (logged like an API request)."""
    from .llm import ModelUnavailable
    from .logstore import UnknownConversation

    try:
        question = question_text(question)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="QUESTION") from None
    try:
        answer = _services().assistant.answer(question, conversation_id)
    except (SearchUnavailable, ModelUnavailable, LogStoreUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    except UnknownConversation:
        raise click.ClickException(f"unknown conversation id {conversation_id}") from None
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(answer.answer)
    click.echo("\nSources: " + "; ".join(f"{s['title']} ({s['year']})" for s in answer.sources[:5]))
    click.echo(f"conversation {answer.conversation_id} · model {answer.model}", err=True)
    sys.stdout.flush()


@click.command("evaluate", short_help="Measure retrieval quality by method and backend.")
@with_appcontext
@click.option("--ground-truth", "ground_truths", multiple=True, type=click.Path(path_type=Path),
              help="CSV with id,question[,type,split,constraints]; repeatable (default: the original "
                   "questions, plus data/ground-truth-extra.csv when it exists).")
@click.option("--backend", "backends", multiple=True, type=click.Choice(["local", "elasticsearch"]),
              help="Search backend; repeatable (default: SEARCH_BACKEND).")
@click.option("--method", "methods", multiple=True, type=click.Choice(APP_METHODS),
              help="Search method; repeatable (default: every method the store has). The baseline always runs.")
@click.option("--split", default="all", show_default=True, type=click.Choice(SPLITS + ("all",)),
              help="Evaluate the train questions, the held-out test questions, or all.")
@click.option("-k", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write the table as Markdown to this file.")
def evaluate_command(ground_truths: tuple[Path, ...], backends: tuple[str, ...], methods: tuple[str, ...],
                     split: str, k: int, as_json: bool, output: Path | None) -> None:
    """Hit rate@k, MRR and constraint satisfaction per method, backend and question type, beside the baseline."""
    from rich.progress import Progress
    from rich.table import Table

    from .evaluate import cell, evaluate_all, load_ground_truth, markdown_table, methods_to_run, table_rows

    settings = _services().settings
    paths = list(ground_truths) or [p for p in (DEFAULT_GROUND_TRUTH, EXTRA_GROUND_TRUTH) if p.exists()]
    questions = []
    for path in paths:
        try:
            questions += load_ground_truth(path)
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"cannot read {path}: {exc}") from None
    questions = [q for q in questions if split in ("all", q.split)]
    if not questions:
        raise click.ClickException(f"no {split} questions in {', '.join(map(str, paths))}")
    stores = _open_stores(settings, backends)
    runs_planned = len(stores) * len(methods_to_run(methods))

    console = Console(stderr=True)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("evaluating", total=runs_planned * len(questions))
        try:
            runs, notes = evaluate_all(stores, questions, k, methods, advance=lambda: progress.advance(task))
        except SearchUnavailable as exc:
            raise click.ClickException(f"search failed: {exc}") from None
    for note in notes:
        console.print(f"[yellow]{note}")
    if not runs:
        raise click.ClickException("no search method could run")
    rows = table_rows(runs)
    if output:
        try:
            output.write_text(f"{len(questions)} {split} questions from {', '.join(p.name for p in paths)}, "
                              f"k={k}\n\n" + markdown_table(rows, k), encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc}") from None
    if as_json:
        click.echo(json.dumps({"ground_truth": [str(p) for p in paths], "k": k, "split": split, "rows": rows},
                              indent=2))
        return
    table = Table(title=f"{len(questions)} {split} questions from {', '.join(p.name for p in paths)}, k={k}")
    for name in ("backend", "method", "type", "questions", f"hit rate@{k}", "MRR", "vs baseline",
                 "constraints ok", "p50 ms", "p95 ms"):
        table.add_column(name, justify="left" if name in ("backend", "method", "type") else "right")
    for r in rows:
        table.add_row(r["backend"], r["method"], r["type"], str(r["questions"]), cell(r, "hit_rate"), cell(r, "mrr"),
                      cell(r, "vs_baseline"), cell(r, "constraint_satisfaction"), f"{r['p50_ms']:.1f}",
                      f"{r['p95_ms']:.1f}")
    Console(width=max(Console().width, 130)).print(table)


@click.command("evaluate-conversations", short_help="Measure answers over multi-turn conversations.")
@with_appcontext
@click.option("--conversations", "path", type=click.Path(path_type=Path, dir_okay=False), default=CONVERSATIONS,
              show_default=True, help="JSON Lines file, one conversation per line (see docs/conversations.md).")
@click.option("--backend", "backends", multiple=True, type=click.Choice(["local", "elasticsearch"]),
              help="Search backend; repeatable (default: SEARCH_BACKEND).")
@click.option("--split", default="all", show_default=True, type=click.Choice(SPLITS + ("all",)),
              help="Run the train conversations, the held-out test conversations, or all.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Only the first N conversations (of the split).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the rows and every failed turn).")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write the pass rates and failure counts as Markdown to this file.")
def evaluate_conversations_command(path: Path, backends: tuple[str, ...], split: str, limit: int | None,
                                   as_json: bool, output: Path | None) -> None:
    """Run whole conversations through the assistant (no model) and report pass rates per use case and backend."""
    from rich.progress import Progress
    from rich.table import Table

    from .conversation_eval import failure_table, load_conversations, markdown_table, report, run_conversations

    settings = _services().settings
    try:
        conversations = load_conversations(path)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
    conversations = [c for c in conversations if split in ("all", c.split)][:limit]
    if not conversations:
        raise click.ClickException(f"no {split} conversations in {path}")
    stores = _open_stores(settings, backends)
    turns = sum(len(c.turns) for c in conversations)
    console = Console(stderr=True)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("conversations", total=len(stores) * turns)
        try:
            results = run_conversations(stores, conversations, settings, advance=lambda: progress.advance(task))
        except (SearchUnavailable, LogStoreUnavailable) as exc:
            raise click.ClickException(f"the assistant failed: {exc}") from None
    summary = report(results)
    title = f"{len(conversations)} {split} conversations ({turns} turns) from {path.name}"
    if output:
        try:
            output.write_text(f"{title}\n\n" + markdown_table(summary["rows"]) + "\nFailed expectations:\n\n"
                              + failure_table(summary["rows"]), encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc}") from None
    if as_json:
        click.echo(json.dumps({"conversations": str(path), "split": split, **summary}, ensure_ascii=False, indent=2))
        return
    table = Table(title=title)
    for name in ("backend", "split", "use case", "turns", "passed", "pass rate", "failed expectations"):
        table.add_column(name, justify="right" if name in ("turns", "passed", "pass rate") else "left")
    for r in summary["rows"]:
        table.add_row(r["backend"], r["split"], r["use_case"], str(r["turns"]), str(r["passed"]),
                      f"{r['pass_rate']:.1%}", ", ".join(f"{k} {n}" for k, n in r["failures"].items()))
    Console(width=max(Console().width, 130)).print(table)
