"""A durable local spool for the log records the database could not take.

While the log database is down, answers, feedback and relevance verdicts are appended to a JSON-lines
file in the instance folder, each line written, flushed and fsynced before the request returns, so
nothing a client was told about is lost. Replay applies them in order with idempotent SQL (records
carry their own ids: INSERT ... ON CONFLICT DO NOTHING), so a replay that is interrupted and repeated
still writes each record exactly once.

Several gunicorn workers share the files, under `fcntl.flock`:

    log-spool.jsonl            appended to (the newest records)
    log-spool.replaying.jsonl  the records being replayed: renamed from the spool, so appends go on
    log-spool.rejected.jsonl   records the database refused (a constraint, not an outage), kept for a person
    log-spool.lock             held to append or to rename the spool
    log-spool.replay.lock      held by the one process that replays
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

log = logging.getLogger(__name__)


class Spool:
    def __init__(self, folder: Path, name: str = "log-spool"):
        self.folder = Path(folder)
        self.path = self.folder / f"{name}.jsonl"
        self.replaying = self.folder / f"{name}.replaying.jsonl"
        self.rejected = self.folder / f"{name}.rejected.jsonl"
        self._lock_path = self.folder / f"{name}.lock"
        self._replay_lock_path = self.folder / f"{name}.replay.lock"

    def pending(self) -> bool:
        """Whether records wait for the database (two stat calls: cheap enough for every write)."""
        return self.path.exists() or self.replaying.exists()

    def append(self, kind: str, data: dict,
               amend: Callable[[list[tuple[str, dict]]], dict] | None = None) -> dict:
        """Add one record durably: written, flushed and fsynced before this returns; returns the record.

        `amend` gets the records already spooled and returns the record to write, under the same lock,
        so that what it derives from them (e.g. the next turn number) cannot race another writer.
        """
        with self._locked(self._lock_path, fcntl.LOCK_EX):
            if amend is not None:
                data = amend(list(self._read(self.replaying)) + list(self._read(self.path)))
            line = json.dumps({"kind": kind, "data": data}, ensure_ascii=False).encode("utf-8") + b"\n"
            created = not self.path.exists()
            with open(self.path, "ab+") as f:
                if not created and f.seek(0, os.SEEK_END) > 0:
                    f.seek(-1, os.SEEK_END)
                    if f.read(1) != b"\n":  # a writer died mid-line: never glue a record onto its remains
                        line = b"\n" + line
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            if created:
                self._sync_folder()
        return data

    def check_writable(self) -> None:
        """Raise OSError when a record could not be appended now (a read-only folder or spool file)."""
        with self._locked(self._lock_path, fcntl.LOCK_EX):
            if self.path.exists():
                with open(self.path, "ab") as f:  # opened for appending, nothing written
                    os.fsync(f.fileno())
                return
            probe = self.folder / f"{self.path.stem}.probe"
            with open(probe, "wb") as f:  # not the spool itself: an empty spool would count as pending
                f.write(b"\n")
                f.flush()
                os.fsync(f.fileno())
            probe.unlink()

    def records(self) -> list[tuple[str, dict]]:
        """Every spooled record, oldest first (the one being replayed, then the newer ones)."""
        with self._locked(self._lock_path, fcntl.LOCK_SH):
            return list(self._read(self.replaying)) + list(self._read(self.path))

    def count(self) -> int:
        return len(self.records())

    def replay(self, apply: Callable[[str, dict], None], unavailable: type[BaseException]) -> int | None:
        """Apply the spooled records in order and remove them; the number applied.

        None when another process is replaying. `apply` raising `unavailable` stops the replay and
        leaves the rest for the next one (records already applied are skipped by their ids then);
        any other error moves that one record to the rejected file so it cannot block the others.
        """
        with self._locked(self._replay_lock_path, fcntl.LOCK_EX | fcntl.LOCK_NB) as got:
            if not got:
                return None
            applied = 0
            while True:
                if not self.replaying.exists():
                    with self._locked(self._lock_path, fcntl.LOCK_EX):
                        if not self.path.exists():
                            return applied
                        os.replace(self.path, self.replaying)
                        self._sync_folder()
                for kind, data in self._read(self.replaying):
                    try:
                        apply(kind, data)
                    except unavailable:
                        raise
                    except Exception as exc:  # a record the database refuses must not block the spool
                        log.error("the log database refused a spooled %s record (%s); kept in %s",
                                  kind, exc, self.rejected)
                        self._reject(kind, data, exc)
                    applied += 1
                self.replaying.unlink()
                self._sync_folder()

    # -- files -----------------------------------------------------------
    def _read(self, path: Path) -> Iterator[tuple[str, dict]]:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return
        for line in raw.split(b"\n"):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                yield record["kind"], record["data"]
            except (ValueError, KeyError, TypeError):  # the torn last line of a writer that died
                log.warning("skipping an unreadable line in %s", path)

    def _reject(self, kind: str, data: dict, exc: Exception) -> None:
        line = json.dumps({"kind": kind, "data": data, "error": str(exc)[:500]}, ensure_ascii=False) + "\n"
        with open(self.rejected, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def _sync_folder(self) -> None:
        """Make a created, renamed or removed file name durable too."""
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    @contextmanager
    def _locked(self, path: Path, mode: int) -> Iterator[bool]:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, mode)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
