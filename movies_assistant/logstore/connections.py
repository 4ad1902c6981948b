"""How each database is connected to; the only place where SQLite and PostgreSQL differ."""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path


class SQLiteConnections:
    """A connection per use: SQLite connections must not cross threads, and opening one is cheap."""

    name = "sqlite"
    types = {"pk": "INTEGER PRIMARY KEY AUTOINCREMENT", "ts": "TEXT", "json": "TEXT"}
    # First statement of each migration transaction: makes the DDL transactional (Python's sqlite3
    # would otherwise run CREATE TABLE outside any transaction) and serialises concurrent migrators.
    migration_lock = "BEGIN IMMEDIATE"
    unavailable_errors = (sqlite3.OperationalError,)
    conflict_errors = (sqlite3.IntegrityError,)
    probe_timeout = 0.2  # seconds /health waits for another writer's lock before saying writes are blocked

    def __init__(self, path: Path, timeout: float = 30.0):
        self.path = Path(path)
        self.timeout = timeout  # seconds to wait for a lock held by another writer

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    def sql(self, query: str) -> str:
        return query

    @contextmanager
    def connect(self, timeout: float | None = None):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self.timeout if timeout is None else timeout)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            self._write_ahead_log(conn)
            with conn:  # commits, or rolls back on error
                yield conn
        finally:
            conn.close()

    def _write_ahead_log(self, conn: sqlite3.Connection) -> None:
        """WAL mode, which the first connection to a new file switches on. The switch needs the file to
        itself, and SQLite answers "database is locked" at once rather than waiting for it, so several
        processes opening a new database together retry (up to `timeout`)."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def probe_write(self, statement: str) -> None:
        """Run a write that changes nothing: a read-only file or another writer's lock fails it, briefly."""
        with self.connect(timeout=self.probe_timeout) as conn:
            conn.execute(statement)


class PostgresConnections:
    """A small thread-safe pool; a broken connection is dropped so the next use reconnects."""

    name = "postgresql"
    types = {"pk": "SERIAL PRIMARY KEY", "ts": "TIMESTAMPTZ", "json": "TEXT"}
    # Held until the migration transaction ends: concurrent migrators (app processes) take turns.
    migration_lock = "SELECT pg_advisory_xact_lock(4242004242)"

    def __init__(self, url: str, max_connections: int = 8, timeout: float = 5.0):
        import psycopg2
        import psycopg2.errors
        import psycopg2.pool

        self._psycopg2 = psycopg2
        self.unavailable_errors = (psycopg2.OperationalError, psycopg2.InterfaceError, psycopg2.pool.PoolError,
                                   psycopg2.errors.ReadOnlySqlTransaction)
        self.conflict_errors = (psycopg2.errors.UniqueViolation,)
        self._url = url
        self._max = max_connections
        self._timeout = timeout
        self._pool = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        """Host and database only: the URL (or libpq "key=value" string) may hold a password."""
        from psycopg2.extensions import parse_dsn

        try:
            dsn = parse_dsn(self._url)
        except self._psycopg2.ProgrammingError:
            return "postgresql://(unparsable DATABASE_URL)"
        return f"postgresql://{dsn.get('host', 'localhost')}:{dsn.get('port', 5432)}/{dsn.get('dbname', '')}"

    def sql(self, query: str) -> str:
        return query.replace("?", "%s")

    def _get_pool(self):
        with self._lock:
            if self._pool is None:
                import psycopg2.pool

                # bounded: a database that hangs costs a request `timeout` seconds, then the spool takes over
                self._pool = psycopg2.pool.ThreadedConnectionPool(
                    0, self._max, self._url, connect_timeout=max(1, round(self._timeout)),
                    application_name="movies_assistant",
                    options=f"-c statement_timeout={int(self._timeout * 1000)}",
                )
            return self._pool

    @contextmanager
    def connect(self):
        pool = self._get_pool()
        conn = pool.getconn()
        broken = False
        try:
            with conn:  # commits, or rolls back on error
                yield conn
        except self.unavailable_errors:
            broken = True
            raise
        finally:
            pool.putconn(conn, close=broken or conn.closed != 0)

    def probe_write(self, statement: str) -> None:
        """Run a write that changes nothing: a read-only server (a standby) or a dead one fails it."""
        with self.connect() as conn:
            conn.cursor().execute(statement)
