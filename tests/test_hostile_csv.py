"""Hostile CSV files through `python -m movies_assistant ingest --data FILE` (the click runner, real
index): an unusable file is a clear message, a non-zero exit, and the previous index still serving;
a usable one has its bad rows counted by reason."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import os

import pytest

from movies_assistant.app import create_app
from movies_assistant.movies import KAGGLE_COLUMNS

from .conftest import SAMPLE

GOOD_ROWS = 40


def sample_rows(n: int = GOOD_ROWS) -> list[list[str]]:
    with open(SAMPLE, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        assert tuple(header[:len(KAGGLE_COLUMNS)]) == KAGGLE_COLUMNS
        return [header] + [row for _, row in zip(range(n), reader)]


def as_csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


@pytest.fixture
def built(settings, tmp_path):
    """An app with its own local index of GOOD_ROWS sample movies: (app, runner)."""
    app = create_app(dataclasses.replace(settings, index_dir=tmp_path / "own-index"))
    runner = app.test_cli_runner()
    good = tmp_path / "good.csv"
    good.write_text(as_csv(sample_rows()), encoding="utf-8")
    result = runner.invoke(args=["ingest", "--data", str(good)])
    assert result.exit_code == 0, result.output
    return app, runner


def ingest(runner, path):
    return runner.invoke(args=["ingest", "--data", str(path)])


def still_serving(app) -> None:
    with app.app_context():
        store = app.extensions["movies_assistant"].store
        assert store.count() == GOOD_ROWS
        assert store.search("Star Wars", k=1)[0].movie.title == "Star Wars"


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


UNUSABLE = {
    "empty.csv": (b"", "the file is empty"),
    "header-only.csv": (",".join(KAGGLE_COLUMNS).encode() + b"\n", "no usable movie rows"),
    "wrong-columns.csv": (b"name,year,plot\nAlien,1979,space\n", "missing column(s) id, title"),
    "semicolons.csv": (b"id;title;overview\n1;Alien;space\n", "missing column(s) id, title"),
    "utf16.csv": ("id,title\n1,Alien\n".encode("utf-16"), "UTF-16"),
    "binary.csv": (bytes(range(256)) * 64, "binary data"),
    "not-gzip.csv.gz": (b"id,title\n1,Alien\n", "cannot be read"),
    "bad-ids.csv": (b"id,title\nx,Alien\n-3,Aliens\n", "no usable movie rows (all 2 rejected"),
}


@pytest.mark.parametrize("name", sorted(UNUSABLE))
def test_an_unusable_file_is_refused_and_the_old_index_keeps_serving(built, tmp_path, name):
    app, runner = built
    data, message = UNUSABLE[name]
    result = ingest(runner, write(tmp_path, name, data))
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    still_serving(app)


def test_a_missing_file_and_a_folder_are_refused(built, tmp_path):
    app, runner = built
    for path in (tmp_path / "nope.csv", tmp_path):
        result = ingest(runner, path)
        assert result.exit_code != 0 and "no such file" in result.output, result.output
    still_serving(app)


def test_a_truncated_gzip_is_refused(built, tmp_path):
    app, runner = built
    data = gzip.compress(as_csv(sample_rows()).encode())
    result = ingest(runner, write(tmp_path, "cut.csv.gz", data[: len(data) // 2]))
    assert result.exit_code != 0 and "cannot be read" in result.output, result.output
    still_serving(app)


def test_bad_rows_are_counted_by_reason(built, tmp_path):
    app, runner = built
    rows = sample_rows()
    header, good = rows[0], rows[1:]
    width = len(header)
    duplicate = list(good[0])
    huge = list(good[1])
    huge[0], huge[header.index("overview")] = "990001", "x" * (50 * 1024 * 1024)  # a 50 MB field
    short = good[2][:3]
    latin1_title = "Amélie"
    text = as_csv([header] + good + [duplicate, huge, short])
    latin1_row = as_csv([["990002", latin1_title] + [""] * (width - 2)]).encode("latin-1")
    broken_quote = ('990003,"Unclosed quote' + "," * (width - 2) + "\n").encode()
    path = write(tmp_path, "mixed.csv", text.encode("utf-8") + latin1_row + broken_quote)

    result = ingest(runner, path)
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"indexed {GOOD_ROWS}, rejected 5" in out
    assert "duplicate id" in out
    assert "a field is longer than 100000 characters" in out
    assert f"expected {width} fields, found 3" in out
    assert "not UTF-8" in out
    assert f"expected {width} fields, found 2" in out  # the unclosed quote swallowed the rest of its line
    still_serving(app)


def test_rejects_do_not_touch_a_valid_utf8_replacement_character(built, tmp_path):
    app, runner = built
    rows = sample_rows(3)
    rows[1][rows[0].index("title")] = "Odd \ufffd Title"
    result = ingest(runner, write(tmp_path, "fffd.csv", as_csv(rows).encode("utf-8")))
    assert result.exit_code == 0 and "indexed 3, rejected 0" in result.output, result.output


def test_ingest_into_elasticsearch_refuses_an_unusable_file(elastic_url, settings, tmp_path):
    """The same guarantee for the Elasticsearch backend: the alias keeps its old index."""
    name = f"ma-hostile-{os.getpid()}-{tmp_path.name[-8:]}".lower()
    app = create_app(dataclasses.replace(settings, search_backend="elasticsearch", elastic_url=elastic_url,
                                         index_name=name))
    runner = app.test_cli_runner()
    good = write(tmp_path, "good.csv", as_csv(sample_rows()).encode())
    try:
        assert ingest(runner, good).exit_code == 0
        for bad_name in ("header-only.csv", "bad-ids.csv"):
            data, message = UNUSABLE[bad_name]
            result = ingest(runner, write(tmp_path, bad_name, data))
            assert result.exit_code != 0 and message in result.output, result.output
            still_serving(app)
    finally:
        from elasticsearch import Elasticsearch

        es = Elasticsearch(elastic_url)
        es.options(ignore_status=404).indices.delete(index=f"{name}-*")
