"""`python -m movies_assistant COMMAND`: the app's command group (see `--help`)."""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from .config import ConfigError


def _create_app():
    from .app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, load_dotenv=False)
def main() -> None:
    """Movies Assistant: ingest movies, serve the API, search and ask from the shell."""


def run() -> None:
    try:
        main()
    except ConfigError as exc:
        click.echo(f"Error: configuration: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    run()
