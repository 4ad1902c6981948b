"""data/ground-truth-extra.csv is valid, and its checker (scripts/check_ground_truth.py) catches bad rows."""

import json

import pytest

from movies_assistant.config import ROOT
from scripts.check_ground_truth import TYPES, check, load_corpus, main, read_rows

EXTRA = ROOT / "data" / "ground-truth-extra.csv"


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(ROOT / "data" / "movies-corpus.csv.gz")


@pytest.fixture(scope="module")
def rows():
    return read_rows(EXTRA)


def test_the_extra_ground_truth_passes_its_checks(rows, corpus, capsys):
    assert check(rows, corpus) == []
    assert main(["--ground-truth", str(EXTRA)]) == 0
    assert "0 problem(s)" in capsys.readouterr().out


def test_every_type_is_covered_and_split_in_halves(rows):
    minimum = {"paraphrase": 150, "person": 50, "filmography": 30, "constraint": 60}
    for kind in TYPES:
        of_kind = [r for r in rows if r["type"] == kind]
        assert len(of_kind) >= minimum[kind]
        train = sum(r["split"] == "train" for r in of_kind)
        assert abs(2 * train - len(of_kind)) <= 1


def row(kind, question, movie_id="", constraints=None, split="train"):
    return {"id": str(movie_id), "question": question, "type": kind, "split": split,
            "constraints": json.dumps(constraints) if constraints else ""}


@pytest.mark.parametrize("bad, problem", [
    (row("paraphrase", "the finding nemo one with the fish", 12), "names the title"),
    (row("paraphrase", "a Quentin Tarantino crime story told out of order", 680), "names 'Quentin Tarantino'"),
    (row("paraphrase", "a clownfish named Marlin searches for his son", 12), "overview's name 'Marlin'"),
    (row("paraphrase", "led by woody andy s toys live happily in his room", 862), "copies the overview"),
    (row("paraphrase", "a fish story", 999_999_999), "not in the corpus"),
    (row("paraphrase", "a fish story", 12, split="test"), "the rule gives 'train'"),
    (row("person", "the Tom Hanks film about a fish", 12, {"person": "Tom Hanks"}), "does not satisfy"),
    (row("person", "the film about a fish", 12), "needs a person constraint"),
    (row("constraint", "Korean westerns from the 1950s", constraints={"language": "ko", "genres": ["Western"],
                                                                     "year_min": 1950, "year_max": 1959}),
     "fewer than 10"),
    (row("constraint", "films from 1999", constraints={"year": 1999}), "unknown fields"),
    (row("constraint", "films from 1999", 12, {"year_min": 1999}), "has no gold id"),
    (row("trivia", "what is a film?"), "is not one of"),
])
def test_the_checker_finds_bad_rows(corpus, bad, problem):
    errors = check([bad], corpus)
    assert errors and any(problem in e for e in errors), errors
