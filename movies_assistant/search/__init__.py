"""Search stores: one protocol (`base.SearchStore`), one backend per module."""

from __future__ import annotations

from ..config import Settings
from .base import Filters, Hit, SearchStore, SearchUnavailable


def open_store(settings: Settings) -> SearchStore:
    """The configured backend. Elasticsearch is imported only when chosen."""
    if settings.search_backend == "elasticsearch":
        from .elastic import ElasticStore

        return ElasticStore(settings.elastic_url, settings.index_name, search_timeout=settings.elastic_timeout)
    from .local import LocalStore

    return LocalStore(settings.index_path)


__all__ = ["Filters", "Hit", "SearchStore", "SearchUnavailable", "open_store"]
