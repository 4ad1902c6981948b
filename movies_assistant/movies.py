"""The Movie record, and streaming reading and cleaning of TMDB-style CSV files.

Files use the Kaggle "Millions of Movies" columns; `directors` is an optional extra column and
unknown extra columns (poster_path, recommendations, ...) are ignored. List columns are `-`-joined.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
import sys
import zlib
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

KAGGLE_COLUMNS = (
    "id", "title", "genres", "original_language", "overview", "popularity", "production_companies",
    "release_date", "budget", "revenue", "runtime", "status", "tagline", "vote_average", "vote_count",
    "credits", "keywords",
)
REQUIRED_COLUMNS = ("id", "title")
MAX_FIELD_CHARS = 100_000  # a longer cell is a broken row, not a movie
SNIFF_BYTES = 64 * 1024  # the start of a file, checked for signs that it is not UTF-8 text
READ_ERRORS = (OSError, EOFError, zlib.error)  # unreadable or truncated files, broken gzip streams
# Bytes that are not UTF-8 are decoded with surrogateescape, as lone surrogates no UTF-8 text contains.
_UNDECODABLE = re.compile("[\udc80-\udcff]")


class CSVFormatError(ValueError):
    """The file cannot be read as a movie CSV at all (not a per-row problem)."""


@dataclass
class Movie:
    id: int
    title: str
    genres: list[str] = field(default_factory=list)
    original_language: str = ""
    overview: str = ""
    popularity: float = 0.0
    production_companies: list[str] = field(default_factory=list)
    release_date: str = ""  # ISO yyyy-mm-dd, or "" when unknown
    budget: int = 0
    revenue: int = 0
    runtime: int = 0
    status: str = ""
    tagline: str = ""
    vote_average: float = 0.0
    vote_count: int = 0
    cast: list[str] = field(default_factory=list)  # the CSV's `credits`, billing order
    keywords: list[str] = field(default_factory=list)
    directors: list[str] = field(default_factory=list)

    @property
    def year(self) -> int | None:
        return int(self.release_date[:4]) if self.release_date[:4].isdigit() else None

    def to_dict(self) -> dict:
        """The fields in declaration order plus `year`; lists are copies, as `dataclasses.asdict` gives.

        Built by hand: `asdict` recurses into every value and was ten times slower (it was the largest
        cost of ingesting, and runs for every search hit shown).
        """
        out = {}
        for name in _MOVIE_FIELDS:
            value = getattr(self, name)
            out[name] = value if type(value) in _ATOMIC else list(value) if type(value) is list else deepcopy(value)
        out["year"] = self.year
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Movie:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})

    def label(self) -> str:
        """`Title (year)`, how films are named in answers."""
        return f"{self.title} ({self.year})" if self.year else self.title


def rank_films(movies: list[Movie], field: str, highest: bool) -> tuple[list[Movie], list[Movie]]:
    """`movies` that record `field`, best first, and those that do not (a 0 budget or an unrated film
    is unknown, not last)."""
    known = [m for m in movies if getattr(m, field) and (field != "vote_average" or m.vote_count)]
    order = sorted(known, key=lambda m: getattr(m, field), reverse=highest)
    return order, [m for m in movies if m not in known]


_MOVIE_FIELDS = tuple(Movie.__dataclass_fields__)
_ATOMIC = frozenset({str, int, float, bool, type(None)})  # values deepcopy returns as they are


@dataclass
class ReadReport:
    """What a read saw: rows read, rejected rows by reason, and a few examples to show the user."""

    rows_read: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        if len(self.examples) < 5:
            self.examples.append(f"line {line}: {reason}")


def open_text(path: Path) -> io.TextIOBase:
    """Open a CSV (optionally gzipped) as UTF-8 text; CSVFormatError when it cannot be one.

    Undecodable bytes do not stop the read: they become lone surrogates, and their rows are rejected.
    """
    path = Path(path)
    if not path.is_file():
        raise CSVFormatError(f"{path}: no such file")
    raw = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")
    try:
        head = raw.read(SNIFF_BYTES)
        raw.seek(0)
    except READ_ERRORS as exc:
        raw.close()
        raise CSVFormatError(f"{path}: cannot be read ({exc})") from None
    problem = _not_utf8_text(head)
    if problem:
        raw.close()
        raise CSVFormatError(f"{path}: {problem}")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _not_utf8_text(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "is UTF-16 or UTF-32 encoded; save it as UTF-8"
    if b"\x00" in head:
        return "is not a text CSV (it holds binary data)"
    return ""


def read_movies(path: Path, report: ReadReport, chunk_rows: int = 5000) -> Iterator[list[Movie]]:
    """Yield cleaned movies in chunks of `chunk_rows`; bad rows are counted in `report`, not raised.

    Memory stays bounded by one chunk whatever the file size. Duplicate ids keep the first row. A file
    that cannot be read to its end, or has no usable row, raises CSVFormatError (from inside the
    store's rebuild, which then keeps the previous index).
    """
    csv.field_size_limit(sys.maxsize)
    seen: set[int] = set()
    with open_text(path) as text:
        reader = csv.reader(text)
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise CSVFormatError(f"{path}: the file is empty") from None
        except csv.Error as exc:
            raise CSVFormatError(f"{path}: unreadable header ({exc})") from None
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise CSVFormatError(
                f"{path}: missing column(s) {', '.join(missing)}; expected the Kaggle 'Millions of Movies' "
                f"columns ({', '.join(KAGGLE_COLUMNS)}) and optionally 'directors'"
            )
        position = {name: i for i, name in enumerate(header)}
        chunk: list[Movie] = []
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                report.rows_read += 1
                report.reject(reader.line_num, f"broken CSV quoting ({exc})")
                continue
            except READ_ERRORS as exc:
                raise CSVFormatError(f"{path}: cannot be read past line {reader.line_num} ({exc})") from None
            if not row:
                continue
            report.rows_read += 1
            try:
                movie = parse_row(row, position, len(header))
            except ValueError as exc:
                report.reject(reader.line_num, str(exc))
                continue
            if movie.id in seen:
                report.reject(reader.line_num, "duplicate id")
                continue
            seen.add(movie.id)
            chunk.append(movie)
            if len(chunk) >= chunk_rows:
                yield chunk
                chunk = []
        if not seen:
            top = sorted(report.reasons.items(), key=lambda item: -item[1])[:3]
            why = f"all {report.rows_read:,} rejected: " + "; ".join(f"{n:,} {r}" for r, n in top) \
                if report.rows_read else "the file has a header and no rows"
            raise CSVFormatError(f"{path}: no usable movie rows ({why})")
        if chunk:
            yield chunk


def parse_row(row: list[str], position: dict[str, int], width: int) -> Movie:
    """Clean and type one CSV row; raise ValueError with a short reason when it is not a movie."""
    if len(row) != width:
        raise ValueError(f"expected {width} fields, found {len(row)}")
    if any(len(cell) > MAX_FIELD_CHARS for cell in row):
        raise ValueError(f"a field is longer than {MAX_FIELD_CHARS} characters")
    if _UNDECODABLE.search("".join(row)):
        raise ValueError("bytes that are not UTF-8 (save the file as UTF-8)")

    def text(name: str) -> str:
        i = position.get(name)
        return " ".join(row[i].split()) if i is not None else ""

    raw_id = text("id")
    if not raw_id.isdigit():
        raise ValueError(f"id {raw_id[:30]!r} is not a positive integer")
    title = text("title")
    if not title:
        raise ValueError("empty title")
    return Movie(
        id=int(raw_id),
        title=title,
        genres=split_list(text("genres")),
        original_language=text("original_language").lower()[:8],
        overview=text("overview"),
        popularity=to_float(text("popularity"), "popularity"),
        production_companies=split_list(text("production_companies")),
        release_date=to_date(text("release_date")),
        budget=to_int(text("budget"), "budget"),
        revenue=to_int(text("revenue"), "revenue"),
        runtime=to_int(text("runtime"), "runtime"),
        status=text("status"),
        tagline=text("tagline"),
        vote_average=to_float(text("vote_average"), "vote_average"),
        vote_count=to_int(text("vote_count"), "vote_count"),
        cast=split_list(text("credits")),
        keywords=split_list(text("keywords")),
        directors=split_list(text("directors")),
    )


def split_list(value: str) -> list[str]:
    """Split a `-`-joined list. Names with a hyphen (Spider-Man) split too: the Kaggle format loses that."""
    items = []
    for part in value.split("-"):
        part = part.strip()
        if part and part not in items:
            items.append(part)
    return items


def to_float(value: str, name: str) -> float:
    if not value:
        return 0.0
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} {value[:30]!r} is not a number") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} {value[:30]!r} is out of range")
    return number


def to_int(value: str, name: str) -> int:
    return int(to_float(value, name))


def to_date(value: str) -> str:
    """Keep ISO dates (yyyy-mm-dd); anything else becomes unknown rather than a guessed date."""
    value = value[:10]
    if len(value) == 10 and value[4] == "-" and value[7] == "-" and value.replace("-", "").isdigit():
        return value
    return ""
