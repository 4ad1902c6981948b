"""Ask a running Movies Assistant questions from the terminal and rate its answers.

    python cli.py                       # interactive: ask, read the answer, give +1 / -1 feedback
    python cli.py --random              # the prompt is prefilled with a random ground-truth question
    python cli.py --question "Before Sunrise actors" [--feedback 1|-1] [--json]   # ask once

Answers stream as the model writes them (--no-stream waits for the whole answer); the sources follow.
Questions continue the conversation, so follow-ups ("who directed it?") work.
The server is taken from --url, else MOVIES_ASSISTANT_URL, else http://localhost:5000.
In the interactive prompt, type "new" to start a new conversation and "exit" (or Ctrl-D / Ctrl-C) to quit.
"""

from __future__ import annotations

import argparse
import json
import random
import sys

import questionary

from movies_assistant import TMDB_ATTRIBUTION
from movies_assistant.client import (DEFAULT_URL, Client, ClientError, format_answer, format_sources,
                                     ground_truth_questions)

EXIT_WORDS = {"exit", "quit", "q"}
NEW_WORDS = {"new", "/new"}
FEEDBACK_CHOICES = [
    questionary.Choice("+1  good answer", value=1),
    questionary.Choice("-1  bad answer", value=-1),
    questionary.Choice("skip", value=0),
]


class Printer:
    """Prints streamed chunks as they come and remembers what was shown."""

    def __init__(self):
        self.shown = ""

    def __call__(self, text: str) -> None:
        self.shown += text
        print(text, end="", flush=True)

    def reset(self) -> None:
        self.shown = ""


def show_streamed(answer: dict, printer: Printer | None) -> None:
    """After a streamed answer: the correction (if the grounding check edited it) and the sources."""
    if printer is None:
        print(format_answer(answer))
        return
    print()
    if answer.get("answer", "").strip() != printer.shown.strip():
        unknown = ", ".join((answer.get("grounding") or {}).get("unknown_titles") or [])
        print(f"\n[edited: it named films outside the records ({unknown}); corrected answer:]\n{answer.get('answer')}")
    print(f"\n{format_sources(answer.get('sources') or [])}")


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


def interactive(client: Client, use_random: bool = False, new_each_time: bool = False, stream: bool = True,
                **io) -> int:
    """The question / answer / feedback loop. `io` (input=, output=) goes to every questionary prompt."""
    print("Movies Assistant: ask about movies. Type 'new' for a new conversation, 'exit' to quit.")
    print(TMDB_ATTRIBUTION)
    printer = Printer() if stream else None
    client.on_token = printer
    conversation_id = None
    try:
        questions = ground_truth_questions() if use_random else []
    except ClientError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    try:
        while True:
            default = random.choice(questions) if questions else ""
            question = questionary.text("Your question:", default=default, **io).unsafe_ask()
            question = (question or "").strip()
            if not question:
                continue
            if question.lower() in EXIT_WORDS:
                break
            if question.lower() in NEW_WORDS:
                conversation_id = None
                print("Started a new conversation.")
                continue
            if printer is not None:
                printer.reset()
                print()
            try:
                answer = client.ask(question, None if new_each_time else conversation_id)
            except ClientError as exc:
                print(f"{chr(10) if printer is not None and printer.shown else ''}Error: {exc}")
                continue
            conversation_id = answer["conversation_id"]
            show_streamed(answer, printer)
            print()
            value = questionary.select("How was this answer?", choices=FEEDBACK_CHOICES, **io).unsafe_ask()
            if value:
                try:
                    client.feedback(conversation_id, value, answer.get("answer_id"))
                    print(f"Thanks, feedback {value:+d} recorded.\n")
                except ClientError as exc:
                    print(f"Error: {exc}")
    except (KeyboardInterrupt, EOFError):
        print()
    print("Bye.")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=None, help=f"API base URL (default: $MOVIES_ASSISTANT_URL or {DEFAULT_URL})")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--random", action="store_true", help="prefill the prompt with random ground-truth questions")
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
