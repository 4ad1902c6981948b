"""Ask a running Movies Assistant questions from the terminal and rate its answers.

    python cli.py                       # interactive: ask, read the answer, rate it with /good or /bad
    python cli.py --random              # the prompt is prefilled with a question a person might ask
    python cli.py --question "Before Sunrise actors" [--feedback 1|-1] [--json]   # ask once

Answers stream as the model writes them (--no-stream waits for the whole answer); retrieved films the
answer does not name follow it. Questions continue the conversation, so follow-ups ("who directed it?") work.
The server is taken from --url, else MOVIES_ASSISTANT_URL, else http://localhost:5000.
At the prompt: /good or /bad rates the last answer, /new starts a new conversation, /help lists the
commands, /exit (or Ctrl-D / Ctrl-C) quits. Rating is never asked for, so a long conversation is not interrupted.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys

import questionary
from rich.console import Console
from rich.table import Table

from movies_assistant import TMDB_ATTRIBUTION
from movies_assistant.client import DEFAULT_URL, Client, ClientError, MAX_SOURCES_SHOWN, ground_truth_questions
from movies_assistant.config import EXTRA_GROUND_TRUTH

EXIT_WORDS = {"exit", "quit", "q", "/exit", "/quit"}
NEW_WORDS = {"new", "/new"}
HELP_WORDS = {"help", "/help", "?"}
RATINGS = {"/good": 1, "/bad": -1}
COMMANDS = [
    ("/good", "rate the last answer as good"),
    ("/bad", "rate the last answer as bad"),
    ("/new", "start a new conversation"),
    ("/help", "show these commands"),
    ("/exit", "quit (also Ctrl-D or Ctrl-C)"),
]
# The hand-written questions of people looking for a film by its cast, a filmography or filters
# (data/ground-truth-extra.csv); its plot paraphrases and the original generated questions read less naturally.
ASKED_BY_PEOPLE = ("person", "filmography", "constraint")

console = Console(highlight=False, soft_wrap=True)


class Printer:
    """Prints streamed chunks as they come and remembers what was shown."""

    def __init__(self):
        self.shown = ""

    def __call__(self, text: str) -> None:
        self.shown += text
        print(text, end="", flush=True)

    def reset(self) -> None:
        self.shown = ""


def source_label(source: dict) -> str:
    return f"{source.get('title', '?')} ({source['year']})" if source.get("year") else source.get("title", "?")


def unnamed_sources(answer_text: str, sources: list[dict]) -> list[dict]:
    """The retrieved films the answer does not mention by title, so a listed filmography is not shown twice."""
    return [s for s in sources
            if not s.get("title") or not re.search(rf"(?<!\w){re.escape(s['title'])}(?!\w)", answer_text)]


def show_sources(answer: dict) -> None:
    sources = answer.get("sources") or []
    rest = unnamed_sources(answer.get("answer") or "", sources)
    if not rest:
        return
    label = "Also retrieved:" if len(rest) < len(sources) else "Sources:"
    shown = ", ".join(source_label(s) for s in rest[:MAX_SOURCES_SHOWN])
    more = f" and {len(rest) - MAX_SOURCES_SHOWN} more" if len(rest) > MAX_SOURCES_SHOWN else ""
    console.print(f"{label} {shown}{more}", style="dim", markup=False)


def show_streamed(answer: dict, printer: Printer | None) -> None:
    """After an answer: the correction (if the grounding check edited it) and the sources it does not name."""
    if printer is None:
        console.print(answer.get("answer", "(no answer)"), markup=False)
    else:
        print()
        if answer.get("answer", "").strip() != printer.shown.strip():
            unknown = ", ".join((answer.get("grounding") or {}).get("unknown_titles") or [])
            console.print(f"\n[edited: it named films outside the records ({unknown}); corrected answer:]",
                          style="yellow", markup=False)
            console.print(answer.get("answer"), markup=False)
    print()
    show_sources(answer)


def show_commands() -> None:
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    for name, what in COMMANDS:
        table.add_row(f"[bold]{name}[/]", what)
    console.print(table)


def describe(answer: dict) -> str:
    line = f"conversation {answer['conversation_id']} · model {answer.get('model')}"
    ttft = (answer.get("timing") or {}).get("time_to_first_token")
    if ttft is not None:
        line += f" · first token {ttft:.2f} s"
    return line


def ask_once(client: Client, question: str, conversation_id: str | None, feedback: int | None,
             as_json: bool, stream: bool = True) -> int:
    """Non-interactive mode: one question (and optional feedback); returns the exit code."""
    printer = Printer() if stream and not as_json else None
    client.on_token = printer
    try:
        answer = client.ask(question, conversation_id)
        if feedback:
            answer["feedback"] = client.feedback(answer["conversation_id"], feedback, answer.get("answer_id"))
    except ClientError as exc:
        if printer is not None and printer.shown:
            print()
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        show_streamed(answer, printer)
        print(f"\n{describe(answer)}", file=sys.stderr)
        if feedback:
            print(f"feedback {feedback:+d} recorded", file=sys.stderr)
    return 0


def rate(client: Client, answer: dict | None, value: int) -> None:
    if answer is None:
        console.print("Nothing to rate yet: ask a question first.", style="yellow")
        return
    try:
        client.feedback(answer["conversation_id"], value, answer.get("answer_id"))
    except ClientError as exc:
        console.print(f"Error: {exc}", style="red", markup=False)
        return
    console.print(f"Thanks: the last answer is rated {'good' if value > 0 else 'bad'}.", style="green")


def interactive(client: Client, use_random: bool = False, new_each_time: bool = False, stream: bool = True,
                **io) -> int:
    """The question / answer loop; the prompt also takes the commands. `io` (input=, output=) goes to questionary."""
    console.print("[bold]Movies Assistant[/]: ask about movies. "
                  "[bold]/good[/] or [bold]/bad[/] rates the last answer, [bold]/help[/] lists the commands.")
    console.print(TMDB_ATTRIBUTION, style="dim", markup=False)
    printer = Printer() if stream else None
    client.on_token = printer
    conversation_id = None
    last_answer = None
    try:
        questions = ground_truth_questions(EXTRA_GROUND_TRUTH, ASKED_BY_PEOPLE) if use_random else []
    except ClientError as exc:
        console.print(f"Error: {exc}", style="red", markup=False)
        return 1
    try:
        while True:
            default = random.choice(questions) if questions else ""
            question = (questionary.text("Your question:", default=default, **io).unsafe_ask() or "").strip()
            command = question.lower()
            if not question:
                continue
            if command in EXIT_WORDS:
                break
            if command in NEW_WORDS:
                conversation_id, last_answer = None, None
                console.print("Started a new conversation.", style="green")
                continue
            if command in HELP_WORDS:
                show_commands()
                continue
            if command in RATINGS:
                rate(client, last_answer, RATINGS[command])
                continue
            if command.startswith("/") and " " not in command:
                console.print(f"Unknown command {question}; /help lists the commands.", style="yellow",
                              markup=False)
                continue
            if printer is not None:
                printer.reset()
                print()
            try:
                answer = client.ask(question, None if new_each_time else conversation_id)
            except ClientError as exc:
                if printer is not None and printer.shown:
                    print()
                console.print(f"Error: {exc}", style="red", markup=False)
                continue
            conversation_id, last_answer = answer["conversation_id"], answer
            show_streamed(answer, printer)
    except (KeyboardInterrupt, EOFError):
        print()
    console.print("Bye.")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=None, help=f"API base URL (default: $MOVIES_ASSISTANT_URL or {DEFAULT_URL})")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--random", action="store_true", help="prefill the prompt with questions a person might ask (cast, filmographies, filters)")
    mode.add_argument("--question", help="ask this one question and exit")
    parser.add_argument("--new", action="store_true", help="interactive: start a new conversation for every question")
    parser.add_argument("--conversation-id", help="with --question: continue this conversation")
    parser.add_argument("--feedback", type=int, choices=(1, -1), help="with --question: rate the answer")
    parser.add_argument("--json", action="store_true", help="with --question: print the API's JSON")
    parser.add_argument("--no-stream", dest="stream", action="store_false",
                        help="wait for the whole answer instead of printing it as it streams")
    args = parser.parse_args(argv)
    if args.question is None and (args.feedback or args.json or args.conversation_id):
        parser.error("--feedback, --json and --conversation-id need --question")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    client = Client(args.url)
    if args.question is not None:
        return ask_once(client, args.question, args.conversation_id, args.feedback, args.json, args.stream)
    return interactive(client, use_random=args.random, new_each_time=args.new, stream=args.stream)


if __name__ == "__main__":
    sys.exit(main())
