"""The conversation benchmark: its data file is valid and checkable against the corpus, and the
evaluate-conversations command runs real conversations through the Assistant and judges them right."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from movies_assistant.config import CONVERSATIONS, DEFAULT_CORPUS
from movies_assistant.conversation_eval import (EXPECTATION_KINDS, USE_CASES, Constraints, Expectations,
                                                failed_expectations, load_conversations)
from movies_assistant.movies import Movie, ReadReport, read_movies
from movies_assistant.search import Filters

GODFATHER = {"id": 238, "title": "The Godfather", "year": 1972}
JAWS = {"id": 578, "title": "Jaws", "year": 1975}


@pytest.fixture(scope="module")
def corpus() -> dict[int, Movie]:
    return {m.id: m for chunk in read_movies(DEFAULT_CORPUS, ReadReport()) for m in chunk}


def test_every_turn_of_the_benchmark_is_valid_and_names_corpus_films(corpus):
    conversations = load_conversations(CONVERSATIONS)  # the pydantic schema, line by line
    turns = [t for c in conversations for t in c.turns]
    assert len(turns) >= 400
    assert {t.use_case for t in turns} == set(USE_CASES)
    by_split = {s: sum(len(c.turns) for c in conversations if c.split == s) for s in ("train", "test")}
    assert abs(by_split["train"] - by_split["test"]) <= len(turns) * 0.1, by_split
    for c in conversations:
        for t in c.turns:
            assert t.expect.model_dump(exclude_defaults=True), f"{c.id} turn {t.turn} expects nothing"
            for film in t.expect.films():
                assert film.id in corpus, f"{c.id} turn {t.turn}: {film.id} is not in the corpus"
                assert corpus[film.id].title == film.title and corpus[film.id].year == film.year, (c.id, film)
            if t.expect.unknown_film:
                missing = t.expect.unknown_film
                assert not [m for m in corpus.values() if m.title.lower() == missing.title.lower()
                            and m.year in (missing.year, None)], f"{missing.title} is in the corpus"
            if t.expect.constraints and t.expect.constraints.person:
                wanted = t.expect.constraints.filters()
                assert any(wanted.accepts(m) for m in corpus.values()), (c.id, t.turn)


def test_constraints_mirror_the_search_filters():
    assert set(Constraints.model_fields) == {f.name for f in fields(Filters)}


def test_each_expectation_kind_is_judged(corpus):
    godfather, jaws = corpus[238], corpus[578]
    movies = {238: godfather, 578: jaws}
    answer = "The Godfather (1972) was directed by Francis Ford Coppola."

    def failed(**expect) -> list[str]:
        return failed_expectations(Expectations(**expect), answer, [238, 578], movies)

    assert failed(subject=GODFATHER, in_sources=[JAWS], contains=["francis ford coppola", "1972"]) == []
    assert failed(subject=JAWS) == ["subject"]
    assert failed(not_subject=[GODFATHER], contains=["Spielberg"]) == ["not_subject", "contains"]
    assert failed(constraints={"genres": ["Drama"]}) == ["constraints"]  # Jaws is no drama
    assert failed(constraints={"year_min": 1970, "year_max": 1979}) == []
    assert failed(no_sources=True) == ["no_sources"]
    assert failed(unknown_film={"title": "Cats", "year": 2019}) == ["unknown_film"]
    assert failed_expectations(Expectations(no_sources=True, constraints={"genres": ["Drama"]}), "Hello!", [], {}) \
        == ["constraints"]  # a constraint needs films to hold for
    assert failed_expectations(Expectations(unknown_film={"title": "Cats"}), "I couldn't find Cats (2019) in the "
                               "catalogue.", [], {}) == []


def conversation_file(tmp_path, *conversations: dict):
    path = tmp_path / "conversations.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in conversations), encoding="utf-8")
    return path


def test_a_slice_runs_through_the_assistant_with_its_history(runner, tmp_path):
    path = conversation_file(tmp_path, {"id": "godfather", "split": "test", "turns": [
        {"turn": 1, "text": "who directed the godfather", "use_case": "facts",
         "expect": {"subject": GODFATHER, "contains": ["Francis Ford Coppola"]}},  # passes today
        {"turn": 2, "text": "who directed the godfather", "use_case": "facts",
         "expect": {"subject": GODFATHER, "contains": ["Steven Spielberg"]}},  # never does
    ]}, {"id": "jaws", "split": "train", "turns": [
        {"turn": 1, "text": "how long is jaws", "use_case": "facts", "expect": {"subject": JAWS, "contains": ["124"]}},
        {"turn": 2, "text": "who directed it", "use_case": "facts",  # "it": the history makes it Jaws
         "expect": {"subject": JAWS, "contains": ["Steven Spielberg"]}},
    ]})
    result = runner.invoke(args=["evaluate-conversations", "--conversations", str(path), "--backend", "local",
                                 "--json", "--output", str(tmp_path / "table.md")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    rows = {(r["backend"], r["split"], r["use_case"]): r for r in report["rows"]}
    assert set(rows) == {("local", s, u) for s in ("all", "train", "test") for u in ("all", "facts")}
    assert rows["local", "all", "all"] | {"failures": None} == {
        "backend": "local", "split": "all", "use_case": "all", "turns": 4, "passed": 3, "pass_rate": 0.75,
        "failures": None}
    assert rows["local", "all", "all"]["failures"] == {"contains": 1}
    assert rows["local", "train", "facts"]["passed"] == 2
    [failure] = report["failed_turns"]
    assert (failure["conversation"], failure["turn"], failure["failed"]) == ("godfather", 2, ["contains"])
    assert "Francis Ford Coppola" in failure["answer"] and failure["sources"][0]["id"] == 238
    table = (tmp_path / "table.md").read_text()
    assert "| local | all | 75.0% (3/4) | 100.0% (2/2) | 50.0% (1/2) |" in table
    assert "| contains | 1 |" in table


def test_the_benchmark_file_runs_with_a_limit_and_a_human_table(runner):
    result = runner.invoke(args=["evaluate-conversations", "--split", "test", "--limit", "2", "--backend", "local"])
    assert result.exit_code == 0, result.output
    assert "2 test conversations" in result.output and "pass rate" in result.output
    for kind in result.output.split("failed expectations")[-1].split():
        assert not kind.isalpha() or kind in EXPECTATION_KINDS + ("local", "all", "test") + USE_CASES


@pytest.mark.parametrize("content, message", [
    ("{not json\n", "line 1: "),
    ('{"id": "a", "split": "dev", "turns": []}\n', "line 1: split"),
    ('{"id": "a", "split": "test", "turns": [{"turn": 2, "text": "hi", "use_case": "small_talk", "expect": {}}]}\n',
     "numbered"),
    ('{"id": "a", "split": "test", "turns": [{"turn": 1, "text": "hi", "use_case": "small_talk", '
     '"expect": {"no_film_card": true}}]}\n', "no_film_card"),
    ("", "no conversations"),
])
def test_a_bad_file_is_a_clear_error_naming_the_line(runner, tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(args=["evaluate-conversations", "--conversations", str(path), "--backend", "local"])
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output, result.output


def test_a_missing_file_or_unknown_backend_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(args=["evaluate-conversations", "--conversations", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 1 and "cannot read" in result.output and "Traceback" not in result.output
    result = runner.invoke(args=["evaluate-conversations", "--backend", "solr"])
    assert result.exit_code == 2 and "'solr' is not one of" in result.output
