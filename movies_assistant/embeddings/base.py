"""What every embedding model offers the search stores: texts in, unit vectors out."""

from __future__ import annotations

import functools

import numpy as np

from .recipe import EMBEDDING_RECIPE


class EmbeddingUnavailable(RuntimeError):
    """No embedding model can be loaded (files missing, or its runtime not installed)."""


class Embedder:
    """Texts -> float32 unit vectors, so a dot product is the cosine similarity. Loads its model on
    first use; safe to share between threads."""

    name = "model"  # how EMBEDDING_MODELS names it

    @property
    def model_id(self) -> str:
        """Names the model in stored vectors: vectors of another id are never reused or searched."""
        raise NotImplementedError

    @property
    def vectors_id(self) -> str:
        """What an index records of its vectors: the model and the text recipe. An index whose vectors
        have another id is not ready for dense search (its vectors are stale) until `embed` runs."""
        return f"{self.model_id} {EMBEDDING_RECIPE}"

    def load(self) -> None:
        """Load the model once; EmbeddingUnavailable says what is missing."""
        raise NotImplementedError

    def available(self) -> bool:
        try:
            self.load()
        except EmbeddingUnavailable:
            return False
        return True

    def embed(self, texts: list[str]) -> np.ndarray:
        """One unit vector per document text, shape (len(texts), dimensions)."""
        raise NotImplementedError

    def embed_query(self, text: str) -> np.ndarray:
        """The vector of a question (models trained with a query prefix add it here)."""
        return self.embed([text])[0]

    def members(self) -> list[tuple[float, Embedder]]:
        """The single models whose vectors make up this one's, each with the scale its vector gets."""
        return [(1.0, self)]

    def split(self, vectors: np.ndarray) -> list[tuple[Embedder, np.ndarray]]:
        """Each single model's own vectors out of this one's (see `members`)."""
        return [(self, vectors)]

    @functools.cached_property
    def dimensions(self) -> int:
        return len(self.embed_query("dimensions"))


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)).astype(np.float32)
