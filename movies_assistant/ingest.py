"""CSV -> search store: streamed in chunks, with a progress bar and a final count check; then the vectors."""

from __future__ import annotations

import gzip
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from .embeddings import Embedder
from .movies import READ_ERRORS, ReadReport, read_movies
from .search import SearchStore
from .vectors import ShippedVectors, VectorCache, VectorReport, movie_vectors


@dataclass
class IngestSummary:
    path: str
    rows_read: int
    indexed: int
    rejected: int
    reasons: dict[str, int]
    examples: list[str]
    seconds: float

    def lines(self) -> list[str]:
        rate = self.indexed / self.seconds if self.seconds else 0.0
        out = [
            f"read {self.rows_read:,} rows from {self.path}",
            f"indexed {self.indexed:,}, rejected {self.rejected:,} in {self.seconds:.1f} s ({rate:,.0f} movies/s)",
        ]
        out += [f"  rejected {n:,}: {reason}" for reason, n in sorted(self.reasons.items(), key=lambda x: -x[1])[:10]]
        out += [f"  e.g. {example}" for example in self.examples]
        return out


def estimate_rows(path: Path) -> int:
    """Line count of the file (a quick upper bound on rows: overviews may hold newlines)."""
    opener = gzip.open if path.suffix == ".gz" else open
    lines = 0
    with opener(path, "rb") as raw:
        while block := raw.read(1 << 22):
            lines += block.count(b"\n")
    return max(lines - 1, 0)


def ingest(path: Path, store: SearchStore, console: Console | None = None, chunk_rows: int = 5000) -> IngestSummary:
    """Rebuild `store` from the CSV at `path`. The old index keeps serving until the new one is complete."""
    path = Path(path)
    console = console or Console(stderr=True)
    report = ReadReport()
    started = time.perf_counter()
    try:
        total = estimate_rows(path)
    except READ_ERRORS:  # read_movies says what is wrong with the file
        total = None
    with Progress(
        TextColumn("[bold]ingest[/bold]"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False,
    ) as progress:
        task = progress.add_task("ingest", total=total)

        def advance(_indexed: int) -> None:
            progress.update(task, completed=report.rows_read)

        indexed = store.rebuild(read_movies(path, report, chunk_rows), progress=advance)
        progress.update(task, completed=report.rows_read, total=report.rows_read)
    if report.rows_read != indexed + report.rejected:  # the final count check
        raise RuntimeError(f"count mismatch: read {report.rows_read}, indexed {indexed}, rejected {report.rejected}")
    return IngestSummary(str(path), report.rows_read, indexed, report.rejected, report.reasons, report.examples,
                         time.perf_counter() - started)


@dataclass
class VectorSummary:
    movies: int
    reused: int
    embedded: int
    written: int
    seconds: float

    def lines(self) -> list[str]:
        rate = self.embedded / self.seconds if self.seconds else 0.0
        return [f"vectors: {self.written:,} written for {self.movies:,} movies ({self.reused:,} reused, "
                f"{self.embedded:,} embedded) in {self.seconds:.1f} s ({rate:,.0f} embedded/s)"]


def index_vectors(path: Path, store: SearchStore, embedder: Embedder, cache: VectorCache,
                  shipped: ShippedVectors | None = None, console: Console | None = None,
                  chunk_rows: int = 5000, collect: list | None = None) -> VectorSummary:
    """Give the indexed movies of the CSV at `path` their vectors: reused when stored, embedded otherwise.

    Lexical search keeps serving meanwhile. Each embedded batch is committed to `cache` first, so an
    interrupted run resumes where it stopped. `collect` receives every `VectorChunk` when given.
    """
    path = Path(path)
    console = console or Console(stderr=True)
    report = VectorReport()
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]vectors[/bold]"), BarColumn(), MofNCompleteColumn(), TextColumn("movies"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False,
    ) as progress:
        task = progress.add_task("vectors", total=store.count())

        def chunks():
            for vectors in movie_vectors(read_movies(path, ReadReport(), chunk_rows), embedder, cache, shipped,
                                         report, lambda n: progress.advance(task, n)):
                if collect is not None:
                    collect.append(vectors)
                yield vectors

        written = store.write_vectors(chunks(), embedder.vectors_id)
    return VectorSummary(report.movies, report.reused, report.embedded, written, time.perf_counter() - started)
