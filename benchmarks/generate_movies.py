"""Scale the real corpus to N rows of realistic movies, in the exact project CSV schema.

    python benchmarks/generate_movies.py --rows 720000 --out /tmp/movies-720k.csv [--seed 1]

The output starts with the real rows of data/movies-corpus.csv.gz, unchanged, so real questions
(data/ground-truth-retrieval.csv) still find their films. Every further row is synthetic but made only
of real parts, recombined:

* the *shape* of a row (which columns are empty, how many overview sentences) is copied from one random
  real "template" movie, so every column is as often empty as in the corpus (e.g. 86 % have an overview);
* the numbers (popularity, budget, revenue, runtime, vote average/count), status and language come
  together from one real "donor" movie, so they keep their real joint distribution (a big budget goes with
  a big revenue); the release year is the donor's, moved by up to ±3 years (never past the donor's
  status: only non-released films get future dates), with the donor's month and day;
* the title is a real title recombined with another (`Four Rooms II`, `Four Rooms: Judgment Night`,
  `Four Night`, `The Night of Four Rooms`, ...), or 5 % of the time the real title itself (a namesake, as
  remakes and homonyms are); titles may repeat, ids never do;
* the overview is that many real sentences from different real overviews; genres, production companies,
  cast, directors, keywords and tagline are each the real list or text of some other real movie
  (keywords sometimes the union of two).

Ids start above the largest real id. The same --seed gives the same file, byte for byte (plain CSV;
gzip output also embeds no timestamp). Rows are written as they are made: memory holds only the corpus.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "movies-corpus.csv.gz"
GENERATOR_VERSION = 1  # bump when the output for a given seed changes (benchmark caches key on it)

COLUMNS = [
    "id", "title", "genres", "original_language", "overview", "popularity", "production_companies",
    "release_date", "budget", "revenue", "runtime", "status", "tagline", "vote_average", "vote_count",
    "credits", "keywords", "directors",
]
SEQUEL_MARKS = ["2", "3", "4", "5", "II", "III", "IV", "Part II", "Part 2", "Returns", "Reloaded",
                "Revisited", "Redux", "Rising", "Forever", "Begins", "Origins", "Resurrection", "Legacy"]
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")
CURRENT_YEAR = 2025


def read_corpus(path: Path = CORPUS) -> tuple[list[str], list[list[str]]]:
    with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
        header = next(reader)
        rows = [row for row in reader if row]
    if header != COLUMNS:
        raise SystemExit(f"{path}: unexpected columns {header}")
    return header, rows


class Recombiner:
    """Makes synthetic rows out of the parts of real ones (see the module docstring)."""

    def __init__(self, rows: list[list[str]], seed: int):
        self.rng = random.Random(seed)
        self.rows = rows
        col = {name: i for i, name in enumerate(COLUMNS)}
        self.col = col

        def pool(name: str) -> list[str]:
            return [r[col[name]] for r in rows if r[col[name]] not in ("", "0")]

        self.titles = [r[col["title"]] for r in rows]
        self.title_words = [t.split() for t in self.titles]
        self.sentences = [s for r in rows for s in SENTENCE_END.split(r[col["overview"]]) if len(s) > 20]
        self.sentence_counts = [len(SENTENCE_END.split(r[col["overview"]])) for r in rows]
        self.pools = {name: pool(name) for name in
                      ("genres", "production_companies", "tagline", "credits", "keywords", "directors")}
        # numbers, status and language travel together from one donor
        self.donor_fields = [col[n] for n in ("original_language", "popularity", "budget", "revenue", "runtime",
                                              "status", "vote_average", "vote_count")]
        self.next_id = max(int(r[col["id"]]) for r in rows) + 1

    def pick(self, seq):
        return seq[int(self.rng.random() * len(seq))]

    def title(self) -> str:
        rng = self.rng
        base = self.pick(self.titles)
        other = self.pick(self.title_words)
        kind = rng.random()
        if kind < 0.30:
            return f"{base} {self.pick(SEQUEL_MARKS)}"
        if kind < 0.50:
            return f"{base}: {' '.join(other)}"
        if kind < 0.78:  # the start of one title and the end of another
            words = base.split()
            head = words[: max(1, len(words) // 2)]
            tail = other[len(other) // 2:] or other
            return " ".join(head + tail)
        if kind < 0.95:
            return f"The {other[-1]} of {base}" if rng.random() < 0.5 else f"{base} and the {other[-1]}"
        return base  # a namesake (5 %), as real remakes and homonyms are

    def overview(self, sentences: int) -> str:
        return " ".join(self.pick(self.sentences) for _ in range(max(sentences, 1)))

    def release_date(self, donor: list[str]) -> str:
        date = donor[self.col["release_date"]]
        if len(date) != 10:
            return date
        year = int(date[:4]) + int(self.rng.random() * 7) - 3
        if donor[self.col["status"]] == "Released":
            year = min(year, CURRENT_YEAR)
        month_day = date[4:]
        if month_day == "-02-29" and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
            month_day = "-02-28"
        return f"{year:04d}{month_day}"

    def row(self) -> list[str]:
        rng, col, pools = self.rng, self.col, self.pools
        t = int(rng.random() * len(self.rows))
        template = self.rows[t]
        donor = self.pick(self.rows)
        out = [""] * len(COLUMNS)
        out[col["id"]] = str(self.next_id)
        self.next_id += 1
        out[col["title"]] = self.title()
        for i in self.donor_fields:
            out[i] = donor[i]
        out[col["release_date"]] = self.release_date(donor)
        if template[col["overview"]]:
            out[col["overview"]] = self.overview(self.sentence_counts[t])
        for name, values in pools.items():
            if template[col[name]] in ("", "0"):
                continue
            value = self.pick(values)
            if name == "keywords" and rng.random() < 0.3:
                extra = [k for k in self.pick(values).split("-") if k not in value.split("-")]
                value = "-".join(value.split("-") + extra[:3])
            out[col[name]] = value
        return out


class _GzipText(io.TextIOWrapper):
    """Text into a gzip stream with no file name or time in its header (same seed, same bytes)."""

    def __init__(self, path: Path):
        self._file = open(path, "wb")
        super().__init__(gzip.GzipFile(filename="", mode="wb", fileobj=self._file, compresslevel=5, mtime=0),
                         encoding="utf-8", newline="")

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._file.close()


def open_out(path: Path, gzipped: bool):
    return _GzipText(path) if gzipped else open(path, "w", encoding="utf-8", newline="")


def generate(rows: int, out: Path, seed: int = 1, corpus: Path = CORPUS, quiet: bool = False) -> dict:
    """Write `rows` movies to `out` (gzipped when it ends in .gz); returns a small summary."""
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    started = time.perf_counter()
    header, real = read_corpus(corpus)
    maker = Recombiner(real, seed)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    console = Console(stderr=True, quiet=quiet)
    with open_out(tmp, out.suffix == ".gz") as handle, Progress(
        TextColumn("[bold]generate[/bold]"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console,
    ) as progress:
        task = progress.add_task("generate", total=rows)
        writer = csv.writer(handle)  # QUOTE_MINIMAL and \r\n, like the corpus
        writer.writerow(header)
        n_real = min(rows, len(real))
        writer.writerows(real[:n_real])
        progress.update(task, completed=n_real)
        step = 10_000
        for start in range(n_real, rows, step):
            batch = min(step, rows - start)
            writer.writerows([maker.row() for _ in range(batch)])
            progress.update(task, completed=start + batch)
    tmp.replace(out)
    return {"rows": rows, "real_rows": n_real, "synthetic_rows": rows - n_real, "seed": seed,
            "path": str(out), "bytes": out.stat().st_size, "seconds": round(time.perf_counter() - started, 2),
            "generator_version": GENERATOR_VERSION}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, required=True, help="total rows, real ones included")
    parser.add_argument("--out", type=Path, required=True, help="output file; .gz means gzipped")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="real movies to start from and recombine")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    summary = generate(args.rows, args.out, args.seed, args.corpus, args.quiet)
    print(f"wrote {summary['rows']:,} rows ({summary['real_rows']:,} real) to {summary['path']} "
          f"({summary['bytes'] / 1e6:,.1f} MB) in {summary['seconds']:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
