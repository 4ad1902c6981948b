"""Validate data/ground-truth-extra.csv against the corpus; exit 1 and list the problems if any.

    python scripts/check_ground_truth.py [--ground-truth FILE] [--data CORPUS]

Every row: a known `type` and `split`; the split rule (within each type, rows alternate train,
test, train... in file order); `id` a corpus film (required except for constraint rows, which have
none); `constraints` a JSON object of `Filters` fields that the gold film satisfies. Constraint rows:
at least MIN_ANSWERS corpus films satisfy them. Paraphrase rows: the question names neither the
title nor anyone in the cast or crew, uses none of the overview's proper names (characters, places
it invents) and copies no run of COPIED_WORDS words from the overview.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from movies_assistant.movies import Movie, ReadReport, read_movies  # noqa: E402
from movies_assistant.search.base import Filters, normalize_title  # noqa: E402

COLUMNS = ["id", "question", "type", "split", "constraints"]
TYPES = ("paraphrase", "person", "filmography", "constraint")
SPLITS = ("train", "test")
MIN_ANSWERS = 10  # a constraint question has at least this many right answers in the corpus
COPIED_WORDS = 5  # a paraphrase shares no run of this many words with the overview
# Capitalised overview words a paraphrase may use: real places, peoples, eras and institutions
# (the check is after invented names: characters, fictional places).
COMMON_PROPER = {
    "Afghanistan", "Alabama", "Alaska", "America", "American", "Americans", "Arizona", "Atlanta", "Australia",
    "Australian", "Baltimore", "Berlin", "Boston", "Brazil", "British", "Brooklyn", "Burmese", "California",
    "Cambridge", "Catholic", "Chicago", "China", "Christmas", "CIA", "Cuba", "Detroit", "Dublin", "Earth",
    "East", "England", "English", "Europe", "European", "FBI", "Flanders", "France", "French", "German",
    "Glasgow", "Harlem", "Harvard", "Hawaii", "Hollywood", "Hong", "Iranian", "Irish", "Italian", "Italy",
    "Japan", "Jesuit", "Jewish", "Jews", "Johannesburg", "Kong", "LA", "London", "Los", "Angeles", "Louisiana",
    "Madrid", "Mexican", "Montana", "Nazi", "Nazis", "New", "York", "Oklahoma", "Pacific", "Paris", "Persia",
    "Persian", "Roman", "Russian", "San", "Francisco", "Scottish", "Secret", "Service", "South", "Soviet",
    "Spain", "Spanish", "Spartan", "Texas", "Tokyo", "US", "Vegas", "Vietnam", "Viking", "Wales", "War",
    "Washington", "World", "II", "Yukon", "Moon", "Hmong", "Korean", "Route", "July", "TV", "Morocco", "Rio",
    "Janeiro", "Stasi", "Church", "Newcastle",
}


def load_corpus(path: Path) -> dict[int, Movie]:
    return {m.id: m for chunk in read_movies(path, ReadReport()) for m in chunk}


def parse_constraints(text: str) -> Filters:
    """The `constraints` cell as Filters; ValueError when it is not a JSON object of Filters fields."""
    if not text.strip():
        return Filters()
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    unknown = set(data) - set(Filters.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    if not isinstance(data.get("genres", []), list):
        raise ValueError("genres must be a list")
    return Filters(**data)


def expected_splits(rows: list[dict]) -> list[str]:
    """The split rule: within each type, in file order, train, test, train, test..."""
    seen: Counter = Counter()
    splits = []
    for row in rows:
        splits.append(SPLITS[seen[row["type"]] % 2])
        seen[row["type"]] += 1
    return splits


def _contains(text: str, phrase: str) -> bool:
    return bool(phrase) and f" {phrase} " in f" {text} "


def paraphrase_problems(question: str, movie: Movie) -> list[str]:
    """What gives the film away (or copies its overview) in a paraphrase question."""
    problems = []
    key = normalize_title(question)
    titles = {normalize_title(movie.title), normalize_title(re.split(r"[:(]| - ", movie.title)[0])}
    problems += [f"names the title ({t!r})" for t in sorted(titles) if _contains(key, t)]
    for person in movie.cast + movie.directors:
        surname = person.split()[-1] if person.split() else ""
        if _contains(key, normalize_title(person)) or (len(surname) > 2 and re.search(rf"\b{re.escape(surname)}\b",
                                                                                      question)):
            problems.append(f"names {person!r}")
    sentences = re.split(r"(?<=[.!?])\s+", movie.overview)
    names = {w for s in sentences for w in re.findall(r"(?<=\s)[A-Z][\w'-]+", s)} - COMMON_PROPER
    problems += [f"uses the overview's name {w!r}" for w in sorted(names) if re.search(rf"\b{re.escape(w)}\b", question)]
    words, overview = key.split(), f" {normalize_title(movie.overview)} "
    for i in range(len(words) - COPIED_WORDS + 1):
        run = " ".join(words[i:i + COPIED_WORDS])
        if f" {run} " in overview:
            problems.append(f"copies the overview: {run!r}")
            break
    return problems


def check(rows: list[dict], corpus: dict[int, Movie]) -> list[str]:
    """Every problem of `rows`, as `line N: ...` messages (empty when the file is valid)."""
    errors = []
    questions: Counter = Counter(r["question"].strip().lower() for r in rows)
    for line, (row, split) in enumerate(zip(rows, expected_splits(rows)), start=2):
        def err(message: str) -> None:
            errors.append(f"line {line}: {message}")

        kind, question = row["type"], row["question"].strip()
        if kind not in TYPES:
            err(f"type {kind!r} is not one of {TYPES}")
            continue
        if row["split"] != split:
            err(f"split is {row['split']!r}, the rule gives {split!r}")
        if not question or questions[question.lower()] > 1:
            err("empty or repeated question")
        try:
            filters = parse_constraints(row["constraints"])
        except ValueError as exc:
            err(f"constraints {row['constraints']!r}: {exc}")
            continue
        movie = None
        if row["id"].strip():
            if kind == "constraint":
                err("a constraint question has no gold id")
            elif not row["id"].isdigit() or int(row["id"]) not in corpus:
                err(f"id {row['id']!r} is not in the corpus")
                continue
            else:
                movie = corpus[int(row["id"])]
        elif kind in ("paraphrase", "person"):
            err(f"a {kind} question needs a gold id")
        if movie is not None and not filters.accepts(movie):
            err(f"the gold film {movie.label()} does not satisfy {filters.to_dict()}")
        if kind in ("person", "filmography") and not filters.person:
            err(f"a {kind} question needs a person constraint")
        if kind == "constraint":
            answers = sum(filters.accepts(m) for m in corpus.values()) if not filters.is_empty() else 0
            if answers < MIN_ANSWERS:
                err(f"{answers} corpus films satisfy {filters.to_dict()}, fewer than {MIN_ANSWERS}")
        if kind == "paraphrase" and movie is not None:
            if not filters.is_empty():
                err("a paraphrase question has no constraints")
            errors += [f"line {line}: {p}" for p in paraphrase_problems(question, movie)]
    return errors


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != COLUMNS:
            raise SystemExit(f"{path}: columns are {reader.fieldnames}, expected {COLUMNS}")
        return list(reader)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ground-truth", type=Path, default=ROOT / "data" / "ground-truth-extra.csv")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "movies-corpus.csv.gz")
    args = parser.parse_args(argv)
    rows = read_rows(args.ground_truth)
    errors = check(rows, load_corpus(args.data))
    for message in errors:
        print(message)
    counts = Counter((r["type"], r["split"]) for r in rows)
    summary = ", ".join(f"{t} {counts[t, 'train']}+{counts[t, 'test']}" for t in TYPES)
    print(f"{args.ground_truth.name}: {len(rows)} rows (train+test: {summary}); {len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
