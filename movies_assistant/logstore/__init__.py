"""The log store: every answer and every feedback, in SQLite (default) or PostgreSQL."""

from __future__ import annotations

from ..config import Settings
from .store import AnswerRecord, LogStore, LogStoreUnavailable, UnknownConversation


def open_log_store(settings: Settings) -> LogStore:
    if settings.database_url:
        from .connections import PostgresConnections

        return LogStore(PostgresConnections(settings.database_url))
    from .connections import SQLiteConnections

    return LogStore(SQLiteConnections(settings.sqlite_file))


__all__ = ["AnswerRecord", "LogStore", "LogStoreUnavailable", "UnknownConversation", "open_log_store"]
