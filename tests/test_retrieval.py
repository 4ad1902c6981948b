"""One retrieval policy: the same text finds the same films through every entry point."""

from __future__ import annotations

import json

import pytest
from flask.cli import ScriptInfo

from movies_assistant.__main__ import main

SAME_EVERYWHERE = [
    "comedies from the 90s",  # a list: the filters the text states
    "Before Sunrise actors",  # one film: the words of the question
    "the matrix",  # a bare title
    "movies with Tom Hanks",  # a person's films
    "highly rated animated family films",
]


def cli_search(runner, app, *args: str):
    return runner.invoke(main, ["search", *args], obj=ScriptInfo(create_app=lambda: app))


def test_cli_search_applies_the_filters_the_query_states(runner, app):
    result = cli_search(runner, app, "comedies from the 90s", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert hits and all("Comedy" in h["genres"] and 1990 <= h["year"] <= 1999 for h in hits), \
        [(h["title"], h["year"]) for h in hits]


def test_cli_search_says_which_filters_it_applied(runner, app):
    result = cli_search(runner, app, "comedies from the 90s", "-k", "3")
    assert result.exit_code == 0, result.output
    assert "filters: year_min 1990, year_max 1999, genres Comedy" in result.stderr


@pytest.mark.parametrize("text", SAME_EVERYWHERE)
def test_the_same_text_finds_the_same_films_everywhere(text, runner, app, client):
    from_api = [r["id"] for r in client.get("/search", query_string={"q": text, "k": 10}).get_json()["results"]]
    from_cli = [h["id"] for h in json.loads(cli_search(runner, app, text, "-k", "10", "--json").stdout)]
    answer = client.post("/question", json={"question": text}).get_json()
    from_question = [s["id"] for s in answer["sources"]][:10]
    assert from_api, text
    assert from_api == from_cli == from_question
