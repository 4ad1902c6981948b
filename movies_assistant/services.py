"""The long-lived parts of one app instance, built once on first use and shared by requests."""

from __future__ import annotations

import logging
from functools import cached_property

from .config import Settings
from .judge import Judge
from .llm import ModelProvider, open_provider
from .logstore import LogStore, LogStoreUnavailable, open_log_store
from .rag import Assistant
from .retrieval import Retriever
from .search import SearchStore, open_store

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: Settings):
        self.settings = settings

    @cached_property
    def store(self) -> SearchStore:
        return open_store(self.settings)

    @cached_property
    def retriever(self) -> Retriever:
        """Searches as questions are answered, without a model or a log (`GET /search`, the CLI)."""
        return Retriever(self.store, self.settings.top_k)

    @cached_property
    def provider(self) -> ModelProvider:
        return open_provider(self.settings)

    @cached_property
    def log_store(self) -> LogStore:
        return open_log_store(self.settings)

    @property
    def log(self) -> LogStore:
        """The log store, migrated before first use. While the database is down it still takes writes
        (into its spool) and migrates on a later call."""
        try:
            self.log_store.ensure_schema()
        except LogStoreUnavailable as exc:
            log.warning("%s; answers and feedback go to the spool until it returns", exc)
        return self.log_store

    @cached_property
    def judge(self) -> Judge | None:
        s = self.settings
        if s.judge_provider == "none":
            return None
        return Judge(open_provider(s, s.judge_provider, s.judge_model or None), self.log_store)

    @cached_property
    def assistant(self) -> Assistant:
        s = self.settings
        return Assistant(self.store, self.provider, self.log, s.top_k, self.judge, grounding=s.grounding,
                         prices=s.price_table)
