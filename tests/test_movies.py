"""The CSV loader: Kaggle columns, cleaning, and malformed rows counted instead of crashing."""

import gzip

import pytest

from movies_assistant.movies import KAGGLE_COLUMNS, CSVFormatError, ReadReport, read_movies

HEADER = ",".join(KAGGLE_COLUMNS)
GOOD = ("603,The Matrix,Action-Science Fiction,en,A hacker learns the truth.,80.5,Warner Bros.-Village Roadshow,"
        "1999-03-30,63000000,463517383,136,Released,Free your mind,7.9,8907,Keanu Reeves-Laurence Fishburne,"
        "hacker-simulation")


def read_all(path, **kw):
    report = ReadReport()
    movies = [m for chunk in read_movies(path, report, **kw) for m in chunk]
    return movies, report


def write(tmp_path, text, name="movies.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_kaggle_columns_without_directors(tmp_path):
    movies, report = read_all(write(tmp_path, f"{HEADER}\n{GOOD}\n"))
    assert report.rows_read == 1 and report.rejected == 0
    m = movies[0]
    assert (m.id, m.title, m.year, m.runtime, m.budget) == (603, "The Matrix", 1999, 136, 63000000)
    assert m.genres == ["Action", "Science Fiction"]
    assert m.cast == ["Keanu Reeves", "Laurence Fishburne"]
    assert m.production_companies == ["Warner Bros.", "Village Roadshow"]
    assert m.directors == [] and m.vote_average == 7.9


def test_reads_directors_and_ignores_unknown_extra_columns(tmp_path):
    text = f"{HEADER},poster_path,directors\n{GOOD},/x.jpg,Lana Wachowski-Lilly Wachowski\n"
    movies, _ = read_all(write(tmp_path, text))
    assert movies[0].directors == ["Lana Wachowski", "Lilly Wachowski"]


def test_reads_gzip(tmp_path):
    path = tmp_path / "movies.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(f"{HEADER}\n{GOOD}\n")
    movies, _ = read_all(path)
    assert movies[0].title == "The Matrix"


def test_malformed_rows_are_counted_not_fatal(tmp_path):
    rows = [
        GOOD,
        GOOD.replace("603,", "abc,", 1),  # id not a number
        GOOD.replace("603,The Matrix,", "604,,", 1),  # empty title
        GOOD.replace("63000000", "lots", 1).replace("603,", "605,", 1),  # budget not a number
        "606,Too Few,Drama",  # wrong field count
        GOOD,  # duplicate id
        GOOD.replace("603,", "607,", 1).replace("A hacker learns the truth.", "x" * 200_001),  # huge field
        GOOD.replace("603,", "608,", 1).replace("1999-03-30", "someday"),  # bad date -> unknown, still kept
    ]
    movies, report = read_all(write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"))
    assert [m.id for m in movies] == [603, 608]
    assert movies[1].release_date == "" and movies[1].year is None
    assert report.rows_read == 8 and report.rejected == 6
    assert report.reasons["duplicate id"] == 1
    assert any("expected 17 fields" in r for r in report.reasons)
    assert len(report.examples) == 5


def test_undecodable_bytes_are_a_counted_reject(tmp_path):
    path = tmp_path / "latin1.csv"
    latin1 = GOOD.replace("603,The Matrix", "604,Amélie").encode("latin-1")
    path.write_bytes(f"{HEADER}\n{GOOD}\n".encode() + latin1 + b"\n")
    movies, report = read_all(path)
    assert [m.id for m in movies] == [603]
    assert report.reasons == {"bytes that are not UTF-8 (save the file as UTF-8)": 1}


def test_broken_quoting_is_a_counted_reject(tmp_path):
    text = f'{HEADER}\n{GOOD}\n609,"Unclosed,Drama,en,x,1,,2000-01-01,0,0,90,Released,,5,10,,\n'
    movies, report = read_all(write(tmp_path, text))
    assert [m.id for m in movies] == [603]
    assert report.rows_read == report.rejected + 1


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("name,year\nfoo,1999\n", "missing column(s) id, title"),
])
def test_unusable_files_raise_a_clear_error(tmp_path, text, message):
    with pytest.raises(CSVFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_all(write(tmp_path, text))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CSVFormatError, match="no such file"):
        read_all(tmp_path / "nope.csv")


def test_streams_in_bounded_chunks(tmp_path):
    rows = [GOOD.replace("603,", f"{i},", 1) for i in range(1, 26)]
    path = write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n")
    report = ReadReport()
    sizes = [len(chunk) for chunk in read_movies(path, report, chunk_rows=10)]
    assert sizes == [10, 10, 5]
