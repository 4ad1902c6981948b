"""The search-store protocol every backend implements, and the filter model they all share."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Iterable, Protocol

from ..movies import Movie

# Per-field boosts for the lexical query, shared by every backend so they rank alike.
# Tuned on the even-id half of data/ground-truth-retrieval.csv (see docs/benchmarks.md).
FIELD_BOOSTS = {
    "title": 2.0,
    "cast": 1.0,
    "directors": 1.0,
    "keywords": 0.5,
    "overview": 1.0,
    "genres": 1.0,
    "tagline": 1.0,
    "companies": 1.0,
}
# Added to the score of a film whose whole title appears in the question.
EXACT_TITLE_BOOST = 10.0
# The original project's query (search method "baseline"): multi_match best_fields over these fields
# (its `description^2` named no field of the data). See data/README.md.
BASELINE_FIELDS = {"title": 3.0, "overview": 1.5, "genres": 1.0, "keywords": 1.0}


class SearchUnavailable(RuntimeError):
    """The index cannot be queried right now (missing, or its server is down)."""


@dataclass
class Filters:
    """Structured constraints applied as real index filters (not post-filtering of top-k)."""

    year_min: int | None = None
    year_max: int | None = None
    genres: list[str] = field(default_factory=list)  # every listed genre must match
    exclude_genres: list[str] = field(default_factory=list)  # none of these may match ("no horror")
    language: str | None = None  # ISO-639-1 code
    min_rating: float | None = None
    min_votes: int | None = None
    max_votes: int | None = None  # "hidden gems": well rated but little seen
    runtime_min: int | None = None
    runtime_max: int | None = None
    person: str | None = None  # in the cast or among the directors

    def to_dict(self) -> dict:
        """Only the filters that are set, as `/search` reports them."""
        return {k: v for k, v in asdict(self).items() if v not in (None, [])}

    def is_empty(self) -> bool:
        return not self.to_dict()

    def accepts(self, movie: Movie) -> bool:
        """The filter semantics in plain Python: the contract tests hold every backend to it."""
        year = movie.year
        if self.year_min is not None and (year is None or year < self.year_min):
            return False
        if self.year_max is not None and (year is None or year > self.year_max):
            return False
        movie_genres = {g.lower() for g in movie.genres}
        if any(g.lower() not in movie_genres for g in self.genres):
            return False
        if any(g.lower() in movie_genres for g in self.exclude_genres):
            return False
        if self.language and movie.original_language != self.language:
            return False
        if self.min_rating is not None and movie.vote_average < self.min_rating:
            return False
        if self.min_votes is not None and movie.vote_count < self.min_votes:
            return False
        if self.max_votes is not None and movie.vote_count > self.max_votes:
            return False
        if self.runtime_min is not None and movie.runtime < self.runtime_min:
            return False
        if self.runtime_max is not None and (movie.runtime == 0 or movie.runtime > self.runtime_max):
            return False
        if self.person:
            wanted = normalize_name(self.person)
            if wanted not in {normalize_name(n) for n in movie.cast + movie.directors}:
                return False
        return True


@dataclass
class Hit:
    movie: Movie
    score: float
    method: str = "lexical"  # the ranking that found it: lexical, dense, hybrid or baseline

    def to_dict(self) -> dict:
        return {**self.movie.to_dict(), "score": round(self.score, 4)}


def normalize_name(name: str) -> str:
    """Case- and accent-insensitive form of a person's name, used for person filters."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().split())


def normalize_title(text: str) -> str:
    """Title key: case, accents and punctuation ignored, so "Star Wars" finds "Star Wars!"."""
    return " ".join(re.findall(r"\w+", normalize_name(text)))


def title_candidates(question: str, longest: int = 10) -> list[str]:
    """The runs of the question that may be a film's whole title, as title keys: every run of 2 to
    `longest` consecutive words, and single words only where they look like a title.

    A film whose whole title is among them gets an exact-title boost in every backend. A lone word
    counts in a short question ("Alien", "Who directed Inception?") or when capitalised after the first
    word ("What is the budget of Avatar?"); otherwise "a boy hides an alien in his house" would boost
    the films called "House" and "Alien" over the one described (when introduced: plot paraphrases,
    local hybrid hit rate 0.568 -> 0.585, with no loss on the original questions).
    """
    words = normalize_title(question).split()
    runs = {" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 2, min(len(words), i + longest) + 1)}
    if len(words) <= SHORT_QUESTION_WORDS:
        runs.update(words)
    else:
        runs.update(normalize_title(w) for w in re.findall(r"[\w'’]+", question)[1:] if w[0].isupper())
    runs.discard("")
    return sorted(runs)


SHORT_QUESTION_WORDS = 3  # up to this many words, any single word may be the title asked about


class SearchStore(Protocol):
    """What the app needs from an index. Backends differ only behind this."""

    def rebuild(self, chunks: Iterable[list[Movie]], progress=None) -> int:
        """Replace the whole index with `chunks`, atomically: readers see the old index until done.

        Returns the number of movies indexed; `progress(n)` is called after each chunk.
        """

    def upsert(self, movies: list[Movie]) -> None:
        """Add or replace movies by id (idempotent)."""

    def delete(self, ids: list[int]) -> None: ...

    def search(self, text: str, filters: Filters | None = None, k: int = 10, method: str | None = None) -> list[Hit]:
        """Best `k` movies for `text` among those `filters` accept; empty text ranks by popularity.

        `method` is lexical, dense, hybrid or baseline (search/hybrid.py); default: the store's `method`
        (SEARCH_METHOD). Hybrid without vectors is lexical; dense without them raises VectorsMissing.
        """

    def write_vectors(self, chunks: Iterable, vectors_id: str, progress=None) -> int:
        """Replace the dense vectors of the indexed movies with `chunks` (`vectors.VectorChunk`s of
        `vectors_id`: `Embedder.vectors_id`); vectors of unknown ids are dropped. Returns the number of
        vectors written."""

    def has_vectors(self) -> bool:
        """Whether dense and hybrid search can run (vectors indexed and the embedding model loadable)."""

    def get(self, ids: list[int]) -> list[Movie]:
        """Movies by id, in the order asked; unknown ids are left out."""

    def known_people(self, names: list[str]) -> list[str]:
        """Those of `names` that are a cast member or director of some indexed movie."""

    def count(self) -> int: ...

    def exists(self) -> bool:
        """Whether an index has been built (count() may still be 0)."""
