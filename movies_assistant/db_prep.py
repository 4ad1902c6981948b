"""The seed's entry point: initialise the log database and build the search index if it is missing.

    python movies_assistant/db_prep.py [--force]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str]) -> int:
    from movies_assistant.__main__ import main as commands

    commands(["init-db"], standalone_mode=False)
    ingest = ["ingest"] if "--force" in argv else ["ingest", "--if-missing"]
    commands(ingest, standalone_mode=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
