"""Conversation benchmark: whole conversations run through the Assistant, each turn judged on its expectations.

A conversation file is JSON Lines, one conversation per line: `{"id", "split", "turns": [{"turn",
"text", "use_case", "expect"}]}`. Turns are asked in order in one conversation (the same path as
POST /question with its `conversation_id`), so follow-ups ("who is in it?") see the history. A turn
passes when every expectation it states holds; each failed expectation is counted by its kind, so a
report says what fails, not only how often.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .config import Settings
from .movies import Movie
from .search import Filters, SearchStore

USE_CASES = ("facts", "recommendations", "plots", "reviews", "comparisons", "filmographies", "sentiment", "chat",
             "small_talk")
SPLITS = ("train", "test")
EXPECTATION_KINDS = ("subject", "in_sources", "not_subject", "contains", "constraints", "no_sources",
                     "unknown_film")
# how an answer says that a film is not in the catalogue
NOT_FOUND = re.compile(r"\b(?:couldn't|could not|can't|cannot|did not|didn't) find\b|\bnot in the catalog|"
                       r"\bno (?:record|film|movie) (?:of|called|named|titled)\b|\bisn't in the catalog", re.I)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FilmRef(Strict):
    """A corpus film, by TMDB id; the title and year are there for whoever reads the file."""

    id: int
    title: str
    year: int | None = None


class UnknownFilm(Strict):
    """A film that is not in the catalogue: the answer must say so."""

    title: str
    year: int | None = None


class Constraints(Strict):
    """What every film an answer lists must satisfy: the fields of search `Filters`."""

    year_min: int | None = None
    year_max: int | None = None
    genres: list[str] = Field(default_factory=list)
    exclude_genres: list[str] = Field(default_factory=list)
    language: str | None = None
    min_rating: float | None = None
    min_votes: int | None = None
    max_votes: int | None = None
    runtime_min: int | None = None
    runtime_max: int | None = None
    person: str | None = None

    def filters(self) -> Filters:
        return Filters(**self.model_dump())


class Expectations(Strict):
    subject: FilmRef | None = None  # the answer's first source
    in_sources: list[FilmRef] = Field(default_factory=list)  # every one among the sources
    not_subject: list[FilmRef] = Field(default_factory=list)  # none of them the first source
    contains: list[str] = Field(default_factory=list)  # in the answer text, case-insensitive
    constraints: Constraints | None = None  # met by every source (and there is at least one)
    no_sources: bool = False  # small talk: no film card
    unknown_film: UnknownFilm | None = None

    def films(self) -> list[FilmRef]:
        return ([self.subject] if self.subject else []) + self.in_sources + self.not_subject


class Turn(Strict):
    turn: int = Field(ge=1)
    text: str = Field(min_length=1)
    use_case: Literal[USE_CASES]  # type: ignore[valid-type]
    expect: Expectations


class Conversation(Strict):
    id: str = Field(min_length=1)
    split: Literal[SPLITS]  # type: ignore[valid-type]
    turns: list[Turn] = Field(min_length=1)

    @model_validator(mode="after")
    def numbered_in_order(self) -> "Conversation":
        if [t.turn for t in self.turns] != list(range(1, len(self.turns) + 1)):
            raise ValueError("turns must be numbered 1, 2, 3... in order")
        return self


def load_conversations(path: Path) -> list[Conversation]:
    """The conversations of one JSON Lines file; ValueError names the first bad line and what is wrong."""
    conversations, seen = [], set()
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                conversation = Conversation.model_validate_json(line)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in exc.errors())
                raise ValueError(f"line {number}: {problems}") from None
            if conversation.id in seen:
                raise ValueError(f"line {number}: conversation id {conversation.id!r} is used twice")
            seen.add(conversation.id)
            conversations.append(conversation)
    if not conversations:
        raise ValueError("no conversations in the file")
    return conversations


def failed_expectations(expect: Expectations, answer: str, source_ids: list[int],
                        movies: dict[int, Movie]) -> list[str]:
    """The kinds of `expect` that the answer does not meet (`movies`: the sources' records by id)."""
    first = source_ids[0] if source_ids else None
    text = answer.lower()
    checks = {
        "subject": expect.subject is None or first == expect.subject.id,
        "in_sources": all(f.id in source_ids for f in expect.in_sources),
        "not_subject": first not in {f.id for f in expect.not_subject},
        "contains": all(s.lower() in text for s in expect.contains),
        "constraints": expect.constraints is None or (
            bool(source_ids) and all(i in movies and expect.constraints.filters().accepts(movies[i])
                                     for i in source_ids)),
        "no_sources": not expect.no_sources or not source_ids,
        "unknown_film": expect.unknown_film is None or bool(NOT_FOUND.search(answer)),
    }
    return [kind for kind in EXPECTATION_KINDS if not checks[kind]]


@dataclass
class TurnResult:
    backend: str
    conversation_id: str
    turn: int
    split: str
    use_case: str
    text: str
    failed: list[str]
    answer: str
    sources: list[dict]

    @property
    def passed(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict:
        return {"backend": self.backend, "conversation": self.conversation_id, "turn": self.turn,
                "split": self.split, "use_case": self.use_case, "question": self.text, "passed": self.passed,
                "failed": self.failed, "answer": self.answer, "sources": self.sources[:5]}


def assistant_for(store: SearchStore, settings: Settings, log_dir: Path):
    """The app's Assistant on `store` with no model (the composer) and a throwaway SQLite log store,
    so conversation history works exactly as for POST /question without touching the real logs."""
    from .llm import open_provider
    from .logstore import open_log_store
    from .rag import Assistant

    local = replace(settings, llm_provider="composer", llm_fallback="", judge_provider="none", database_url="",
                    sqlite_path=log_dir / "conversations.sqlite3", instance_dir=log_dir)
    log = open_log_store(local)
    log.ensure_schema()
    return Assistant(store, open_provider(local), log, local.top_k, judge=None, grounding=local.grounding)


def run_conversations(stores: dict[str, SearchStore], conversations: list[Conversation], settings: Settings,
                      advance: Callable[[], None] | None = None) -> list[TurnResult]:
    """Every conversation on every store (named by backend), one result per turn."""
    results = []
    with tempfile.TemporaryDirectory(prefix="conversation-eval-") as tmp:
        for backend, store in stores.items():
            log_dir = Path(tmp) / backend
            log_dir.mkdir()
            assistant = assistant_for(store, settings, log_dir)
            for conversation in conversations:
                conversation_id = None
                for turn in conversation.turns:
                    answer = assistant.answer(turn.text, conversation_id)
                    conversation_id = answer.conversation_id
                    ids = [s["id"] for s in answer.sources]
                    movies = ({m.id: m for m in store.get(ids)} if ids and turn.expect.constraints else {})
                    results.append(TurnResult(backend, conversation.id, turn.turn, conversation.split,
                                              turn.use_case, turn.text,
                                              failed_expectations(turn.expect, answer.answer, ids, movies),
                                              answer.answer, answer.sources))
                    if advance:
                        advance()
    return results


@dataclass
class Tally:
    turns: int = 0
    passed: int = 0
    failures: Counter = field(default_factory=Counter)

    def add(self, result: TurnResult) -> None:
        self.turns += 1
        self.passed += result.passed
        self.failures.update(result.failed)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.turns if self.turns else 0.0


def report(results: list[TurnResult]) -> dict:
    """Pass rates per backend, split and use case ("all" first), and failure counts per expectation kind."""
    tallies: dict[tuple[str, str, str], Tally] = {}
    for r in results:
        for split in ("all", r.split):
            for use_case in ("all", r.use_case):
                tallies.setdefault((r.backend, split, use_case), Tally()).add(r)
    order = {name: i for i, name in enumerate(("all",) + USE_CASES + SPLITS)}
    rows = [{"backend": b, "split": s, "use_case": u, "turns": t.turns, "passed": t.passed,
             "pass_rate": round(t.pass_rate, 4), "failures": {k: t.failures[k] for k in EXPECTATION_KINDS
                                                             if t.failures[k]}}
            for (b, s, u), t in sorted(tallies.items(), key=lambda kv: (kv[0][0], order[kv[0][1]], order[kv[0][2]]))]
    return {"rows": rows, "failed_turns": [r.to_dict() for r in results if not r.passed]}


def markdown_table(rows: list[dict]) -> str:
    """Pass rates as a Markdown table (for docs/): one row per backend and use case, a column per split."""
    splits = [s for s in ("all",) + SPLITS if any(r["split"] == s for r in rows)]
    cells = {(r["backend"], r["use_case"], r["split"]): r for r in rows}
    lines = ["| backend | use case | " + " | ".join(f"{s} (passed / turns)" for s in splits) + " |",
             "|" + " --- |" * (2 + len(splits))]
    for backend, use_case in dict.fromkeys((r["backend"], r["use_case"]) for r in rows):
        parts = []
        for split in splits:
            row = cells.get((backend, use_case, split))
            parts.append(f"{row['pass_rate']:.1%} ({row['passed']}/{row['turns']})" if row else "-")
        lines.append(f"| {backend} | {use_case} | " + " | ".join(parts) + " |")
    return "\n".join(lines) + "\n"


def failure_table(rows: list[dict]) -> str:
    """Failed expectations per kind and backend (all splits) as a Markdown table."""
    totals = {r["backend"]: r["failures"] for r in rows if r["split"] == "all" and r["use_case"] == "all"}
    lines = ["| expectation | " + " | ".join(totals) + " |", "|" + " --- |" * (1 + len(totals))]
    for kind in EXPECTATION_KINDS:
        lines.append(f"| {kind} | " + " | ".join(str(f.get(kind, 0)) for f in totals.values()) + " |")
    return "\n".join(lines) + "\n"

