"""Retrieval evaluation: hit rate@k and MRR of the search store on a ground-truth file.

The ground truth is a CSV with `id,question` (and optionally `type`); a hit means the gold id is
among the top k results of searching the question.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rich.progress import track

from .search import SearchStore


@dataclass
class Scores:
    questions: int = 0
    hits: int = 0
    reciprocal_rank: float = 0.0
    by_type: dict[str, "Scores"] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list, repr=False)

    def add(self, rank: int | None, seconds: float = 0.0) -> None:
        self.questions += 1
        self.latencies.append(seconds)
        if rank is not None:
            self.hits += 1
            self.reciprocal_rank += 1.0 / rank

    @property
    def hit_rate(self) -> float:
        return self.hits / self.questions if self.questions else 0.0

    @property
    def mrr(self) -> float:
        return self.reciprocal_rank / self.questions if self.questions else 0.0

    def percentile_ms(self, p: float) -> float:
        values = sorted(self.latencies)
        return values[min(len(values) - 1, int(p * len(values)))] * 1000 if values else 0.0

    def to_dict(self) -> dict:
        out = {"questions": self.questions, "hit_rate": round(self.hit_rate, 4), "mrr": round(self.mrr, 4),
               "p50_ms": round(self.percentile_ms(0.50), 2), "p95_ms": round(self.percentile_ms(0.95), 2)}
        if self.by_type:
            out["by_type"] = {t: s.to_dict() for t, s in sorted(self.by_type.items())}
        return out


def load_ground_truth(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or not {"id", "question"} <= set(rows[0]):
        raise ValueError(f"{path}: expected a CSV with columns id,question (and optionally type)")
    return rows


def evaluate(store: SearchStore, rows: list[dict], k: int = 10,
             search: Callable[[str, int], list[int]] | None = None, progress: bool = True) -> Scores:
    """Score `search(question, k) -> ids` (default: the store's own search) on `rows`."""
    search = search or (lambda q, n: [h.movie.id for h in store.search(q, k=n)])
    total = Scores()
    iterator = track(rows, description="evaluating", transient=True) if progress else rows
    for row in iterator:
        started = time.perf_counter()
        ids = search(row["question"], k)
        seconds = time.perf_counter() - started
        gold = int(row["id"])
        rank = ids.index(gold) + 1 if gold in ids else None
        total.add(rank, seconds)
        if row.get("type"):
            total.by_type.setdefault(row["type"], Scores()).add(rank, seconds)
    return total
