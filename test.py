"""Smoke test of a running Movies Assistant: ask one random ground-truth question and print the answer.

    python test.py [--url http://localhost:5000]     # default: $MOVIES_ASSISTANT_URL or localhost:5000
"""

from __future__ import annotations

import argparse
import sys

from movies_assistant.client import DEFAULT_URL, Client, ClientError, format_answer, random_question


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=None, help=f"API base URL (default: $MOVIES_ASSISTANT_URL or {DEFAULT_URL})")
    args = parser.parse_args(argv)
    try:
        question = random_question()
        print(f"Question: {question}\n")
        answer = Client(args.url).ask(question)
    except ClientError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(f"Answer: {format_answer(answer)}")
    print(f"\nconversation {answer['conversation_id']} · model {answer.get('model')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
