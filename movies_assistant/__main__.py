"""`python -m movies_assistant COMMAND`: the app's command group (see `--help`)."""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from . import __version__
from .config import ConfigError

FLASK_DEVELOPER_OPTIONS = {"env_file", "app", "debug"}


class AppCommands(FlaskGroup):
    """Flask's group (it loads the app and pushes its context) without Flask's developer options.

    The app is always this package's factory, configured from the environment, so `--app`, `--env-file`
    and `--debug` would only mislead, and `--version` is the app's own.
    """

    def __init__(self, **extra):
        super().__init__(add_version_option=False, **extra)
        self.params = [p for p in self.params if p.name not in FLASK_DEVELOPER_OPTIONS]


def _create_app():
    from .app import create_app

    return create_app()


@click.group(cls=AppCommands, create_app=_create_app, add_default_commands=False, load_dotenv=False,
             set_debug_flag=False, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="movies-assistant", message="%(prog)s %(version)s")
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
