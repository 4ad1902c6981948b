"""Commands registered on the app (`python -m movies_assistant --help`): ingest, init-db, serve, search, ask."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from rich.console import Console

from .logstore import LogStoreUnavailable
from .movies import CSVFormatError
from .search import SearchUnavailable


def _services():
    return current_app.extensions["movies_assistant"]


def register(app: Flask) -> None:
    app.cli.add_command(ingest_command)
    app.cli.add_command(init_db_command)
    app.cli.add_command(serve_command)
    app.cli.add_command(search_command)
    app.cli.add_command(ask_command)


@click.command("ingest")
@click.option("--data", "data_path", type=click.Path(path_type=Path), help="CSV or CSV.gz (default: DATA_PATH).")
@click.option("--if-missing", is_flag=True, help="Do nothing when an index already exists.")
def ingest_command(data_path: Path | None, if_missing: bool) -> None:
    """Build the search index from a Kaggle 'Millions of Movies'-style CSV."""
    from .ingest import ingest

    svc = _services()
    if if_missing and svc.store.exists():
        click.echo(f"index exists ({svc.store.count():,} movies); skipping ingest")
        return
    path = data_path or svc.settings.data_path
    console = Console(stderr=True)
    try:
        summary = ingest(path, svc.store, console)
    except CSVFormatError as exc:
        raise click.ClickException(str(exc)) from None
    except SearchUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    for line in summary.lines():
        click.echo(line)


@click.command("init-db")
def init_db_command() -> None:
    """Create or upgrade the log database schema (numbered migrations; never drops data)."""
    svc = _services()
    try:
        applied = svc.log_store.migrate()
    except LogStoreUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    done = ", ".join(map(str, applied)) if applied else "none (up to date)"
    click.echo(f"log store {svc.log_store.describe()}: applied migrations {done}")


@click.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def serve_command(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the API with gunicorn."""
    from gunicorn.app.base import BaseApplication

    app = current_app._get_current_object()

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", 120)
            self.cfg.set("accesslog", "-")

        def load(self):
            return app

    Server().run()


@click.command("search")
@click.argument("query")
@click.option("-k", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def search_command(query: str, k: int, as_json: bool) -> None:
    """Search the index directly (no model)."""
    try:
        hits = _services().store.search(query, k=k)
    except SearchUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
        return
    for i, hit in enumerate(hits, 1):
        click.echo(f"{i:2}. {hit.movie.label()}  [id {hit.movie.id}, score {hit.score:.2f}]")


@click.command("ask")
@click.argument("question")
@click.option("--conversation-id", default=None, help="Continue an earlier conversation.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON the API would return.")
def ask_command(question: str, conversation_id: str | None, as_json: bool) -> None:
    """Answer one question (logged like an API request)."""
    from .llm import ModelUnavailable
    from .logstore import UnknownConversation

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
