"""Search stores: one protocol (`base.SearchStore`), one backend per module."""

from __future__ import annotations

from ..config import Settings
from .base import Filters, Hit, SearchStore, SearchUnavailable
from .hybrid import METHODS, VectorsMissing


def open_store(settings: Settings) -> SearchStore:
    """The configured backend, searching by SEARCH_METHOD. Elasticsearch is imported only when chosen."""
    embedder = settings.embedder()
    if settings.search_backend == "elasticsearch":
        from .elastic import ElasticStore

        return ElasticStore(settings.elastic_url, settings.index_name, search_timeout=settings.elastic_timeout,
                            embedder=embedder, method=settings.search_method)
    from .local import LocalStore

    return LocalStore(settings.index_path, embedder=embedder, method=settings.search_method)


__all__ = ["METHODS", "Filters", "Hit", "SearchStore", "SearchUnavailable", "VectorsMissing", "open_store"]
