"""The terminal clients against a real HTTP server, and the app's own commands.

`cli.py` and `test.py` (repo root) talk HTTP to a werkzeug server started here in a thread, serving
`create_app(settings)`; the composer answers, so no model is needed. The sample lacks Before Sunrise,
so this module's `settings` point at an index of the sample plus that one movie from the corpus.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import io
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from flask.cli import ScriptInfo
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from movies_assistant import TMDB_ATTRIBUTION
from movies_assistant.__main__ import main
from movies_assistant.client import Client
from movies_assistant.config import DEFAULT_CORPUS, ROOT, Settings
from movies_assistant.ingest import ingest
from movies_assistant.search.local import LocalStore

SAMPLE = ROOT / "data" / "movies-sample.csv"
BEFORE_SUNRISE_ID = "76"
DOWN = "cannot reach the Movies Assistant"


@pytest.fixture(scope="module")
def before_sunrise_index(tmp_path_factory) -> Path:
    """The 1,000-movie sample plus Before Sunrise (id 76), taken from the corpus."""
    root = tmp_path_factory.mktemp("cli-index")
    with gzip.open(DEFAULT_CORPUS, "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        extra = next(row for row in reader if row[0] == BEFORE_SUNRISE_ID)
    data = root / "movies.csv"
    with open(SAMPLE, encoding="utf-8", newline="") as src, open(data, "w", encoding="utf-8", newline="") as dst:
        rows = list(csv.reader(src))
        assert rows[0] == header
        csv.writer(dst).writerows(rows + [extra])
    from rich.console import Console

    ingest(data, LocalStore(root / "index"), Console(quiet=True))
    return root / "index"


@pytest.fixture
def settings(before_sunrise_index, tmp_path) -> Settings:
    """Overrides conftest's `settings`, so `app` and `runner` use the index above."""
    return Settings(instance_dir=tmp_path, index_dir=before_sunrise_index, data_path=SAMPLE)


@pytest.fixture
def log(app):
    return app.extensions["movies_assistant"].log


@pytest.fixture
def unused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def run_script(script: str, *args: str, env_url: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MOVIES_ASSISTANT_URL"}
    if env_url:
        env["MOVIES_ASSISTANT_URL"] = env_url
    return subprocess.run([sys.executable, str(ROOT / script), *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)


def load_cli():
    """The root cli.py as a module (its name would clash with movies_assistant.cli as `cli`)."""
    spec = importlib.util.spec_from_file_location("movies_assistant_root_cli", ROOT / "cli.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_ground_truth() -> list[str]:
    with open(ROOT / "data" / "ground-truth-retrieval.csv", newline="", encoding="utf-8") as f:
        return [row["question"] for row in csv.DictReader(f)]


class RecordingClient(Client):
    def __init__(self, url):
        super().__init__(url)
        self.answers: list[dict] = []

    def ask(self, question, conversation_id=None):
        answer = super().ask(question, conversation_id)
        self.answers.append(answer)
        return answer


def drive(cli, client: Client, keys: str, **options) -> int:
    """Run the interactive loop with `keys` as the keyboard and no terminal.

    The keyboard is closed after `keys`, so a loop still waiting for input ends (EOF) instead of hanging.
    """
    with create_pipe_input() as keyboard:
        keyboard.send_text(keys)
        keyboard.close()
        return cli.interactive(client, input=keyboard, output=DummyOutput(), **options)


# -- cli.py --question (non-interactive) ------------------------------------------------------

def test_question_with_feedback(server, log):
    result = run_script("cli.py", "--url", server, "--question", "Before Sunrise actors", "--feedback", "1")
    assert result.returncode == 0, result.stderr
    assert "Ethan Hawke" in result.stdout and "Julie Delpy" in result.stdout
    assert "Before Sunrise (1995)" in result.stdout
    assert "Traceback" not in result.stderr
    conversation_id = result.stderr.split("conversation ")[1].split()[0]
    assert log.feedback_for(conversation_id) == [1]


def test_question_json_uses_env_url(server, log):
    result = run_script("cli.py", "--question", "Before Sunrise actors", "--feedback", "-1", "--json",
                        env_url=server)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["sources"][0]["title"] == "Before Sunrise"
    assert answer["feedback"]["feedback"] == -1
    assert log.feedback_for(answer["conversation_id"]) == [-1]


def test_question_shows_server_error(server):
    result = run_script("cli.py", "--url", server, "--question", "Who directed it?",
                        "--conversation-id", "00000000-0000-0000-0000-000000000000")
    assert result.returncode == 1
    assert "HTTP 404" in result.stderr and "unknown conversation_id" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_question_of_zero_width_characters_is_refused_by_the_server(server, log):
    before = log.count_answers()
    result = run_script("cli.py", "--url", server, "--question", "\u200b\ufeff")
    assert result.returncode == 1
    assert "HTTP 400" in result.stderr and "invisible characters" in result.stderr
    assert log.count_answers() == before


# -- the interactive loop ---------------------------------------------------------------------

def test_interactive_follow_up_and_feedback(server, log, capsys):
    cli, client = load_cli(), RecordingClient(server)
    keys = "Before Sunrise actors\r" + "/bad\r" + "Who directed it?\r" + "/exit\r"
    assert drive(cli, client, keys) == 0
    out = capsys.readouterr().out
    assert TMDB_ATTRIBUTION in out and out.count(TMDB_ATTRIBUTION) == 1
    assert "Ethan Hawke" in out and "Richard Linklater" in out
    first, second = client.answers
    assert first["conversation_id"] == second["conversation_id"]
    assert len(log.history(first["conversation_id"])) == 2
    assert log.feedback_for(first["conversation_id"]) == [-1]
    assert "Bye." in out


def test_interactive_new_conversation(server, log, capsys):
    cli, client = load_cli(), RecordingClient(server)
    keys = "Before Sunrise actors\r" + "/new\r" + "Before Sunrise director\r" + "/good\r" + "exit\r"
    assert drive(cli, client, keys) == 0
    first, second = client.answers
    assert first["conversation_id"] != second["conversation_id"]
    assert log.feedback_for(first["conversation_id"]) == []
    assert log.feedback_for(second["conversation_id"]) == [1]
    assert "Started a new conversation." in capsys.readouterr().out


def test_interactive_random_prefills_a_question_a_person_would_ask(server, capsys):
    cli, client = load_cli(), RecordingClient(server)
    assert drive(cli, client, "\r\r\x03", use_random=True) == 0  # Enter, Enter, Ctrl-C
    with open(ROOT / "data" / "ground-truth-extra.csv", newline="", encoding="utf-8") as f:
        asked = {row["question"]: row["type"] for row in csv.DictReader(f)}
    assert len(client.answers) == 2
    assert all(asked.get(a["question"]) in ("person", "filmography", "constraint") for a in client.answers)


def test_interactive_keeps_going_when_server_is_down(unused_url, capsys):
    cli = load_cli()
    assert drive(cli, Client(unused_url), "Before Sunrise actors\rexit\r") == 0
    out = capsys.readouterr().out
    assert f"{DOWN} at {unused_url}; start it with `make run`" in out
    assert "Bye." in out


@pytest.mark.parametrize("key", ["\x03", "\x04"], ids=["ctrl-c", "ctrl-d"])
def test_interactive_ctrl_c_and_ctrl_d_quit(server, key, capsys):
    cli, client = load_cli(), RecordingClient(server)
    assert drive(cli, client, key + "Before Sunrise actors\r") == 0
    assert client.answers == []  # quit at the first key, before asking
    assert "Bye." in capsys.readouterr().out


# -- test.py ----------------------------------------------------------------------------------

def test_test_script_asks_a_ground_truth_question(server, log):
    result = run_script("test.py", "--url", server)
    assert result.returncode == 0, result.stderr
    question = result.stdout.split("Question: ")[1].splitlines()[0]
    assert question in load_ground_truth()
    assert "Answer: " in result.stdout and "Sources:" in result.stdout
    assert log.count_answers() == 1


# -- server down ------------------------------------------------------------------------------

@pytest.mark.parametrize("script, args", [("cli.py", ["--question", "Before Sunrise actors"]), ("test.py", [])])
def test_server_down(script, args, unused_url):
    result = run_script(script, "--url", unused_url, *args)
    assert result.returncode == 1
    assert f"{DOWN} at {unused_url}; start it with `make run`" in result.stderr
    assert "Traceback" not in result.stderr


# -- the app's own commands (python -m movies_assistant ...) ----------------------------------
# Invoked through the real entry point group (a FlaskGroup, which pushes the app context) for the
# `app` under test. `runner.invoke(args=...)` alone uses the bare `app.cli` group, where these
# commands fail with "Working outside of application context" (they are not `with_appcontext`).

def command(runner, app, *args: str):
    return runner.invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


def test_search_command(runner, app):
    result = command(runner, app, "search", "Before Sunrise")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith(" 1. Before Sunrise (1995)")


def test_ask_command_json(runner, app, log):
    result = command(runner, app, "ask", "Before Sunrise actors", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["sources"][0] == {"id": 76, "title": "Before Sunrise", "year": 1995}
    assert "Ethan Hawke" in answer["answer"]
    assert len(log.history(answer["conversation_id"])) == 1


def test_ask_command_unknown_conversation(runner, app):
    result = command(runner, app, "ask", "Who directed it?", "--conversation-id", "00000000-0000-0000-0000-000000000000")
    assert result.exit_code != 0
    assert "unknown conversation id 00000000-0000-0000-0000-000000000000" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_ask_command_refuses_a_question_of_zero_width_characters(runner, app, log):
    result = command(runner, app, "ask", "\u200b\u2060\ufeff")
    assert result.exit_code == 2  # a usage error
    assert "Invalid value for QUESTION" in result.output and "invisible characters" in result.output
    assert log.count_answers() == 0


def test_ingest_command_missing_column(runner, app, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,genres,overview\n1,Drama,A film without a title column\n", encoding="utf-8")
    result = command(runner, app, "ingest", "--data", str(bad))
    assert result.exit_code != 0
    assert "missing column(s) title" in result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert command(runner, app, "search", "Before Sunrise", "-k", "1").stdout.startswith(" 1. Before Sunrise")


# -- streaming in the terminal ------------------------------------------------------------------

def test_cli_streams_the_answer_then_shows_sources(server, capsys, monkeypatch):
    cli = load_cli()
    chunks = []
    original = cli.Printer.__call__

    def spy(self, text):
        chunks.append(text)
        original(self, text)

    monkeypatch.setattr(cli.Printer, "__call__", spy)
    assert cli.ask_once(Client(server), "Before Sunrise actors", None, None, False) == 0
    captured = capsys.readouterr()
    assert len(chunks) >= 3  # printed piece by piece as the events arrived
    answer = "".join(chunks)
    assert captured.out.startswith(answer) and "Ethan Hawke" in answer
    assert "Before Sunrise (1995)" not in captured.out[len(answer):]  # named in the answer: not repeated
    assert "first token" in captured.err


def test_interactive_streams_follow_ups_and_asks_for_feedback(server, log, capsys):
    cli, client = load_cli(), RecordingClient(server)
    keys = "Who starred in Alien?\r" + "What else has she been in?\r" + "/good\r" + "exit\r"
    assert drive(cli, client, keys) == 0
    out = capsys.readouterr().out
    first, second = client.answers
    assert first["conversation_id"] == second["conversation_id"]
    assert out.count(first["answer"]) == 1 and "Sigourney Weaver has 6 films in the catalogue" in out
    assert out.split("Sigourney Weaver has 6 films")[1].count("Alien (1979)") == 1  # not repeated as a source
    assert log.feedback_for(first["conversation_id"]) == [1]  # skip for the first, +1 for the second


def test_cli_shows_the_corrected_answer_when_the_grounding_check_edited_it(capsys):
    cli = load_cli()
    printer = cli.Printer()
    printer("Alien (1979) is great. Watch The Silent Horizon (2015).")
    cli.show_streamed({"answer": "Alien (1979) is great.", "sources": [{"id": 348, "title": "Alien", "year": 1979}],
                       "grounding": {"unknown_titles": ["The Silent Horizon (2015)"]}}, printer)
    out = capsys.readouterr().out
    assert "[edited: it named films outside the records (The Silent Horizon (2015)); corrected answer:]\n" \
           "Alien (1979) is great." in out


def test_no_stream_waits_for_the_whole_answer(server):
    result = run_script("cli.py", "--url", server, "--question", "Before Sunrise actors", "--no-stream")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Before Sunrise (1995) stars Ethan Hawke")
    assert result.stdout.count("Before Sunrise (1995)") == 1


# -- the command group's own help and version -------------------------------------------------

def test_help_lists_the_app_commands_in_full_without_flask_options(runner):
    result = runner.invoke(main, ["--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    for flask_option in ("--app", "--env-file", "--debug", "Flask"):
        assert flask_option not in result.output
    commands = result.output.split("Commands:\n")[1].splitlines()
    assert {line.split()[0] for line in commands} == {"ask", "embed", "evaluate", "evaluate-conversations", "ingest",
                                                      "init-db", "search", "serve"}
    assert all(not line.endswith("...") and len(line) <= 80 for line in commands), commands


def test_version_is_the_apps_in_a_real_process():
    from movies_assistant import __version__

    result = subprocess.run([sys.executable, "-m", "movies_assistant", "--version"], capture_output=True,
                            text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"movies-assistant {__version__}\n"
    help_result = subprocess.run([sys.executable, "-m", "movies_assistant", "-h"], capture_output=True,
                                 text=True, cwd=ROOT, timeout=60)
    assert "Commands:" in help_result.stdout and "--app" not in help_result.stdout


# -- cli.py in a real terminal (pexpect) ------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\r")


def spawn_cli(url: str, *args: str):
    import pexpect

    env = {k: v for k, v in os.environ.items() if k != "MOVIES_ASSISTANT_URL"}
    env["TERM"] = "xterm-256color"
    child = pexpect.spawn(sys.executable, [str(ROOT / "cli.py"), "--url", url, *args], cwd=str(ROOT), env=env,
                          encoding="utf-8", timeout=30, dimensions=(40, 120))
    child.transcript = io.StringIO()
    child.logfile_read = child.transcript
    return child


def screen_text(child) -> str:
    return ANSI.sub("", child.transcript.getvalue())


def test_terminal_conversation_rates_with_commands_and_never_asks(server, log):
    import pexpect

    child = spawn_cli(server)
    child.expect("Your question:")
    child.sendline("Who starred in Alien?")
    child.expect("Your question:")
    assert "How was this answer?" not in screen_text(child) and "+1" not in screen_text(child)
    child.sendline("What else has she been in?")
    child.expect("Your question:")
    child.sendline("/good")
    child.expect("rated good")
    child.expect("Your question:")
    child.sendline("")  # Enter on an empty prompt: nothing asked, nothing rated
    child.expect("Your question:")
    child.sendline("/help")
    child.expect("/bad")
    child.expect("Your question:")
    child.sendline("/exit")
    child.expect("Bye.")
    child.expect(pexpect.EOF)
    text = screen_text(child)
    filmography = text.split("Sigourney Weaver has 6 films in the catalogue")[1].split("Your question:")[0]
    assert filmography.count("Alien (1979)") == 1  # listed in the answer, not again as a source
    assert "Also retrieved" not in filmography and "Sources" not in filmography
    first = text.split("Alien (1979) stars")[1].split("Your question:")[0]
    assert "Also retrieved: Aliens (1986)" in first  # the films the answer does not name
    assert "Traceback" not in text
    assert log.count_answers() == 2


def test_terminal_random_question_is_one_a_person_would_ask(server):
    child = spawn_cli(server, "--random")
    child.expect("Your question: ")
    child.expect(r"\S")  # the prefilled question is drawn
    child.sendcontrol("c")
    child.expect("Bye.")
    with open(ROOT / "data" / "ground-truth-extra.csv", newline="", encoding="utf-8") as f:
        asked = [row["question"] for row in csv.DictReader(f)
                 if row["type"] in ("person", "filmography", "constraint")]
    shown = screen_text(child).split("Your question: ")[1]
    assert any(shown.startswith(q) for q in asked), shown[:200]
    assert "What is the plot of" not in shown
