"""Movie vectors for dense search: reused when already computed, embedded in batches otherwise.

A vector is reused only for the same (movie id, hash of the embedded text, model, recipe). Two sources
hold computed vectors:

- the shipped files `data/movie-vectors-<model>.npz` (the bundled corpus, written by `embed --export`),
  so `make run` and CI never spend minutes embedding, whichever EMBEDDING_MODELS;
- a cache in the instance folder (SQLite, one commit per batch), so an interrupted `embed` of the
  720k-movie set resumes where it stopped.

Everything else is embedded, BATCH texts at a time, and appended to the cache.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from .embeddings import EMBEDDING_RECIPE, Embedder, embedding_text, text_hash
from .movies import Movie

BATCH = 256  # texts embedded (and committed to the cache) per step
SHIPPED_FORMAT = 1


@dataclass
class VectorChunk:
    """Vectors of some movies: `ids[i]`, whose embedded text hashed to `hashes[i]`, has `vectors[i]`
    (float32, unit length)."""

    ids: np.ndarray
    hashes: np.ndarray
    vectors: np.ndarray


class ShippedVectors:
    """The read-only vectors of the bundled corpus: one file per model in `folder` (data/), written by
    `embed --export`; an ensemble's vectors are put together from its models' files. A file counts
    only when its model and text recipe match."""

    def __init__(self, folder: Path, embedder: Embedder, recipe: str = EMBEDDING_RECIPE):
        self.parts = [(scale, *_read_shipped(shipped_file(folder, model), model.model_id, recipe))
                      for scale, model in embedder.members()]
        self.keys = set.intersection(*(set(rows) for _, rows, _ in self.parts))

    def __len__(self) -> int:
        return len(self.keys)

    def lookup(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], np.ndarray]:
        return {key: np.concatenate([scale * vectors[rows[key]].astype(np.float32) for scale, rows, vectors in self.parts])
                for key in keys if key in self.keys}


def shipped_file(folder: Path, model: Embedder) -> Path:
    return Path(folder) / f"movie-vectors-{model.name}.npz"


def _read_shipped(path: Path, model_id: str, recipe: str) -> tuple[dict[tuple[int, int], int], np.ndarray]:
    """(movie id, text hash) -> row, and the vectors, of one model's file; nothing if it is of another."""
    if not path.is_file():
        return {}, np.zeros((0, 0), dtype=np.float16)
    with np.load(path) as data:
        if int(data["format"]) != SHIPPED_FORMAT or str(data["model"]) != model_id or str(data["recipe"]) != recipe:
            return {}, np.zeros((0, 0), dtype=np.float16)
        rows = {(int(i), int(h)): row for row, (i, h) in enumerate(zip(data["ids"], data["hashes"]))}
        return rows, data["vectors"]


def write_shipped(folder: Path, ids: np.ndarray, hashes: np.ndarray, vectors: np.ndarray, embedder: Embedder) -> list[Path]:
    """Write `embedder`'s vectors as shipped files, one per model (float16: half the size, no measurable
    loss in ranking). Returns the files written."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    written = []
    for model, own in embedder.split(vectors):
        path = shipped_file(folder, model)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, format=SHIPPED_FORMAT, model=model.model_id, recipe=EMBEDDING_RECIPE,
                 ids=ids.astype(np.int64), hashes=hashes.astype(np.int64), vectors=own.astype(np.float16))
        tmp.replace(path)
        written.append(path)
    return written


class VectorCache:
    """Computed vectors in a SQLite file, keyed by (model, recipe, movie id, text hash)."""

    def __init__(self, path: Path, model_id: str, recipe: str = EMBEDDING_RECIPE):
        self.path = Path(path)
        self.key = (model_id, recipe)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, recipe TEXT NOT NULL, "
                         "id INTEGER NOT NULL, text_hash INTEGER NOT NULL, vector BLOB NOT NULL, "
                         "PRIMARY KEY (model, recipe, id, text_hash))")

    def close(self) -> None:
        self._db.close()

    def lookup(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], np.ndarray]:
        wanted = set(keys)
        found = {}
        ids = sorted({movie_id for movie_id, _ in keys})
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            rows = self._db.execute(
                f"SELECT id, text_hash, vector FROM vectors WHERE model = ? AND recipe = ? "
                f"AND id IN ({', '.join('?' * len(part))})", (*self.key, *part))
            for movie_id, hashed, blob in rows:
                if (movie_id, hashed) in wanted:
                    found[(movie_id, hashed)] = np.frombuffer(blob, dtype=np.float16)
        return found

    def add(self, keys: list[tuple[int, int]], vectors: np.ndarray) -> None:
        with self._db:  # one transaction per batch: an interruption loses at most this batch
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?)",
                                 [(*self.key, i, h, v.astype(np.float16).tobytes()) for (i, h), v in zip(keys, vectors)])


@dataclass
class VectorReport:
    movies: int = 0
    reused: int = 0
    embedded: int = 0


def movie_vectors(chunks: Iterable[list[Movie]], embedder: Embedder, cache: VectorCache,
                  shipped: ShippedVectors | None = None, report: VectorReport | None = None,
                  progress: Callable[[int], None] | None = None) -> Iterator[VectorChunk]:
    """The vector of every movie of `chunks`, a chunk at a time: reused when stored, embedded otherwise.

    `progress(n)` is called as n more movies get their vector.
    """
    report = report if report is not None else VectorReport()
    for chunk in chunks:
        texts = [embedding_text(m) for m in chunk]
        keys = [(m.id, text_hash(t)) for m, t in zip(chunk, texts)]
        found = shipped.lookup(keys) if shipped else {}
        missing = [key for key in keys if key not in found]
        found.update(cache.lookup(missing) if missing else {})
        report.movies += len(chunk)
        report.reused += len(found)
        if progress and found:
            progress(len(found))
        todo = [(key, text) for key, text in zip(keys, texts) if key not in found]
        for start in range(0, len(todo), BATCH):
            batch = todo[start:start + BATCH]
            vectors = embedder.embed([text for _, text in batch])
            cache.add([key for key, _ in batch], vectors)
            found.update({key: vector for (key, _), vector in zip(batch, vectors)})
            report.embedded += len(batch)
            if progress:
                progress(len(batch))
        yield VectorChunk(np.array([movie_id for movie_id, _ in keys], dtype=np.int64),
                          np.array([hashed for _, hashed in keys], dtype=np.int64),
                          np.stack([found[key] for key in keys]).astype(np.float32) if keys
                          else np.zeros((0, 0), dtype=np.float32))
