"""The log store: every answer and every feedback, in SQLite (default) or PostgreSQL."""

from __future__ import annotations

from ..config import Settings
from .spool import Spool
from .store import AnswerRecord, LogStore, LogStoreUnavailable, UnknownConversation


def open_log_store(settings: Settings) -> LogStore:
    """The configured database, with a spool in the instance folder for when it is down."""
    if settings.database_url:
        from .connections import PostgresConnections

        connections = PostgresConnections(settings.database_url, timeout=settings.database_timeout)
    else:
        from .connections import SQLiteConnections

        connections = SQLiteConnections(settings.sqlite_file, timeout=settings.database_timeout)
    return LogStore(connections, Spool(settings.instance_dir), retry_seconds=settings.spool_retry)


__all__ = ["AnswerRecord", "LogStore", "LogStoreUnavailable", "UnknownConversation", "open_log_store"]
