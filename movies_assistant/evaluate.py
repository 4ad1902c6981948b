"""Retrieval evaluation: hit rate@k, MRR and constraint satisfaction, per search method and question type.

A ground-truth file is a CSV with `id,question` and optionally `type,split,constraints`. A row with
an `id` is scored for rank (hit rate@k, MRR); a row with `constraints` (a JSON object of `Filters`
fields) is scored for the share of its top-k results that satisfy all of them. Without a `type`
column a row is of type "original" (the original project's questions), and without a `split` column
questions about even movie ids are "train" and odd ones "test" (the tuning convention).

Questions with constraints are retrieved the way the app retrieves them (question understanding,
then the app's `Retriever` with the parsed filters); questions with only a gold id are searched as
typed (see `retriever`). The "baseline" method is the original project's approach: its plain
multi-field query on the question as typed, with no understanding.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable

from .movies import Movie, ReadReport, read_movies
from .retrieval import Retriever
from .search import METHODS, Filters, SearchStore, SearchUnavailable

BASELINE = "baseline"  # the original project's query, run beside every evaluation
APP_METHODS = tuple(m for m in METHODS if m != BASELINE)  # how the app can search
SPLITS = ("train", "test")
FILTER_FIELDS = {f.name for f in fields(Filters)}


@dataclass(frozen=True)
class Question:
    text: str
    gold_id: int | None  # the film that should rank first; None for a pure constraint question
    type: str
    split: str
    constraints: Filters | None  # what every result must satisfy; None when the question states nothing


@dataclass
class Scores:
    """Totals of one method on a set of questions; `by_type` holds the same per question type."""

    questions: int = 0
    ranked: int = 0  # questions with a gold id
    hits: int = 0
    reciprocal_rank: float = 0.0
    constrained: int = 0  # questions with constraints
    results_checked: int = 0  # results of constrained questions
    results_satisfying: int = 0
    by_type: dict[str, "Scores"] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list, repr=False)

    def add(self, q: Question, ids: list[int], satisfying: int, seconds: float) -> None:
        for scores in (self, self.by_type.setdefault(q.type, Scores())):
            scores.questions += 1
            scores.latencies.append(seconds)
            if q.gold_id is not None:
                scores.ranked += 1
                if q.gold_id in ids:
                    scores.hits += 1
                    scores.reciprocal_rank += 1.0 / (ids.index(q.gold_id) + 1)
            if q.constraints is not None:
                scores.constrained += 1
                scores.results_checked += len(ids)
                scores.results_satisfying += satisfying

    @property
    def hit_rate(self) -> float:
        return self.hits / self.ranked if self.ranked else 0.0

    @property
    def mrr(self) -> float:
        return self.reciprocal_rank / self.ranked if self.ranked else 0.0

    @property
    def constraint_satisfaction(self) -> float | None:
        """Share of the constrained questions' results that satisfy every stated constraint."""
        return self.results_satisfying / self.results_checked if self.results_checked else None

    def percentile_ms(self, p: float) -> float:
        values = sorted(self.latencies)
        return values[min(len(values) - 1, int(p * len(values)))] * 1000 if values else 0.0

    def to_dict(self) -> dict:
        satisfaction = self.constraint_satisfaction
        out = {"questions": self.questions, "ranked": self.ranked, "hit_rate": round(self.hit_rate, 4),
               "mrr": round(self.mrr, 4), "constrained": self.constrained,
               "constraint_satisfaction": None if satisfaction is None else round(satisfaction, 4),
               "p50_ms": round(self.percentile_ms(0.50), 2), "p95_ms": round(self.percentile_ms(0.95), 2)}
        if self.by_type:
            out["by_type"] = {t: s.to_dict() for t, s in sorted(self.by_type.items())}
        return out


def load_ground_truth(path: Path) -> list[Question]:
    """The questions of one ground-truth CSV; ValueError names the first bad row."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or not {"id", "question"} <= set(rows[0]):
        raise ValueError("expected a CSV with columns id,question (and optionally type,split,constraints)")
    return [_question(row, line) for line, row in enumerate(rows, start=2)]


def _question(row: dict, line: int) -> Question:
    def bad(why: str) -> ValueError:
        return ValueError(f"line {line}: {why}")

    raw_id = (row.get("id") or "").strip()
    if raw_id and not raw_id.isdigit():
        raise bad(f"id must be a TMDB id (digits), not {raw_id!r}")
    gold_id = int(raw_id) if raw_id else None
    constraints = _constraints((row.get("constraints") or "").strip(), bad)
    if gold_id is None and constraints is None:
        raise bad("a row needs an id, constraints or both")
    split = (row.get("split") or "").strip() or ("train" if gold_id is not None and gold_id % 2 == 0 else "test")
    if split not in SPLITS:
        raise bad(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    if not (row.get("question") or "").strip():
        raise bad("empty question")
    return Question(row["question"].strip(), gold_id, (row.get("type") or "").strip() or "original", split,
                    constraints)


def _constraints(raw: str, bad: Callable[[str], ValueError]) -> Filters | None:
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise bad(f"constraints are not JSON: {exc}") from None
    unknown = sorted(set(data) - FILTER_FIELDS) if isinstance(data, dict) else []
    problem = ("constraints must be a JSON object" if not isinstance(data, dict)
               else f"unknown constraint(s) {', '.join(unknown)}; known: {', '.join(sorted(FILTER_FIELDS))}" if unknown
               else "constraints.genres must be a list" if not isinstance(data.get("genres", []), list)
               else "")
    if problem:
        raise bad(problem)
    return Filters(**data)


def with_gold_films(movies_path: Path, questions: list[Question], corpus: Path) -> list[Movie]:
    """The movies of `movies_path` plus every gold film of `questions` found in `corpus`.

    How the notebooks build a small index (the 1,000-movie sample) on which every question can still hit.
    """
    movies = [m for chunk in read_movies(movies_path, ReadReport()) for m in chunk]
    have = {m.id for m in movies}
    wanted = {q.gold_id for q in questions if q.gold_id is not None} - have
    return movies + [m for chunk in read_movies(corpus, ReadReport()) for m in chunk if m.id in wanted]


def retriever(store: SearchStore, method: str, k: int) -> Callable[[Question], list[Movie]]:
    """`retrieve(question) -> top k movies`.

    A question with constraints is retrieved the app's way (its `Retriever`, with the parsed
    filters), so what is measured is what users get. A question with only a gold id
    is searched as typed, as the original evaluation did, so its numbers stay comparable with every
    earlier run. The baseline never uses understanding: it is the original project's approach.
    """
    if method not in METHODS:
        raise ValueError(f"there is no {method!r} search method (there are: {', '.join(METHODS)})")

    def as_typed(q: Question) -> list[Movie]:
        return [h.movie for h in store.search(q.text, k=k, method=method)]

    if method == BASELINE:
        return as_typed
    app_retriever = Retriever(store, top_k=k)

    def retrieve(q: Question) -> list[Movie]:
        if q.constraints is None:
            return as_typed(q)
        return app_retriever.retrieve(q.text, app_retriever.understand(q.text), method=method).movies[:k]

    return retrieve


def evaluate(store: SearchStore, questions: list[Question], k: int = 10, method: str = "lexical",
             advance: Callable[[], None] | None = None) -> Scores:
    """Scores of `method` on `questions`; `advance()` is called after each question (a progress bar)."""
    retrieve = retriever(store, method, k)
    total = Scores()
    for q in questions:
        started = time.perf_counter()
        movies = retrieve(q)
        seconds = time.perf_counter() - started
        satisfying = sum(q.constraints.accepts(m) for m in movies) if q.constraints is not None else 0
        total.add(q, [m.id for m in movies], satisfying, seconds)
        if advance:
            advance()
    return total


def ratios(scores: Scores, baseline: Scores) -> dict:
    """Hit rate and MRR as multiples of the baseline's (None where the baseline scored 0)."""
    def ratio(a: float, b: float) -> float | None:
        return round(a / b, 3) if b else None

    return {"hit_rate": ratio(scores.hit_rate, baseline.hit_rate), "mrr": ratio(scores.mrr, baseline.mrr)}


@dataclass
class Run:
    """One method's scores on one backend."""

    backend: str
    method: str
    scores: Scores


def methods_to_run(methods: tuple[str, ...] | list[str] = ()) -> list[str]:
    """The baseline, then `methods`, or every method the app can search with.

    ValueError when a method asked for by name does not exist.
    """
    missing = [m for m in methods if m not in APP_METHODS]
    if missing:
        raise ValueError(f"has no {', '.join(missing)} search (it has: {', '.join(APP_METHODS)})")
    return [BASELINE] + (list(methods) or list(APP_METHODS))


def evaluate_all(stores: dict[str, SearchStore], questions: list[Question], k: int = 10,
                 methods: tuple[str, ...] | list[str] = (), advance: Callable[[], None] | None = None
                 ) -> tuple[list[Run], list[str]]:
    """Every chosen method on every store (named by backend), and notes on what was left out and why.

    A method asked for by name must run (its SearchUnavailable is raised); one run by default that the
    store cannot serve now (dense search before the index has vectors) is left out with a note.
    """
    runs, notes = [], []
    for backend, store in stores.items():
        for method in methods_to_run(methods):
            try:
                runs.append(Run(backend, method, evaluate(store, questions, k, method, advance)))
            except SearchUnavailable as exc:
                if method in methods:
                    raise
                notes.append(f"{backend} {method}: left out ({exc})")
    return runs, notes


def table_rows(runs: list[Run]) -> list[dict]:
    """One row per backend, method and question type ("all" first), with ratios to that backend's baseline."""
    baselines = {r.backend: r.scores for r in runs if r.method == BASELINE}
    rows = []
    for run in runs:
        parts = [("all", run.scores)]
        if len(run.scores.by_type) > 1:
            parts += sorted(run.scores.by_type.items())
        for kind, scores in parts:
            base = baselines.get(run.backend)
            if base is not None and kind != "all":
                base = base.by_type.get(kind)
            summary = {k: v for k, v in scores.to_dict().items() if k != "by_type"}
            vs = ratios(scores, base) if base is not None and run.method != BASELINE else None
            rows.append({"backend": run.backend, "method": run.method, "type": kind, **summary, "vs_baseline": vs})
    return rows


def markdown_table(rows: list[dict], k: int) -> str:
    """The rows as a Markdown table (for docs/)."""
    head = (f"| backend | method | type | questions | hit rate@{k} | MRR | vs baseline (hit rate / MRR) "
            f"| constraints satisfied | p50 / p95 ms |")
    lines = [head, "|" + " --- |" * 9]
    for r in rows:
        lines.append(f"| {r['backend']} | {r['method']} | {r['type']} | {r['questions']} | {cell(r, 'hit_rate')} "
                     f"| {cell(r, 'mrr')} | {cell(r, 'vs_baseline')} | {cell(r, 'constraint_satisfaction')} "
                     f"| {r['p50_ms']:.1f} / {r['p95_ms']:.1f} |")
    return "\n".join(lines) + "\n"


def cell(row: dict, key: str) -> str:
    """One table cell as text; "-" where the number does not apply."""
    value = row[key]
    if key in ("hit_rate", "mrr"):
        return f"{value:.3f}" if row["ranked"] else "-"
    if key == "vs_baseline":
        if not value or not row["ranked"]:
            return "-"
        return " / ".join("-" if v is None else f"{v:.2f}x" for v in (value["hit_rate"], value["mrr"]))
    if key == "constraint_satisfaction":
        return "-" if value is None else f"{value:.1%}"
    return str(value)
