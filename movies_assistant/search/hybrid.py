"""The search methods every backend offers, and the one place lexical and dense results are fused.

A backend implements four primitives (`_lexical`, `_baseline`, `_dense`, `_vectors_ready`) and inherits
`search(text, filters, k, method)` from `MethodSearch`:

- lexical: the tuned BM25 query (field boosts, exact-title boost, popularity prior);
- baseline: the original project's query (multi-field BM25, best field wins, fuzzy);
- dense: nearest neighbours of the question's embedding among the movie vectors;
- hybrid: reciprocal rank fusion (Cormack et al. 2009) of lexical, dense and, when the question states
  facts about the film (`search/clues.py`: year, genres, language, runtime...), a lexical list
  filtered by them; then a bonus for the share of those facts each candidate matches, a larger one
  for a title the question quotes (or is), and a mild vote-count prior that separates namesakes. Computed
  here, not in Elasticsearch (its RRF needs a paid licence).

Without vectors (not embedded yet) or without an embedding model, hybrid is lexical and its hits say
so (`Hit.method`); dense raises `VectorsMissing`. Filters are real filters in every method.
"""

from __future__ import annotations

import math
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..embeddings import Embedder, EmbeddingUnavailable
from .base import Filters, Hit, SearchUnavailable
from .clues import Clues

METHODS = ("lexical", "dense", "hybrid", "baseline")
# Tuned on the train halves of the original questions (data/ground-truth-retrieval.csv) and of the plot
# paraphrases (data/ground-truth-extra.csv) with `benchmarks/hybrid.py --tune-only` (local backend), for the
# best mean of hit rate + MRR over both sets: MiniLM's in docs/benchmarks.md (the grid's best rows), the
# MiniLM + e5 ensemble's (`--models minilm+e5`) in docs/retrieval.md.
RRF_K = 30  # the constant of reciprocal rank fusion: weight / (RRF_K + rank)
LEXICAL_WEIGHT = 1.0
# Per EMBEDDING_MODELS: the ensemble's dense list is the better one, so it counts for more, and the clue
# bonus grows with it. e5 alone borrows the ensemble's weights, untuned (docs/retrieval.md measures it).
DENSE_WEIGHTS = {"minilm": 1.0, "minilm+e5": 2.0, "e5": 2.0}
# Matching every stated clue: MiniLM's is worth rank 1 over rank 50 in one list, the ensemble's more.
CLUE_WEIGHTS = {"minilm": 0.02, "minilm+e5": 0.05, "e5": 0.05}
CLUE_LIST_WEIGHT = 1.0  # the lexical list filtered by the question's clues
QUOTED_TITLE_WEIGHT = 0.1  # over rank 1 vs 50 in all lists: a title quoted or typed alone is the film meant
# A title the question mentions ("Who starred in Alien?") is the film meant more often than not, but
# fusion by rank alone loses how far lexical search put it ahead: without this, dense search's
# neighbours "Aliens" and "Avatar 4" ranked first for "Who starred in Alien?" and "What is the
# budget of Avatar?". Set by those cases (the contract tests), not by tuning: it costs the plot
# paraphrases about 0.01 MRR ("his house" is a title too), which the tuning objective would not pay.
MENTIONED_TITLE_WEIGHT = 0.01  # over rank 1 vs 10 in the lexical list
PRIOR_WEIGHT = 0.01  # 10k votes are worth rank 1 over 15 in the lexical list: separates namesakes
CANDIDATES = 50  # fused from each list (at least k)

_WORDS = re.compile(r"\w")
# The lexical lists of a hybrid search run here while the question is embedded and searched densely:
# a backend waits on its server or its index (both release the GIL), so the lists overlap.
_SEARCHES = ThreadPoolExecutor(max_workers=8, thread_name_prefix="hybrid-search")


class VectorsMissing(SearchUnavailable):
    """Dense search was asked for, but the index has no vectors or no embedding model is installed."""


def vote_prior(vote_count: int) -> float:
    """0 for an unknown film, 1 from 10,000 votes up (logarithmic between)."""
    return min(1.0, math.log10(1 + max(vote_count, 0)) / 4.0)


def fuse(lists: list[tuple[float, list[Hit]]], k: int, clues: Clues = Clues(), prior_weight: float = PRIOR_WEIGHT,
         rrf_k: int = RRF_K, clue_weight: float = CLUE_WEIGHTS["minilm"], title_weight: float = QUOTED_TITLE_WEIGHT,
         mention_weight: float = MENTIONED_TITLE_WEIGHT) -> list[Hit]:
    """Reciprocal rank fusion of weighted ranked lists, plus the clue bonuses and the vote prior; the best `k`.

    The weights are parameters so benchmarks/hybrid.py can tune them; the app passes its embedding
    models' clue weight and uses the other defaults.
    """
    scores: dict[int, float] = {}
    movies = {}
    for weight, hits in lists:
        for rank, hit in enumerate(hits, 1):
            scores[hit.movie.id] = scores.get(hit.movie.id, 0.0) + weight / (rrf_k + rank)
            movies.setdefault(hit.movie.id, hit.movie)
    for movie_id, movie in movies.items():
        scores[movie_id] += (prior_weight * vote_prior(movie.vote_count) + clue_weight * clues.share(movie)
                             + title_weight * clues.names(movie) + mention_weight * clues.mentions(movie))
    best = sorted(scores, key=lambda movie_id: -scores[movie_id])[:k]
    return [Hit(movies[movie_id], scores[movie_id], "hybrid") for movie_id in best]


class MethodSearch:
    """`search()` for a backend: method dispatch, query embedding and fusion, shared by all backends."""

    embedder: Embedder | None = None
    method: str = "hybrid"  # what search() does when not told (SEARCH_METHOD)

    # -- what a backend implements ---------------------------------------
    def _lexical(self, text: str, filters: Filters, k: int) -> list[Hit]:
        raise NotImplementedError

    def _baseline(self, text: str, filters: Filters, k: int) -> list[Hit]:
        raise NotImplementedError

    def _dense(self, vector: np.ndarray, filters: Filters, k: int) -> list[Hit]:
        raise NotImplementedError

    def _vectors_ready(self) -> bool:
        """Whether the index holds vectors of this store's embedding model."""
        raise NotImplementedError

    def problems(self) -> list[str]:
        """What is wrong with the index while it still answers (an older build serving, unreadable vectors)."""
        return []

    def vectors_problem(self) -> str | None:
        """Why the vectors cannot be searched though they were written (damaged), or None."""
        return None

    # -- shared ----------------------------------------------------------
    def search_fallback(self, method: str | None = None) -> str | None:
        """Why hybrid search (`method`, default the store's) answers lexically: its vectors are damaged."""
        return self.vectors_problem() if (method or self.method) == "hybrid" else None

    def has_vectors(self) -> bool:
        """Whether dense (and so hybrid) search can run: vectors indexed and the model loadable."""
        return self.embedder is not None and self._vectors_ready() and self.embedder.available()

    def _query_vector(self, text: str) -> np.ndarray:
        if self.embedder is None:
            raise VectorsMissing("dense search needs an embedding model, and this store has none")
        try:
            return self.embedder.embed_query(text)
        except EmbeddingUnavailable as exc:
            raise VectorsMissing(str(exc)) from None

    def search(self, text: str, filters: Filters | None = None, k: int = 10, method: str | None = None) -> list[Hit]:
        """Best `k` movies for `text` among those `filters` accept, ranked by `method` (default: the store's).

        With no words in `text`, every method ranks the accepted movies by popularity.
        """
        method = method or self.method
        if method not in METHODS:
            raise ValueError(f"search method must be one of {', '.join(METHODS)}, not {method!r}")
        filters = filters or Filters()
        if method == "lexical" or not _WORDS.search(text):
            return self._lexical(text, filters, k)
        if method == "baseline":
            return self._baseline(text, filters, k)
        if method == "dense":
            if not self._vectors_ready():
                raise VectorsMissing(self.vectors_problem() or "the index has no vectors of the embedding model yet; "
                                     "compute them with `python -m movies_assistant embed`")
            return self._dense(self._query_vector(text), filters, k)
        if not self.has_vectors():
            return self._lexical(text, filters, k)  # hybrid before vectors exist: lexical, and its hits say so
        clues = Clues.parse(text)
        return fuse(self.candidate_lists(text, clues, filters, max(CANDIDATES, k)), k, clues,
                    clue_weight=CLUE_WEIGHTS[self.embedder.name])

    def candidate_lists(self, text: str, clues: Clues, filters: Filters, wanted: int) -> list[tuple[float, list[Hit]]]:
        """What hybrid search fuses, each with its weight: lexical, dense and, if the question states
        clues an index can filter on, lexical within them."""
        narrowed = clues.filters(filters)
        lexical = _SEARCHES.submit(self._lexical, text, filters, wanted)
        clue_list = _SEARCHES.submit(self._lexical, text, narrowed, wanted) if narrowed != filters else None
        dense = self._dense(self._query_vector(text), filters, wanted)  # meanwhile, in this thread
        lists = [(LEXICAL_WEIGHT, lexical.result()), (DENSE_WEIGHTS[self.embedder.name], dense)]
        if clue_list is not None:
            lists.append((CLUE_LIST_WEIGHT, clue_list.result()))
        return lists
