"""Elasticsearch search backend: one versioned index per build, served through an alias.

`rebuild` loads a new index `<index_name>-<timestamp>-<random>` and then moves the alias
`<index_name>` to it in one `update_aliases` call, so readers see the old index until the new one
is complete and verified; a failed build is deleted and the alias stays where it was.

Ranking follows the local (tantivy) backend: the same per-field boosts (FIELD_BOOSTS), the same
constant exact-title boost, the same mild popularity prior (a multiplier), and the filters of
`Filters.accepts` as real index filters. With no text, films rank by vote count. A question with
common words is searched in two passes: its rarer words find candidates, and a rescore ranks the
best of them by the whole question (see COMMON_WORDS).

Elasticsearch 8 everywhere (client, compose image and the CI node): Maven Central publishes the
test distribution only up to 8.19, and a client speaks to servers of its own major version.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import urlsplit, urlunsplit

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError, UnsupportedProductError
from elasticsearch.helpers import streaming_bulk

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
from .hybrid import MethodSearch

log = logging.getLogger(__name__)

PRIOR_SCALE = 0.08  # as in local.py: at most a 5% boost that separates namesakes
MAPPING_VERSION = "1"  # bump when the mapping changes (stored in the index's _meta)
BULK_CHUNK_DOCS = 1000
BULK_CHUNK_BYTES = 10 * 1024 * 1024
BULK_RETRY_STATUS = (429, 500, 502, 503, 504)
FORCE_MERGE_TIMEOUT = 1800.0  # seconds; 720k movies merge in under a minute on 2 cores

TEXT = {"type": "text", "analyzer": "english"}
KEYWORD = {"type": "keyword", "ignore_above": 512}
MAPPINGS: dict[str, Any] = {
    "dynamic": False,  # unknown record fields stay in _source, unindexed
    "_meta": {"app": "movies-assistant", "mapping_version": MAPPING_VERSION},
    "properties": {
        "id": {"type": "long"},
        # the lexical fields of FIELD_BOOSTS (english analyzer), with keyword subfields
        "title": {**TEXT, "fields": {"keyword": KEYWORD}},
        "overview": TEXT,
        "tagline": TEXT,
        "keywords": {**TEXT, "fields": {"keyword": KEYWORD}},
        "cast": {**TEXT, "fields": {"keyword": KEYWORD}},
        "directors": {**TEXT, "fields": {"keyword": KEYWORD}},
        "genres": {**TEXT, "fields": {"keyword": KEYWORD}},
        "production_companies": {**KEYWORD, "copy_to": "companies"},
        "companies": TEXT,
        # exact-match fields for filters and the exact-title boost
        "original_language": KEYWORD,
        "genre_tags": KEYWORD,  # lowercase genres
        "people": KEYWORD,  # cast + directors, normalize_name()d (case and accents ignored)
        "title_key": KEYWORD,  # normalize_title(title)
        "status": KEYWORD,
        # numbers and dates
        "year": {"type": "integer"},
        "vote_count": {"type": "integer"},
        "runtime": {"type": "integer"},
        "vote_average": {"type": "double"},  # double: filters compare exactly as Filters.accepts does
        "popularity": {"type": "double"},
        "budget": {"type": "long"},
        "revenue": {"type": "long"},
        "release_date": {"type": "date", "format": "strict_date"},  # absent when unknown
        "prior": {"type": "float"},  # score multiplier, see popularity_prior()
        # dense search: the embedding of embeddings.embedding_text(movie), added by `embed` (partial updates);
        # its dimensions come from the first vector, so any embedding model fits
        "vector": {"type": "dense_vector", "index": True, "similarity": "cosine"},
    },
}
VECTOR_FIELD = "vector"
VECTOR_UPDATE_DOCS = 500  # partial updates per bulk request (a 384-float vector is ~8 KB of JSON)
# HNSW candidates per shard: on the 18k corpus 100 found the gold film for 0.69 of the questions' top 10,
# 500 for 0.78, as exact search does (int8-quantised vectors need the wider net)
KNN_CANDIDATES = 500
VECTORS_RECHECK_S = 30.0  # how long "no vectors yet" is believed before asking again


def popularity_prior(vote_count: int) -> float:
    """The score multiplier of local.py's prior: log2(2 + prior), prior <= PRIOR_SCALE."""
    prior = min(1.0, math.log10(1 + max(vote_count, 0)) / 4.0) * PRIOR_SCALE
    return math.log2(2.0 + prior)


def document(movie: Movie) -> dict:
    """The indexed document: the full record plus the derived exact-match fields."""
    doc = movie.to_dict()
    if not doc["release_date"]:
        del doc["release_date"]  # a date field cannot hold ""; Movie.from_dict restores the default
    doc["title_key"] = normalize_title(movie.title)
    doc["genre_tags"] = [g.lower() for g in movie.genres]
    doc["people"] = sorted({normalize_name(p) for p in movie.cast + movie.directors if p.strip()})
    doc["prior"] = popularity_prior(movie.vote_count)
    return doc


def movie_from_source(source: dict) -> Movie:
    return Movie.from_dict(source)


def filter_clauses(f: Filters) -> list[dict]:
    """`Filters` as Elasticsearch filter clauses, with the semantics of `Filters.accepts`."""
    clauses: list[dict] = []
    if f.year_min is not None or f.year_max is not None:
        bounds = {}
        if f.year_min is not None:
            bounds["gte"] = int(f.year_min)
        if f.year_max is not None:
            bounds["lte"] = int(f.year_max)
        clauses.append({"range": {"year": bounds}})  # an unknown year has no value: excluded
    for genre in f.genres:
        clauses.append({"term": {"genre_tags": genre.lower()}})
    if f.exclude_genres:
        clauses.append({"bool": {"must_not": {"terms": {"genre_tags": [g.lower() for g in f.exclude_genres]}}}})
    if f.language:
        clauses.append({"term": {"original_language": f.language}})
    if f.min_rating is not None:
        clauses.append({"range": {"vote_average": {"gte": float(f.min_rating)}}})
    if f.min_votes is not None:
        clauses.append({"range": {"vote_count": {"gte": int(f.min_votes)}}})
    if f.max_votes is not None:
        clauses.append({"range": {"vote_count": {"lte": int(f.max_votes)}}})
    if f.runtime_min is not None:
        clauses.append({"range": {"runtime": {"gte": int(f.runtime_min)}}})
    if f.runtime_max is not None:  # an unknown runtime (0) is excluded by a maximum
        clauses.append({"range": {"runtime": {"gte": 1, "lte": int(f.runtime_max)}}})
    if f.person:
        clauses.append({"term": {"people": normalize_name(f.person)}})
    return clauses


# cross_fields treats the boosted fields as one big field (term-centric, blended IDF). On
# data/ground-truth-retrieval.csv over the 18k corpus it scores hit rate 0.948 / MRR 0.905, against
# 0.926 / 0.861 for best_fields and 0.914 / 0.854 for most_fields (alike on the even and odd halves).
MULTI_MATCH_TYPE = "cross_fields"
# Each word scores its best field in full and its other fields at this share. At 0 (the default) all
# the films called "Finding Nemo" tie on the title, and the real one's overview naming Nemo does not
# lift it: at 720k generated rows, bare titles ranked first 21/100 at 0 and 59/100 at 0.3 (ground
# truth 0.762 / 0.517 -> 0.775 / 0.614); on the 18k corpus hybrid search moved by less than 0.01.
CROSS_FIELDS_TIE_BREAKER = 0.3


# Words in at least 2 % of the 18,042 corpus films (in any text field; tests/test_elastic.py derives
# the list again from data/movies-corpus.csv.gz). Long questions are mostly such words, and scoring
# them over 8 fields for most of a 720k index is what made searches slow. The first pass leaves them
# out to find candidates; the rescore ranks the best RESCORE_WINDOW by the whole question (18k ground
# truth: hit rate 0.949, MRR 0.906, against 0.948 / 0.905 for the whole question over everything;
# see docs/benchmarks.md).
COMMON_WORDS = frozenset(Path(__file__).with_name("common_words.txt").read_text(encoding="utf-8").split())
RESCORE_WINDOW = 100


def candidate_text(text: str) -> str:
    """`text` without COMMON_WORDS, for the first pass; `text` itself when nothing else is left."""
    kept = [w for w in re.findall(r"\w+", text) if w.lower() not in COMMON_WORDS]
    return " ".join(kept) if kept else text


def text_query(text: str, match_text: str | None = None) -> dict:
    """The lexical part: BM25 over the FIELD_BOOSTS fields with their boosts, plus the exact-title boost.

    `match_text` (default `text`) is what the fields are matched against; the exact-title boost always
    looks at the whole `text`.
    """
    fields = [f"{name}^{boost:g}" for name, boost in FIELD_BOOSTS.items()]
    should: list[dict] = [{"multi_match": {"query": text if match_text is None else match_text,
                                           "fields": fields, "type": MULTI_MATCH_TYPE,
                                           "tie_breaker": CROSS_FIELDS_TIE_BREAKER}}]
    candidates = title_candidates(text)
    if candidates:
        should.append({"constant_score": {"filter": {"terms": {"title_key": candidates}}, "boost": EXACT_TITLE_BOOST}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def safe_url(url: str) -> str:
    """`url` without user name or password, for messages."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return "<invalid URL>"


class ElasticStore(MethodSearch):
    """Elasticsearch-backed `SearchStore`; safe to share between threads (one client per store)."""

    def __init__(self, url: str, index_name: str, *, request_timeout: float = 10.0, search_timeout: float = 5.0,
                 max_retries: int = 2, bulk_timeout: float = 120.0, bulk_retries: int = 5,
                 bulk_initial_backoff: float = 1.0, embedder: Embedder | None = None, method: str = "hybrid"):
        self.embedder = embedder
        self.method = method
        self._vectors_seen: tuple[str, float] | None = None  # (model id found, when), see _vectors_ready
        self.url = url
        self.alias = index_name
        self.shown_url = safe_url(url)
        self._secret = urlsplit(url).password or ""
        self.bulk_timeout = bulk_timeout
        self.bulk_retries = bulk_retries
        self.bulk_initial_backoff = bulk_initial_backoff
        self._es = Elasticsearch(
            url,
            request_timeout=request_timeout,
            max_retries=max_retries,
            retry_on_timeout=True,
            retry_on_status=(502, 503, 504),
        )
        # reads answer web requests: one try of at most `search_timeout` (ELASTIC_TIMEOUT) when the node
        # hangs, so the client gets its 503 in that time; a refused connection is retried once (instant)
        self._read = self._es.options(request_timeout=search_timeout, max_retries=1, retry_on_timeout=False)

    def close(self) -> None:
        self._es.close()

    # -- plumbing --------------------------------------------------------
    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn "the server is down or the index is missing" into SearchUnavailable."""
        try:
            yield
        except UnsupportedProductError:
            raise SearchUnavailable(f"the server at {self.shown_url} did not answer as Elasticsearch") from None
        except NotFoundError as exc:
            if _error_type(exc) == "index_not_found_exception":
                raise SearchUnavailable(self._missing_message()) from None
            raise
        except ApiError as exc:
            if exc.meta.status in (401, 403):
                raise SearchUnavailable(
                    f"Elasticsearch at {self.shown_url} refused to {action}: HTTP {exc.meta.status} "
                    f"{_error_type(exc) or ''} (check the credentials in ELASTIC_URL)"
                ) from None
            if exc.meta.status >= 500 or exc.meta.status == 429:
                raise SearchUnavailable(
                    f"Elasticsearch at {self.shown_url} could not {action}: HTTP {exc.meta.status} "
                    f"{_error_type(exc) or ''}".rstrip()
                ) from None
            raise
        except TransportError as exc:  # connection refused, timeout, TLS, DNS, ...
            reason = self._scrub(str(exc.message if hasattr(exc, "message") else exc))[:200]
            raise SearchUnavailable(
                f"Elasticsearch at {self.shown_url} is unreachable ({type(exc).__name__}: {reason})"
            ) from None

    def _missing_message(self) -> str:
        return (f"no search index {self.alias!r} in Elasticsearch at {self.shown_url}; "
                "build it with `python -m movies_assistant ingest`")

    def _alias_indices(self) -> list[str]:
        """The concrete indices behind the alias (empty when there is no alias)."""
        try:
            return sorted(self._read.indices.get_alias(name=self.alias))
        except NotFoundError:
            return []

    # -- writing ---------------------------------------------------------
    def rebuild(self, chunks: Iterable[list[Movie]], progress=None) -> int:
        stamp = time.strftime("%Y%m%dt%H%M%S", time.gmtime())
        name = f"{self.alias}-{stamp}-{uuid.uuid4().hex[:8]}"
        es = self._es
        with self._guard("create an index"):
            es.indices.create(index=name, settings={
                "number_of_shards": 1, "number_of_replicas": 0, "auto_expand_replicas": False,
                "refresh_interval": "-1",
            }, mappings=MAPPINGS)
        try:
            with self._guard("build the index"):
                sent, created = self._load(name, chunks, progress)
                es.indices.put_settings(index=name, settings={"index": {
                    "refresh_interval": "1s", "auto_expand_replicas": "0-1",
                }})
                es.indices.refresh(index=name)
                indexed = es.count(index=name)["count"]
                if indexed != created:  # created = movies sent less repeated ids
                    raise RuntimeError(f"index {name} holds {indexed} movies, expected {created} (sent {sent})")
                # one segment: the index is read-only until the next rebuild, and searches visit each segment
                es.options(request_timeout=FORCE_MERGE_TIMEOUT).indices.forcemerge(index=name, max_num_segments=1)
                es.cluster.health(index=name, wait_for_status="yellow", timeout="60s")
                self._switch_alias(name)
        except BaseException:
            try:
                self._es.options(ignore_status=404, request_timeout=30).indices.delete(index=name)
            except Exception as exc:  # the failure that got us here matters more
                log.warning("could not delete the half-built index %s: %s", name, self._scrub(str(exc)))
            raise
        self._delete_old_builds(keep=name)
        self._vectors_seen = None  # the new index has no vectors until `write_vectors`
        return sent

    def _load(self, name: str, chunks: Iterable[list[Movie]], progress) -> tuple[int, int]:
        """Bulk-load every chunk into `name`; raises when any document fails after retries."""
        es = self._es.options(request_timeout=self.bulk_timeout)
        sent = created = 0
        failed: list[str] = []
        failures = 0
        for chunk in chunks:
            actions = ({"_op_type": "index", "_index": name, "_id": str(m.id), "_source": document(m)}
                       for m in chunk)
            for ok, result in self._bulk(es, actions, BULK_CHUNK_DOCS):
                if ok:
                    created += result.get("result") == "created"
                else:
                    failures += 1
                    if len(failed) < 5:
                        error = result.get("error") or {}
                        reason = error.get("reason", error) if isinstance(error, dict) else error
                        failed.append(f"id {result.get('_id')}: HTTP {result.get('status')} {reason}"[:300])
            sent += len(chunk)
            if failures:
                raise RuntimeError(f"{failures} movie(s) could not be indexed into {name}: " + "; ".join(failed))
            if progress:
                progress(len(chunk))
        return sent, created

    def _bulk(self, es, actions, chunk_size: int):
        """`streaming_bulk` with this store's retries; yields (ok, the item's result) per action."""
        for ok, item in streaming_bulk(
            es, actions, chunk_size=chunk_size, max_chunk_bytes=BULK_CHUNK_BYTES,
            raise_on_error=False, raise_on_exception=True, max_retries=self.bulk_retries,
            initial_backoff=self.bulk_initial_backoff, max_backoff=30, retry_on_status=BULK_RETRY_STATUS,
        ):
            yield ok, next(iter(item.values()))

    def _switch_alias(self, name: str) -> None:
        actions: list[dict] = [{"remove": {"index": old, "alias": self.alias}} for old in self._alias_indices()]
        if self._es.options(ignore_status=404).indices.exists(index=self.alias) and not actions:
            # a concrete index (not an alias) has the name: replace it in the same atomic step
            actions.append({"remove_index": {"index": self.alias}})
        actions.append({"add": {"index": name, "alias": self.alias}})
        self._es.indices.update_aliases(actions=actions)

    def _builds(self) -> list[str]:
        """Every versioned index this store's rebuilds made (by name), serving or not."""
        pattern = re.compile(re.escape(self.alias) + r"-\d{8}t\d{6}-[0-9a-f]{8}")
        found = self._es.indices.get(index=f"{self.alias}-*", expand_wildcards="open,closed",
                                     filter_path="*.settings.index.provided_name")
        return sorted(n for n in (found.body or {}) if pattern.fullmatch(n))

    def _delete_old_builds(self, keep: str) -> None:
        try:
            serving = set(self._alias_indices())
            for index in self._builds():
                if index != keep and index not in serving:
                    self._es.options(ignore_status=404).indices.delete(index=index)
        except (ApiError, TransportError) as exc:
            log.warning("could not delete old builds of %s: %s", self.alias, self._scrub(str(exc)))

    def drop(self) -> None:
        """Delete the alias and every build behind it (for tests and tear-down; not in the protocol)."""
        with self._guard("delete the index"):
            for index in sorted(set(self._builds()) | set(self._alias_indices())):
                self._es.options(ignore_status=404).indices.delete(index=index)

    def upsert(self, movies: list[Movie]) -> None:
        if not movies:
            return
        docs = [document(movie) for movie in movies]
        if self.has_vectors():  # a replaced document keeps a vector, of its new text
            for doc, vector in zip(docs, self.embedder.embed([embedding_text(m) for m in movies])):
                doc[VECTOR_FIELD] = [float(x) for x in vector]
        operations: list[dict] = []
        for movie, doc in zip(movies, docs):
            operations += [{"index": {"_index": self.alias, "_id": str(movie.id)}}, doc]
        with self._guard("update the index"):
            response = self._es.bulk(operations=operations, refresh=True, require_alias=True)
        self._raise_bulk_errors(response, "upsert")

    def delete(self, ids: list[int]) -> None:
        if not ids:
            return
        with self._guard("update the index"):
            if not self._alias_indices():
                raise SearchUnavailable(self._missing_message())
            response = self._es.bulk(operations=[{"delete": {"_index": self.alias, "_id": str(int(i))}} for i in ids],
                                     refresh=True)
        self._raise_bulk_errors(response, "delete", ignore=(404,))

    def _raise_bulk_errors(self, response, what: str, ignore: tuple[int, ...] = ()) -> None:
        if not response.get("errors"):
            return
        problems = []
        for item in response["items"]:
            result = next(iter(item.values()))
            if result.get("status", 200) < 300 or result.get("status") in ignore:
                continue
            error = result.get("error") or {}
            if isinstance(error, dict) and error.get("type") == "index_not_found_exception":
                raise SearchUnavailable(self._missing_message())
            problems.append(f"id {result.get('_id')}: {error.get('reason') if isinstance(error, dict) else error}")
        if problems:
            raise RuntimeError(f"{what} failed for {len(problems)} movie(s): " + "; ".join(problems[:5]))

    # -- reading ---------------------------------------------------------
    def exists(self) -> bool:
        with self._guard("check the index"):
            return bool(self._read.indices.exists_alias(name=self.alias))

    def count(self) -> int:
        with self._guard("count the movies"):
            return int(self._read.count(index=self.alias)["count"])

    def _lexical(self, text: str, filters: Filters, k: int) -> list[Hit]:
        clauses = filter_clauses(filters)
        if not re.sub(r"[^\w]+", " ", text).strip():
            query = {"bool": {"filter": clauses}} if clauses else {"match_all": {}}
            return self._hits(self._query(query=query, size=k, sort=[{"vote_count": {"order": "desc"}}]), "lexical")
        query = _with_prior(text_query(text), clauses)
        first_pass = candidate_text(text)
        if first_pass != text:  # candidates from the rarer words, ranked by the whole question
            window = max(RESCORE_WINDOW, k)
            rescore = {"window_size": window, "query": {
                "rescore_query": query, "query_weight": 0.0, "rescore_query_weight": 1.0}}
            response = self._query(query=_with_prior(text_query(text, first_pass), clauses), size=k,
                                   rescore=rescore, track_total_hits=window)
            if response["hits"]["total"]["value"] >= window:  # else a film with only common words may be better
                return self._hits(response, "lexical")
        return self._hits(self._query(query=query, size=k), "lexical")

    def _baseline(self, text: str, filters: Filters, k: int) -> list[Hit]:
        """The original project's query, as it was: multi_match best_fields, fuzziness AUTO, BASELINE_FIELDS."""
        fields = [f"{name}^{boost:g}" for name, boost in BASELINE_FIELDS.items()]
        query = {"bool": {"must": [{"multi_match": {"query": text, "fields": fields, "type": "best_fields",
                                                    "fuzziness": "AUTO"}}],
                          "filter": filter_clauses(filters)}}
        return self._hits(self._query(query=query, size=k), "baseline")

    def _dense(self, vector, filters: Filters, k: int) -> list[Hit]:
        knn = {"field": VECTOR_FIELD, "query_vector": [float(x) for x in vector], "k": k,
               "num_candidates": max(KNN_CANDIDATES, 2 * k), "filter": filter_clauses(filters)}
        return self._hits(self._query(knn=knn, size=k), "dense")

    def _query(self, track_total_hits: bool | int = False, **body) -> dict:
        with self._guard("search"):
            return self._read.search(index=self.alias, track_total_hits=track_total_hits,
                                     source_excludes=[VECTOR_FIELD], **body)

    @staticmethod
    def _hits(response: dict, method: str) -> list[Hit]:
        return [Hit(movie_from_source(hit["_source"]), float(hit.get("_score") or 0.0), method)
                for hit in response["hits"]["hits"]]

    def _vectors_ready(self) -> bool:
        """Whether the index holds vectors of this store's model (remembered; "none yet" rechecked every 30 s)."""
        if self.embedder is None:
            return False
        now = time.monotonic()
        seen = self._vectors_seen
        if seen is None or (seen[0] != self.embedder.vectors_id and now - seen[1] > VECTORS_RECHECK_S):
            with self._guard("check the vectors"):
                mapping = self._read.indices.get_mapping(index=self.alias)
                model = ""
                for index in mapping.body.values():
                    model = index["mappings"].get("_meta", {}).get("vector_model", "")
                if model:
                    has_any = self._read.count(index=self.alias, query={"exists": {"field": VECTOR_FIELD}})["count"]
                    model = model if has_any else ""
            self._vectors_seen = seen = (model, now)
        return seen[0] == self.embedder.vectors_id

    def write_vectors(self, chunks, vectors_id: str, progress=None) -> int:
        """Partial updates of the live index: lexical search keeps serving while vectors arrive."""
        written = 0
        chunks = iter(chunks)
        first = next(chunks, None)
        with self._guard("write vectors"):
            targets = self._alias_indices()
            if not targets:
                raise SearchUnavailable(self._missing_message())
            mappings = self._es.indices.get_mapping(index=targets[0]).body[targets[0]]["mappings"]
            dims = mappings.get("properties", {}).get(VECTOR_FIELD, {}).get("dims")
            if first is not None and dims and dims != first.vectors.shape[1]:  # a dense_vector's size is fixed
                raise SearchUnavailable(
                    f"the index holds {dims}-dimension vectors of another embedding model, and these have "
                    f"{first.vectors.shape[1]}: rebuild it with `python -m movies_assistant ingest`, which then adds "
                    "them (the old index serves until the new one is complete)")
            self._es.indices.put_mapping(index=targets[0], meta={**mappings.get("_meta", {}), "vector_model": vectors_id})
            es = self._es.options(request_timeout=self.bulk_timeout)
            for chunk in itertools.chain([first] if first is not None else [], chunks):
                actions = ({"_op_type": "update", "_index": targets[0], "_id": str(int(i)),
                            "doc": {VECTOR_FIELD: [round(float(x), 6) for x in v]}}
                           for i, v in zip(chunk.ids, chunk.vectors))
                for ok, result in self._bulk(es, actions, VECTOR_UPDATE_DOCS):
                    if ok:
                        written += 1
                    elif result.get("status") != 404:  # a movie no longer indexed: its vector is dropped
                        raise RuntimeError(f"vector of movie {result.get('_id')} not written: {result.get('error')}")
                if progress:
                    progress(len(chunk.ids))
            es.indices.refresh(index=targets[0])
        self._vectors_seen = None
        return written

    def get(self, ids: list[int]) -> list[Movie]:
        if not ids:
            return []
        wanted = [str(int(i)) for i in ids]
        with self._guard("fetch movies"):
            response = self._read.mget(index=self.alias, ids=sorted(set(wanted)), source_excludes=[VECTOR_FIELD])
        found = {doc["_id"]: movie_from_source(doc["_source"]) for doc in response["docs"] if doc.get("found")}
        if not found and any(d.get("error") for d in response["docs"]):
            if any(_error_type(d) == "index_not_found_exception" for d in response["docs"]):
                raise SearchUnavailable(self._missing_message())
        return [found[i] for i in wanted if i in found]

    def known_people(self, names: list[str]) -> list[str]:
        if not names:
            return []
        keys = sorted({normalize_name(n) for n in names if n.strip()})
        if not keys:
            return []
        with self._guard("look up people"):
            response = self._read.search(
                index=self.alias, size=0, query={"terms": {"people": keys}},
                aggs={"people": {"terms": {"field": "people", "include": keys, "size": len(keys)}}},
            )
        present = {bucket["key"] for bucket in response["aggregations"]["people"]["buckets"]}
        return [n for n in names if normalize_name(n) in present]


def _with_prior(text: dict, filters: list[dict]) -> dict:
    """`text` among the movies `filters` accept, its score multiplied by the popularity prior."""
    return {"function_score": {
        "query": {"bool": {"must": [text], "filter": filters}},
        "functions": [{"field_value_factor": {"field": "prior", "missing": 1.0}}],
        "boost_mode": "multiply",
    }}


def _error_type(error: Any) -> str:
    """The Elasticsearch error type of an ApiError or an mget/bulk item, or ""."""
    body = getattr(error, "body", error)
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict):
            return str(inner.get("type", ""))
    return ""
