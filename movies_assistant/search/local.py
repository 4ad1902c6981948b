"""Embedded search backend: a tantivy index in a folder, no server.

Each rebuild writes a fresh index under `builds/` and then atomically repoints the `CURRENT`
file, so readers (including a running server) keep the old index until the new one is complete.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Iterable

import numpy as np
import tantivy

from ..embeddings import Embedder, embedding_text
from ..movies import Movie
from .base import (
    BASELINE_FIELDS,
    EXACT_TITLE_BOOST,
    FIELD_BOOSTS,
    Filters,
    Hit,
    SearchUnavailable,
    normalize_name,
    normalize_title,
    title_candidates,
)
from .builds import Builds, guarded, write_manifest
from .hybrid import MethodSearch
from .vector_index import VectorIndex

TEXT_FIELDS = tuple(FIELD_BOOSTS)
ANALYZER = "movie_en"
WRITER_HEAP = 512 * 1024 * 1024  # allocated as used: 720k movies fit in one segment (~0.5 GB peak RSS)
SCHEMA_VERSION = "2"
PRIOR_SCALE = 0.08  # at most a 5% boost: breaks ties between namesakes, never outranks a better match


def _writer_threads() -> int:
    """Indexing threads for a rebuild: the cores left beside the Python thread that feeds them, 1 or 2.

    Feeding costs about as much CPU per movie as indexing, so more than 2 threads cannot be kept busy,
    and on a 2-core machine a second indexing thread only competes with the feeder.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(2, cores - 1))


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name=ANALYZER)
    for name in ("genre_tags", "language", "people", "title_key"):  # exact-match fields
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("year", indexed=True, fast=True)
    builder.add_integer_field("vote_count", indexed=True, fast=True)
    builder.add_integer_field("runtime", indexed=True, fast=True)
    builder.add_float_field("vote_average", indexed=True, fast=True)
    builder.add_float_field("prior", fast=True)
    builder.add_bytes_field("doc", stored=True)
    return builder.build()


_DOC_SCHEMA = _schema()  # types the values of `_document`


def _analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stopword("english"))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def popularity_prior(vote_count: int) -> float:
    """A mild boost for well-known films so namesakes separate; tantivy multiplies by log2(2 + prior)."""
    return min(1.0, math.log10(1 + max(vote_count, 0)) / 4.0) * PRIOR_SCALE


_WORDS = re.compile(r"\w+")


def _name_key(name: str) -> str:
    """`normalize_name`, with a shortcut for ASCII names (NFKD leaves them as they are)."""
    return " ".join(name.lower().split()) if name.isascii() else normalize_name(name)


def _title_key(title: str) -> str:
    """`normalize_title`, with the same ASCII shortcut."""
    return " ".join(_WORDS.findall(title.lower())) if title.isascii() else normalize_title(title)


_TEXT_VALUES = (  # index text field -> Movie attribute
    ("title", "title"), ("cast", "cast"), ("directors", "directors"), ("keywords", "keywords"),
    ("overview", "overview"), ("genres", "genres"), ("tagline", "tagline"), ("companies", "production_companies"),
)
_RECORD_FIELDS = tuple(Movie.__dataclass_fields__)
_encode_json = json.JSONEncoder(ensure_ascii=False).encode  # = json.dumps(..., ensure_ascii=False)


def _record_json(movie: Movie, year: int | None) -> bytes:
    """`json.dumps(movie.to_dict(), ensure_ascii=False)` as UTF-8, without copying the lists first."""
    fields = movie.__dict__
    record = {**fields, "year": year} if tuple(fields) == _RECORD_FIELDS else movie.to_dict()
    return _encode_json(record).encode()


def _document(movie: Movie) -> tantivy.Document:
    """The index document of a movie, built in one call (`from_dict` types each value by the schema).

    Text fields get their non-empty values in order (a field with none is left out); `doc` holds the
    whole record as JSON. This runs once per movie on ingest, so it avoids needless Python calls.
    """
    year = movie.year
    values: dict = {"id": movie.id}
    for name, attribute in _TEXT_VALUES:
        items = getattr(movie, attribute)
        if type(items) is str:
            if items:
                values[name] = items
        elif items:
            values[name] = items if all(items) else [v for v in items if v]
            if not values[name]:
                del values[name]
    values["title_key"] = _title_key(movie.title)
    if movie.genres:
        values["genre_tags"] = [genre.lower() for genre in movie.genres]
    if movie.original_language:
        values["language"] = movie.original_language
    people = movie.cast + movie.directors
    if people:
        values["people"] = [_name_key(person) for person in people]
    values["year"] = year if year is not None else -1
    values["vote_count"] = movie.vote_count
    values["runtime"] = movie.runtime
    values["vote_average"] = movie.vote_average
    values["prior"] = popularity_prior(movie.vote_count)
    values["doc"] = _record_json(movie, year)
    return tantivy.Document.from_dict(values, _DOC_SCHEMA)


class LocalStore(MethodSearch):
    """tantivy-backed `SearchStore`, with the dense vectors in a faiss file beside it; thread-safe."""

    def __init__(self, root: Path, embedder: Embedder | None = None, method: str = "hybrid"):
        self.root = Path(root)
        self.embedder = embedder
        self.method = method
        self._lock = threading.Lock()
        self._builds = Builds(self.root, _open_build)
        self._text_analyzer = _analyzer()
        self._vectors: VectorIndex | None = None
        self._vectors_stamp: tuple | None = None

    # -- opening ---------------------------------------------------------
    def _current_file(self) -> Path:
        return self.root / "CURRENT"

    def exists(self) -> bool:
        return self._current_file().is_file()

    def _open(self) -> tantivy.Index:
        """The build to serve (search/builds.py), reopened when a rebuild has switched CURRENT or a file changed."""
        return self._builds.served().index

    # -- writing ---------------------------------------------------------
    def _build_folder(self) -> Path:
        return self._builds.writable().folder

    def _vector_index(self) -> VectorIndex | None:
        """The served build's vectors, reloaded when a rebuild or `embed` has replaced them; None if unreadable."""
        served = self._builds.served()
        if served.vectors_problem:
            return None
        index_file, meta_file = VectorIndex.files(served.folder)
        try:
            stamp = (str(served.folder), index_file.stat().st_mtime_ns, meta_file.stat().st_mtime_ns)
        except FileNotFoundError:
            return None
        with self._lock:
            if stamp != self._vectors_stamp:
                try:
                    self._vectors, self._vectors_stamp = VectorIndex.load(served.folder), stamp
                except RuntimeError as exc:  # faiss: not an index file
                    self._builds.vectors_failed(served, exc)
                    return None
            return self._vectors

    def problems(self) -> list[str]:
        served = self._builds.served()
        self._vector_index()  # notices vectors faiss cannot read
        return served.problems + ([served.vectors_problem] if served.vectors_problem else [])

    def vectors_problem(self) -> str | None:
        return self._builds.served().vectors_problem

    def rebuild(self, chunks: Iterable[list[Movie]], progress=None) -> int:
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}-v{SCHEMA_VERSION}"
        build = self.root / "builds" / name
        build.mkdir(parents=True)
        try:
            index = tantivy.Index(_schema(), path=str(build), reuse=False)
            index.register_tokenizer(ANALYZER, _analyzer())
            writer = index.writer(heap_size=WRITER_HEAP, num_threads=_writer_threads())
            total = 0
            for chunk in chunks:
                for movie in chunk:
                    writer.add_document(_document(movie))
                total += len(chunk)
                if progress:
                    progress(len(chunk))
            writer.commit()
            writer.wait_merging_threads()
            del writer, index
            write_manifest(build)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
        self._switch_to(name)
        return total

    def _switch_to(self, name: str) -> None:
        tmp = self.root / f"CURRENT.{os.getpid()}.tmp"
        tmp.write_text(name + "\n")
        try:
            previous = self._builds.served().name  # the last good build, not a damaged CURRENT
        except SearchUnavailable:
            previous = None
        os.replace(tmp, self._current_file())
        for old in (self.root / "builds").iterdir():  # the previous build stays: it serves if this one is damaged
            if old.name not in (name, previous):
                shutil.rmtree(old, ignore_errors=True)

    def upsert(self, movies: list[Movie]) -> None:
        build = self._builds.writable()
        index = build.index
        writer = index.writer(heap_size=50_000_000, num_threads=1)
        for movie in movies:
            writer.delete_documents_by_term("id", movie.id)
            writer.add_document(_document(movie))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        write_manifest(build.folder)  # before anything re-checks the build this process changed
        self._update_vectors([m.id for m in movies], movies)

    def delete(self, ids: list[int]) -> None:
        build = self._builds.writable()
        index = build.index
        writer = index.writer(heap_size=50_000_000, num_threads=1)
        for movie_id in ids:
            writer.delete_documents_by_term("id", int(movie_id))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        write_manifest(build.folder)  # before anything re-checks the build this process changed
        self._update_vectors([int(i) for i in ids], [])

    def _update_vectors(self, removed: list[int], added: list[Movie]) -> None:
        """Keep the vectors in step with an upsert or delete (added movies are embedded when a model is loadable)."""
        vectors = self._vector_index()
        if vectors is None:
            return
        vectors.remove(removed)
        # a stale index (another model: maybe another size) gains no vectors; `embed` replaces it whole
        if added and self._vectors_ready() and self.embedder.available():
            vectors.add(np.array([m.id for m in added], dtype=np.int64),
                        self.embedder.embed([embedding_text(m) for m in added]))
        folder = self._build_folder()
        vectors.save(folder)
        write_manifest(folder)

    def write_vectors(self, chunks, vectors_id: str, progress=None) -> int:
        vectors = VectorIndex.build((self._indexed_only(chunk) for chunk in chunks), vectors_id,
                                    expected=self.count(), progress=progress)
        folder = self._build_folder()
        vectors.save(folder)
        write_manifest(folder)
        return vectors.size

    def _indexed_only(self, chunk):
        """`chunk` without the vectors of movies the index does not hold (a CSV other than the indexed one)."""
        index = self._open()
        searcher = index.searcher()
        found = searcher.search(tantivy.Query.term_set_query(index.schema, "id", [int(i) for i in chunk.ids]),
                                limit=max(1, len(chunk.ids)), count=False).hits
        keep = np.isin(chunk.ids, searcher.fast_field_values("id", [a for _, a in found]))
        return type(chunk)(chunk.ids[keep], chunk.hashes[keep], chunk.vectors[keep]) if not keep.all() else chunk

    # -- reading ---------------------------------------------------------
    @guarded
    def count(self) -> int:
        return self._open().searcher().num_docs

    def _terms(self, text: str) -> list[str]:
        """Each distinct word of the question as the index analysed the text fields (folded, stemmed, no stop words)."""
        return list(dict.fromkeys(self._text_analyzer.analyze(text)))[:MAX_QUERY_TERMS]

    @guarded
    def _lexical(self, text: str, filters: Filters, k: int) -> list[Hit]:
        index = self._open()
        schema = index.schema
        filter_queries = _filter_queries(schema, filters)
        # filters only select: wrapped to score 0, so they never reorder the text matches
        clauses = [(tantivy.Occur.Must, tantivy.Query.const_score_query(q, 0.0)) for q in filter_queries]
        terms = self._terms(text)
        searcher = index.searcher()
        if terms:
            lexical = _lexical_query(searcher, schema, terms)
            exact_terms = [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "title_key", key))
                           for key in title_candidates(text)]  # a union of terms: ~6x faster than a term set
            exact = tantivy.Query.const_score_query(tantivy.Query.boolean_query(exact_terms), EXACT_TITLE_BOOST)
            text_query = tantivy.Query.boolean_query([(tantivy.Occur.Should, lexical),
                                                      (tantivy.Occur.Should, exact)])
            clauses.append((tantivy.Occur.Must, text_query))
        if not clauses:
            clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        query = tantivy.Query.boolean_query(clauses)
        if terms:
            found = None
            if not filter_queries:  # with filters it saves nothing
                found = _top_k_by_candidates(searcher, schema, query, lexical, exact_terms, k)
            if found is None:
                found = searcher.search(query, limit=k, count=False, weight_by_field="prior").hits
        else:
            found = searcher.search(query, limit=k, count=False, order_by_field="vote_count").hits
        return [Hit(_movie(searcher, address), float(score) if terms else 0.0) for score, address in found]

    @guarded
    def _baseline(self, text: str, filters: Filters, k: int) -> list[Hit]:
        """The original project's query: per field, the BM25 of the question's words; the best field counts.

        Like its `multi_match` `best_fields` over BASELINE_FIELDS, without fuzziness (tantivy scores fuzzy
        matches as constants, not BM25) and without the exact-title boost or the prior.
        """
        index = self._open()
        schema = index.schema
        terms = self._terms(text)
        per_field = []
        for field, boost in BASELINE_FIELDS.items():
            query = tantivy.Query.boolean_query([(tantivy.Occur.Should, tantivy.Query.term_query(schema, field, t))
                                                 for t in terms])
            per_field.append(tantivy.Query.boost_query(query, boost) if boost != 1 else query)
        clauses = [(tantivy.Occur.Must, tantivy.Query.const_score_query(q, 0.0))
                   for q in _filter_queries(schema, filters)]
        if terms:
            clauses.append((tantivy.Occur.Must, tantivy.Query.disjunction_max_query(per_field)))
        if not clauses:
            return []
        searcher = index.searcher()
        found = searcher.search(tantivy.Query.boolean_query(clauses), limit=k, count=False).hits
        return [Hit(_movie(searcher, address), float(score), "baseline") for score, address in found]

    @guarded
    def _vectors_ready(self) -> bool:
        vectors = self._vector_index()
        return bool(vectors and vectors.size and self.embedder and vectors.vectors_id == self.embedder.vectors_id)

    @guarded
    def _dense(self, vector: np.ndarray, filters: Filters, k: int) -> list[Hit]:
        vectors = self._vector_index()
        if vectors is None:
            return []
        if filters.is_empty():
            found = vectors.search(vector, k)
        else:
            found = self._filtered_neighbours(vectors, vector, filters, k)
        movies = {m.id: m for m in self.get([movie_id for movie_id, _ in found])}
        return [Hit(movies[i], score, "dense") for i, score in found if i in movies]

    def _filtered_neighbours(self, vectors: VectorIndex, vector: np.ndarray, filters: Filters, k: int):
        """Nearest neighbours among the movies `filters` accept.

        Up to MAX_SELECTED accepted movies, their ids restrict the faiss search. A broader filter accepts a
        large share of the index, so the nearest few hundred neighbours are fetched and checked against it.
        """
        index = self._open()
        searcher = index.searcher()
        only = tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in _filter_queries(index.schema, filters)])
        accepted = searcher.search(only, limit=MAX_SELECTED + 1, count=False).hits
        if len(accepted) <= MAX_SELECTED:
            return vectors.search(vector, k, searcher.fast_field_values("id", [a for _, a in accepted]))
        fetch = 20 * k
        while True:
            near = vectors.search(vector, fetch)
            among = tantivy.Query.term_set_query(index.schema, "id", [i for i, _ in near])
            both = tantivy.Query.boolean_query([(tantivy.Occur.Must, only), (tantivy.Occur.Must, among)])
            hits = searcher.search(both, limit=len(near) or 1, count=False).hits
            keep = set(searcher.fast_field_values("id", [a for _, a in hits]))
            found = [(i, s) for i, s in near if i in keep]
            if len(found) >= k or len(near) < fetch or fetch >= vectors.size:
                return found[:k]
            fetch *= 4

    @guarded
    def get(self, ids: list[int]) -> list[Movie]:
        if not ids:
            return []
        index = self._open()
        query = tantivy.Query.term_set_query(index.schema, "id", [int(i) for i in ids])
        searcher = index.searcher()
        found = {}
        for _score, address in searcher.search(query, limit=len(ids), count=False).hits:
            movie = _movie(searcher, address)
            found[movie.id] = movie
        return [found[int(i)] for i in ids if int(i) in found]

    @guarded
    def known_people(self, names: list[str]) -> list[str]:
        searcher = self._open().searcher()
        return [n for n in names if searcher.doc_freq("people", normalize_name(n)) > 0]


def _open_build(folder: Path) -> tantivy.Index:
    index = tantivy.Index(_schema(), path=str(folder), reuse=True)
    index.register_tokenizer(ANALYZER, _analyzer())
    return index


def _movie(searcher, address) -> Movie:
    return Movie.from_dict(json.loads(searcher.doc(address)["doc"][0]))


# -- search speed-ups that keep the results ------------------------------------------------------
MAX_SELECTED = 50_000  # filtered dense search: at most this many accepted ids restrict faiss
MAX_QUERY_TERMS = 64  # a question's first 64 words are plenty, and keep the query bounded
CANDIDATES = 50  # (at least) lexical candidates per search in the two-step top k (see _top_k_by_candidates)
CANDIDATE_SLACK = (1 + PRIOR_SCALE) * (1 + 1e-4)  # the most the prior and float rounding can raise a score


def _lexical_query(searcher: tantivy.Searcher, schema: tantivy.Schema, terms: list[str]) -> tantivy.Query:
    """Every analysed word of the question in every text field, with that field's boost and the word's
    blended IDF, as one flat OR.

    Blended IDF (as in Elasticsearch's `cross_fields` multi_match): each field's BM25 of a word uses the
    word's commonest reading across the fields (its largest document frequency), not the field's own.
    Without it, a plot word that is rare among titles ("girls", "giant") scored the films called
    "Mean Girls" or "Jack the Giant Slayer" far above the film whose overview tells the plot. Against
    each field's own IDF, on the 18k corpus: lexical top 10, the plot paraphrases 0.453 -> 0.627 and the
    original questions 0.908 -> 0.930; hybrid, the paraphrases 0.733 / 0.488 -> 0.780 / 0.547 (docs/
    retrieval.md); at 720k generated rows, 0.760 / 0.590 -> 0.787 / 0.629 (docs/benchmarks.md).

    One flat OR of term queries lets tantivy skip most documents (block-max WAND), unlike the query
    parser's nested OR per word, and scores the sum of the matching terms' BM25 scores. Elasticsearch
    also takes the best field per word (dis_max); here that ranked the 18k paraphrases a little higher
    (hybrid 0.784 / 0.568 to 0.801 / 0.577, by tie breaker) but cost twice the time at 720k, and still
    put a filtered p95 over 20 ms as a re-ranking of the flat OR's best (docs/benchmarks.md).
    """
    docs = searcher.num_docs
    clauses = []
    for term in terms:
        doc_freqs = {field: searcher.doc_freq(field, term) for field in FIELD_BOOSTS}
        blended = _bm25_idf(max(doc_freqs.values()), docs)
        clauses += [(tantivy.Occur.Should, tantivy.Query.boost_query(tantivy.Query.term_query(schema, field, term),
                                                                     boost * blended / _bm25_idf(doc_freq, docs)))
                    for field, boost in FIELD_BOOSTS.items() if (doc_freq := doc_freqs[field])]
    return tantivy.Query.boolean_query(clauses)


def _bm25_idf(doc_freq: int, docs: int) -> float:
    """tantivy's (and Lucene's) BM25 inverse document frequency of a word in `doc_freq` of `docs` films."""
    return math.log(1 + (docs - doc_freq + 0.5) / (doc_freq + 0.5))


def _top_k_by_candidates(searcher, schema, query, lexical, exact_terms, k: int):
    """The top `k` of an unfiltered text `query` (ranked with the popularity prior), by ranking candidates.

    `query` matches `lexical` (the flat OR) or the exact-title clause. A film that is neither among the
    CANDIDATES (or 5k) best for `lexical` alone (cheap: without the prior, tantivy skips most documents) nor an
    exact-title match scores at most the last candidate's score times CANDIDATE_SLACK. So when the k-th
    best candidate under the full `query` beats that, the candidates' top k is the exact answer, with
    the scores `query` gives; otherwise this returns None and the caller searches everything.
    """
    candidates = max(CANDIDATES, 5 * k)
    best = searcher.search(lexical, limit=candidates, count=False).hits
    titled = searcher.search(tantivy.Query.boolean_query(exact_terms), limit=1000, count=False).hits
    if len(titled) >= 1000:
        return None
    complete = len(best) < candidates  # then every film that matches is a candidate
    bound = best[-1][0] * CANDIDATE_SLACK if best else 0.0  # what any other film scores at most
    addresses = [address for _score, address in best + titled]
    if not addresses:
        return []
    ids = sorted(set(searcher.fast_field_values("id", addresses)))
    among = tantivy.Query.const_score_query(tantivy.Query.term_set_query(schema, "id", ids), 0.0)  # adds 0.0
    hits = searcher.search(tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, among)]),
                           limit=k, count=False, weight_by_field="prior").hits
    if not complete and (len(hits) < k or hits[-1][0] <= bound):
        return None
    return hits


def _filter_queries(schema: tantivy.Schema, f: Filters) -> list[tantivy.Query]:
    def int_range(field: str, lo, hi) -> tantivy.Query:
        return tantivy.Query.range_query(schema, field, tantivy.FieldType.Integer, lo, hi)

    queries = []
    if f.year_min is not None or f.year_max is not None:
        queries.append(int_range("year", f.year_min if f.year_min is not None else 0, f.year_max))
    for genre in f.genres:
        queries.append(tantivy.Query.term_query(schema, "genre_tags", genre.lower()))
    if f.exclude_genres:  # a query of only MustNot clauses matches nothing: they narrow all documents
        queries.append(tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, tantivy.Query.all_query())]
            + [(tantivy.Occur.MustNot, tantivy.Query.term_query(schema, "genre_tags", g.lower()))
               for g in f.exclude_genres]))
    if f.language:
        queries.append(tantivy.Query.term_query(schema, "language", f.language))
    if f.min_rating is not None:
        queries.append(
            tantivy.Query.range_query(schema, "vote_average", tantivy.FieldType.Float, float(f.min_rating), None)
        )
    if f.min_votes is not None or f.max_votes is not None:
        queries.append(int_range("vote_count", int(f.min_votes or 0), f.max_votes))
    if f.runtime_min is not None or f.runtime_max is not None:
        queries.append(int_range("runtime", f.runtime_min if f.runtime_min is not None else 1, f.runtime_max))
    if f.person:
        queries.append(tantivy.Query.term_query(schema, "people", normalize_name(f.person)))
    return queries
