"""Ask a running Movies Assistant questions from the terminal and rate its answers.

    python cli.py                       # interactive: ask, read the answer, give +1 / -1 feedback
    python cli.py --random              # the prompt is prefilled with a random ground-truth question
    python cli.py --question "Before Sunrise actors" [--feedback 1|-1] [--json]   # ask once

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
from movies_assistant.client import DEFAULT_URL, Client, ClientError, format_answer, ground_truth_questions

EXIT_WORDS = {"exit", "quit", "q"}
NEW_WORDS = {"new", "/new"}
FEEDBACK_CHOICES = [
    questionary.Choice("+1  good answer", value=1),
    questionary.Choice("-1  bad answer", value=-1),
    questionary.Choice("skip", value=0),
]


def ask_once(client: Client, question: str, conversation_id: str | None, feedback: int | None,
             as_json: bool) -> int:
    """Non-interactive mode: one question (and optional feedback); returns the exit code."""
    try:
        answer = client.ask(question, conversation_id)
        if feedback:
            answer["feedback"] = client.feedback(answer["conversation_id"], feedback, answer.get("answer_id"))
    except ClientError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer))
        print(f"\nconversation {answer['conversation_id']} · model {answer.get('model')}", file=sys.stderr)
        if feedback:
            print(f"feedback {feedback:+d} recorded", file=sys.stderr)
    return 0


def interactive(client: Client, use_random: bool = False, new_each_time: bool = False, **io) -> int:
    """The question / answer / feedback loop. `io` (input=, output=) goes to every questionary prompt."""
    print("Movies Assistant: ask about movies. Type 'new' for a new conversation, 'exit' to quit.")
    print(TMDB_ATTRIBUTION)
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
            try:
                answer = client.ask(question, None if new_each_time else conversation_id)
            except ClientError as exc:
                print(f"Error: {exc}")
                continue
            conversation_id = answer["conversation_id"]
            print(f"\n{format_answer(answer)}\n")
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
    args = parser.parse_args(argv)
    if args.question is None and (args.feedback or args.json or args.conversation_id):
        parser.error("--feedback, --json and --conversation-id need --question")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    client = Client(args.url)
    if args.question is not None:
        return ask_once(client, args.question, args.conversation_id, args.feedback, args.json)
    return interactive(client, use_random=args.random, new_each_time=args.new)


if __name__ == "__main__":
    sys.exit(main())
