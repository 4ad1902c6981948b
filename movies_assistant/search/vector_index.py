"""The embedded backend's dense vectors: a faiss index file beside the tantivy index, keyed by movie id.

Exact (flat inner product) search up to EXACT_LIMIT vectors: under a millisecond at 18k, and exact.
Larger sets use HNSW over 8-bit scalar-quantised vectors (a quarter of the memory of float32), with
the filtered ids as a faiss ID selector so filters stay real filters.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Iterable

import numpy as np

EXACT_LIMIT = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
INDEX_FILE = "vectors.faiss"
META_FILE = "vectors.json"


@functools.cache
def _faiss():
    """faiss, imported on first use (the lexical-only path never loads it), on one thread.

    A query is too little work to share: on a busy machine OpenMP's waiting threads made an exact search
    of 18k vectors take 13 ms instead of 1 ms. (HNSW builds at large N are single-threaded too.)
    """
    import faiss

    faiss.omp_set_num_threads(1)
    return faiss


class VectorIndex:
    """A loaded faiss index of one build folder, and the model its vectors came from."""

    def __init__(self, index, vectors_id: str):
        self.index = index
        self.vectors_id = vectors_id

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @staticmethod
    def files(folder: Path) -> tuple[Path, Path]:
        return folder / INDEX_FILE, folder / META_FILE

    @classmethod
    def load(cls, folder: Path) -> VectorIndex | None:
        index_file, meta_file = cls.files(folder)
        try:
            meta = json.loads(meta_file.read_text())
        except (OSError, ValueError):
            return None
        index = _faiss().read_index(str(index_file))
        return cls(index, meta.get("model", ""))

    @classmethod
    def build(cls, chunks: Iterable, vectors_id: str, expected: int, progress=None) -> VectorIndex:
        """An index of every vector of `chunks`; `expected` (the movie count) picks exact or HNSW."""
        faiss = _faiss()
        index = None
        for chunk in chunks:
            if len(chunk.ids) == 0:
                continue
            if index is None:
                dims = chunk.vectors.shape[1]
                if expected <= EXACT_LIMIT:
                    inner = faiss.IndexFlatIP(dims)
                else:
                    inner = faiss.IndexHNSWSQ(dims, faiss.ScalarQuantizer.QT_8bit, HNSW_M, faiss.METRIC_INNER_PRODUCT)
                    inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
                    inner.train(chunk.vectors)  # 8-bit ranges from the first chunk: unit vectors, stable
                index = faiss.IndexIDMap2(inner)
            index.add_with_ids(np.ascontiguousarray(chunk.vectors, dtype=np.float32), chunk.ids)
            if progress:
                progress(len(chunk.ids))
        return cls(index, vectors_id)

    def save(self, folder: Path) -> None:
        """Write index and metadata; each file appears whole (written aside, then renamed)."""
        if self.index is None:
            return
        index_file, meta_file = self.files(folder)
        tmp = index_file.with_name(f"{INDEX_FILE}.{os.getpid()}.tmp")
        _faiss().write_index(self.index, str(tmp))
        os.replace(tmp, index_file)
        tmp_meta = meta_file.with_name(f"{META_FILE}.{os.getpid()}.tmp")
        tmp_meta.write_text(json.dumps({"model": self.vectors_id, "vectors": self.size}))
        os.replace(tmp_meta, meta_file)

    def search(self, vector: np.ndarray, k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]:
        """The `k` nearest (movie id, cosine) pairs, among `allowed` ids when given."""
        faiss = _faiss()
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        params = None
        if allowed is not None:
            if not allowed:
                return []
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(HNSW_EF_SEARCH, k)) \
                if self._is_hnsw() else faiss.SearchParameters(sel=selector)
        elif self._is_hnsw():
            params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, k))
        scores, ids = self.index.search(query, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def _is_hnsw(self) -> bool:
        return not isinstance(_faiss().downcast_index(self.index.index), _faiss().IndexFlat)

    def remove(self, ids: list[int]) -> None:
        if ids and not self._is_hnsw():  # HNSW cannot remove; stale ids are dropped when their movie is gone
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
