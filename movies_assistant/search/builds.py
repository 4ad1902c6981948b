"""The embedded backend's builds: which one to serve, and whether its files are still the ones written.

Each build folder holds `manifest.json`, every file's size and sha256, written whenever a build is
(re)written: `ingest`, `embed`, upsert and delete. A build is verified against it before tantivy
memory-maps it, so an overwritten or truncated file is found before the engine reads it (a damaged
segment makes tantivy panic, and a truncated mapped file kills the process with SIGBUS). Each search
then compares the files' sizes and modification times with those seen at opening, and re-verifies
when they changed under a running server.

`CURRENT` names the build to serve; the previous build is kept, so when the current one is missing or
damaged the previous good one serves (and /health says so). With neither, searches raise
`BuildDamaged`, a `SearchUnavailable`: a 503 naming the index.

The vectors (`vectors.faiss`, `vectors.json`) are checked apart: when only they are damaged, the build
still serves lexical search.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .base import SearchUnavailable

MANIFEST = "manifest.json"
VECTOR_FILES = ("vectors.faiss", "vectors.json")
_CHUNK = 1 << 20


class BuildDamaged(SearchUnavailable):
    """No build of the index can be served: missing, or its files are not the ones written."""


def _listed(folder: Path) -> list[str]:
    """The build's data files: everything but the manifest, files being written aside, and tantivy's locks."""
    return sorted(p.name for p in folder.iterdir()
                  if p.is_file() and p.name != MANIFEST and not p.name.endswith(".tmp") and not p.name.endswith(".lock"))


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def write_manifest(folder: Path) -> None:
    """Record each file's size and checksum; the manifest appears whole (written aside, then renamed)."""
    files = {name: {"size": (folder / name).stat().st_size, "sha256": _sha256(folder / name)} for name in _listed(folder)}
    tmp = folder / f"{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"files": files}, indent=1))
    os.replace(tmp, folder / MANIFEST)


def _read_manifest(folder: Path) -> dict | None:
    """The manifest's files, or None for a build written before manifests existed."""
    try:
        return json.loads((folder / MANIFEST).read_text())["files"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable {MANIFEST}: {exc}") from None


def verify(folder: Path) -> tuple[str | None, str | None]:
    """(what is wrong with the index files, what is wrong with the vectors); None where nothing is."""
    if not folder.is_dir():
        return "the build folder is missing", None
    try:
        files = _read_manifest(folder)
    except ValueError as exc:
        return str(exc), None
    if files is None:
        return None, None  # an older build: nothing to check against
    index_problems, vector_problems = [], []
    for name, expected in files.items():
        problems = vector_problems if name in VECTOR_FILES else index_problems
        path = folder / name
        try:
            size = path.stat().st_size
            if size != expected["size"]:
                problems.append(f"{name} is {size:,} bytes, {expected['size']:,} when written")
            elif _sha256(path) != expected["sha256"]:
                problems.append(f"{name} does not match its checksum")
        except FileNotFoundError:
            problems.append(f"{name} is missing")
        except OSError as exc:
            problems.append(f"{name} cannot be read ({exc.strerror})")
    return "; ".join(index_problems) or None, "; ".join(vector_problems) or None


def stamp(folder: Path, names: list[str] | None = None) -> tuple:
    """The sizes and modification times of the build's files (`names`, default all): changes when any is
    rewritten, truncated or removed."""
    def one(path: Path):
        try:
            s = os.stat(path)
            return s.st_size, s.st_mtime_ns
        except OSError:
            return None

    if names is None:
        try:
            names = _listed(folder)
        except OSError:
            return ()
    return tuple((name, one(f"{folder}/{name}")) for name in [MANIFEST, *names])


def is_engine_panic(exc: BaseException) -> bool:
    """A Rust panic surfaced by pyo3: a BaseException, so `except Exception` never sees it."""
    return type(exc).__name__ == "PanicException" and type(exc).__module__ == "pyo3_runtime"


@dataclass
class Served:
    """The build being searched: its folder, the opened engine index and what is known to be wrong."""

    name: str
    folder: Path
    index: object
    stamp: tuple
    vectors_problem: str | None = None
    problems: list[str] = field(default_factory=list)  # why an older build serves, if it does


class Builds:
    """Picks, verifies and opens the build to serve; thread-safe. `open_index(folder)` opens one for the engine."""

    def __init__(self, root: Path, open_index: Callable[[Path], object]):
        self.root = Path(root)
        self._open_index = open_index
        self._lock = threading.Lock()
        self._served: Served | None = None
        self._current: str | None = None  # CURRENT when last resolved
        self._current_stamp: tuple = ()
        self._failure: BuildDamaged | None = None
        self._broken: dict[str, str] = {}  # builds the engine failed on since this process opened them
        self._names: dict[Path, list[str]] = {}  # each build's files when last resolved
        self._current_name, self._current_file = "", None

    @property
    def folder(self) -> Path:
        return self.root / "builds"

    def current(self) -> str:
        """The build CURRENT names, read again only when the file was replaced (a rebuild renames a new one in)."""
        try:
            s = os.stat(self.root / "CURRENT")
            seen = (s.st_ino, s.st_mtime_ns, s.st_size)
            if seen != self._current_file:
                self._current_name, self._current_file = (self.root / "CURRENT").read_text().strip(), seen
            return self._current_name
        except FileNotFoundError:
            raise SearchUnavailable(
                f"no search index at {self.root}; build it with `python -m movies_assistant ingest`"
            ) from None

    def _stamp(self, folder: Path) -> tuple:
        """`stamp` of the files the folder held when last looked at (no directory listing per search)."""
        names = self._names.get(folder)
        if names is None:
            try:
                names = self._names[folder] = _listed(folder)
            except OSError:
                return ()
        return stamp(folder, names)

    def served(self) -> Served:
        """The build to search now: re-chosen when CURRENT moved or a file changed since it was verified."""
        current = self.current()
        with self._lock:
            served = self._served
            if (current != self._current or self._stamp(self.folder / current) != self._current_stamp
                    or (served is not None and served.name != current and self._stamp(served.folder) != served.stamp)):
                self._resolve(current)
            if self._served is None:
                raise self._failure
            return self._served

    def writable(self) -> Served:
        """The current build, to rewrite in place (an upsert or delete); never an older one serving in its place."""
        served = self.served()
        if served.problems:
            raise BuildDamaged("; ".join(served.problems))
        return served

    def _resolve(self, current: str) -> None:
        self._served = None  # dropped first: the engine unmaps a damaged build before another is opened
        self._names.clear()
        self._current, self._current_stamp = current, self._stamp(self.folder / current)
        problems = []
        # an older build needs its manifest: without one it may be a rebuild still being written
        older = sorted((p.name for p in self.folder.iterdir()
                        if p.name != current and (p / MANIFEST).is_file()), reverse=True) if self.folder.is_dir() else []
        for name in [current, *older]:
            folder = self.folder / name
            seen = self._stamp(folder)
            problem, vectors_problem = self._broken.get(name), None
            if problem is None:
                problem, vectors_problem = verify(folder)
            if problem is None:
                try:
                    index = self._open_index(folder)
                except (ValueError, OSError) as exc:
                    problem = f"the engine cannot open it ({exc})"
                except BaseException as exc:
                    if not is_engine_panic(exc):
                        raise
                    problem = f"the engine cannot open it ({exc})"
            if problem is None:
                if name != current:
                    problems.append(f"serving the previous build {name}")
                if vectors_problem:
                    vectors_problem = f"the vectors of search index build {folder} are damaged: {vectors_problem}"
                self._served = Served(name, folder, index, seen, vectors_problem, problems)
                return
            problems.append(f"search index build {folder} is damaged: {problem}")
        self._failure = BuildDamaged("; ".join(problems) + "; rebuild it with `python -m movies_assistant ingest`")

    def vectors_failed(self, served: Served, exc: Exception) -> None:
        """The vectors of `served` passed the checks but faiss could not read them."""
        served.vectors_problem = f"the vectors of search index build {served.folder} cannot be read: {exc}"

    def engine_failed(self, exc: BaseException) -> BuildDamaged:
        """The engine panicked reading the served build: stop serving it (an older build may take over)."""
        with self._lock:
            served = self._served
            if served is not None:
                self._broken[served.name] = f"the engine failed reading it ({exc})"
                self._current = None  # re-chosen on the next search
            where = served.folder if served else self.root
        return BuildDamaged(f"search index build {where} is damaged: the engine failed reading it ({exc})")


def guarded(method):
    """Turn an engine panic inside a LocalStore method into BuildDamaged (a 503), so the worker survives."""
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except BaseException as exc:
            if not is_engine_panic(exc):
                raise
            raise self._builds.engine_failed(exc) from None
    return call
