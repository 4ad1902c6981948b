"""Check question understanding on the constraint and filmography rows of data/ground-truth-extra.csv.

    python scripts/measure_ground_truth.py [--split train|test|all] [-k 10] [--json]

Uses the index the settings point at (INSTANCE_DIR / SEARCH_BACKEND ...; build it with
`python -m movies_assistant ingest`). Hit rate, MRR and constraint satisfaction for every question
type come from `python -m movies_assistant evaluate`; this adds, for constraint and filmography
questions: the share of the top k the app retrieves that satisfy every stated constraint, how many
questions were parsed into exactly the stated constraints, and how many got no results; for
filmographies also whether the list is complete (every film the index has for them).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from movies_assistant.config import Settings  # noqa: E402
from movies_assistant.conversation import resolve  # noqa: E402
from movies_assistant.retrieval import FILMOGRAPHY_LIMIT, Retriever  # noqa: E402
from movies_assistant.search import Filters, open_store  # noqa: E402
from movies_assistant.search.base import normalize_name  # noqa: E402
from scripts.check_ground_truth import parse_constraints, read_rows  # noqa: E402


def app_retrieval(retriever: Retriever):
    """The films the app would answer `question` from, as a new conversation."""
    def retrieve(question: str):
        plan = resolve(question, retriever.understand(question), [], retriever.store)
        return plan.understanding, retriever.retrieve(question, plan.understanding, plan).movies
    return retrieve


def same_constraints(parsed: Filters, wanted: Filters) -> bool:
    """Equal up to the order of genres and the spelling of the person (case, accents)."""
    def key(f: Filters) -> dict:
        return {**f.to_dict(), "genres": sorted(f.genres), "person": normalize_name(f.person or "")}
    return key(parsed) == key(wanted)


def constraint_scores(rows: list[dict], retrieve, store, k: int) -> dict:
    satisfied = shown = parsed = empty = complete = 0
    for row in rows:
        wanted = parse_constraints(row["constraints"])
        u, movies = retrieve(row["question"])
        top = movies[:k]
        shown += len(top)
        satisfied += sum(wanted.accepts(m) for m in top)
        parsed += same_constraints(u.filters, wanted)
        empty += not top
        if row["type"] == "filmography":
            every = {h.movie.id for h in store.search("", wanted, k=FILMOGRAPHY_LIMIT)}
            complete += {m.id for m in movies} == every
    out = {"questions": len(rows), "satisfied_share": round(satisfied / shown, 4) if shown else 0.0,
           "parsed_exactly": parsed, "no_results": empty}
    if rows and rows[0]["type"] == "filmography":
        out["complete"] = complete
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ground-truth", type=Path, default=ROOT / "data" / "ground-truth-extra.csv")
    parser.add_argument("--split", choices=("train", "test", "all"), default="all")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    store = open_store(settings)
    retrieve = app_retrieval(Retriever(store, top_k=args.k))
    rows = [r for r in read_rows(args.ground_truth) if args.split in ("all", r["split"])]
    report = {"split": args.split, "k": args.k, "backend": settings.search_backend}
    for kind in ("constraint", "filmography"):
        report[kind] = constraint_scores([r for r in rows if r["type"] == kind], retrieve, store, args.k)
    print(json.dumps(report, indent=2) if args.json else "\n".join(f"{key}: {value}" for key, value in report.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
