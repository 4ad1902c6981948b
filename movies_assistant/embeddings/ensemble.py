"""Several embedding models as one: each movie's vector is the weighted concatenation of theirs.

A dot product of two such vectors is the weighted mean of the models' cosines, so one vector field
(a faiss file, an Elasticsearch `dense_vector`) and one nearest-neighbour search score by all models
at once, and everything that stores or searches vectors stays unaware there is more than one.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .base import Embedder


class Ensemble(Embedder):
    """`parts`: (weight, model) pairs; the weight is what the model's cosine counts for in the mean."""

    def __init__(self, parts: list[tuple[float, Embedder]]):
        total = sum(weight for weight, _ in parts)
        self.parts = parts
        self.scales = [math.sqrt(weight / total) for weight, _ in parts]  # squared in a dot product
        self.name = "+".join(model.name for _, model in parts)

    @functools.cached_property
    def model_id(self) -> str:
        return " + ".join(f"{weight:g}x {model.model_id}" for weight, model in self.parts)

    def load(self) -> None:
        for _, model in self.parts:
            model.load()

    def members(self) -> list[tuple[float, Embedder]]:
        return [(scale, model) for scale, (_, model) in zip(self.scales, self.parts)]

    def split(self, vectors: np.ndarray) -> list[tuple[Embedder, np.ndarray]]:
        """Each model's own (unit) vectors out of the ensemble's."""
        out, start = [], 0
        for scale, model in self.members():
            out.append((model, vectors[:, start:start + model.dimensions] / scale))
            start += model.dimensions
        return out

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.hstack([scale * model.embed(texts) for scale, model in self.members()])

    def embed_query(self, text: str) -> np.ndarray:
        return np.concatenate([scale * model.embed_query(text) for scale, model in self.members()])
