"""Clues: the facts a question states about the film it describes, which hybrid search ranks by."""

from __future__ import annotations

from dataclasses import replace

import pytest

from movies_assistant.movies import Movie
from movies_assistant.search import Filters
from movies_assistant.search.base import normalize_title, title_candidates
from movies_assistant.search.clues import Clues


@pytest.mark.parametrize("question, expected", [
    ("What is the title of the Korean movie that was released in 2022 and has a runtime of 34 minutes?",
     {"year": 2022, "language": "ko", "runtime": 34}),
    ("Can you name the Comedy-Drama film with a 5-minute runtime, released in 2016?",
     {"year": 2016, "genres": ("Comedy", "Drama"), "runtime": 5}),
    ("What is the original language of the movie released in 1969-11-02?", {"year": 1969, "date": "1969-11-02"}),
    ("the Drama-Romance movie with a vote average of 5.8, 12 votes and a popularity of 1.025",
     {"genres": ("Romance", "Drama"), "vote_average": 5.8, "vote_count": 12, "popularity": 1.025}),
    ("What is the runtime of the French documentary 'Jeunes de service'?",
     {"language": "fr", "genres": ("Documentary",), "titles": ("jeunes de service",)}),
    ('Who directed "Star Wars: A New Hope"?', {"titles": ("star wars a new hope",)}),
    ("Who directed 'Pan's Labyrinth'?", {"titles": ("pan s labyrinth",)}),
])
def test_parses_the_stated_facts(question, expected):
    clues = Clues.parse(question)
    assert clues.whole == normalize_title(question)
    assert replace(clues, whole="", runs=frozenset()) == Clues(**expected)


@pytest.mark.parametrize("question", [
    "old man flies his house away with balloons",  # a plot: nothing to match exactly
    "What are the genres of the movie Journaux 1983-1985?",  # a range in a title is no year
    "films from the 1990s rated 7 or higher under 90 minutes",  # ranges are filters (query.py), not facts
    "Compare Alien (1979) and Aliens (1986)",  # two years: neither is the film's
    "What's the story of Amélie?",  # an apostrophe is no quote
])
def test_states_nothing_exact(question):
    assert not Clues.parse(question)


def test_share_counts_each_matching_fact():
    clues = Clues.parse("the French Comedy-Drama released in 2001 with a runtime of 122 minutes")
    amelie = Movie(id=194, title="Amélie", genres=["Comedy", "Romance"], original_language="fr",
                   release_date="2001-04-25", runtime=122)
    # year, language and runtime match; half of the genres
    assert clues.share(amelie) == pytest.approx((1 + 1 + 1 + 0.5) / 4)
    assert clues.share(Movie(id=1, title="Other", release_date="1999-01-01")) == 0.0
    assert Clues().share(amelie) == 0.0


def test_chinese_matches_mandarin_and_cantonese():
    clues = Clues.parse("the Chinese thriller released in 2018")
    assert clues.share(Movie(id=1, title="A", genres=["Thriller"], original_language="cn",
                             release_date="2018-05-01")) == 1.0


def test_filters_narrow_but_never_override_the_callers():
    clues = Clues.parse("the Korean horror movie released in 2017 with a runtime of 83 minutes")
    assert clues.filters(Filters()) == Filters(year_min=2017, year_max=2017, genres=["Horror"], language="ko",
                                               runtime_min=83, runtime_max=83)
    stated = Filters(year_min=2010, year_max=2019, language="ja", person="Bong Joon-ho")
    assert clues.filters(stated) == Filters(year_min=2010, year_max=2019, genres=["Horror"], language="ja",
                                            runtime_min=83, runtime_max=83, person="Bong Joon-ho")


def test_genre_and_language_words_alone_do_not_filter():
    """ "a French chef" or "his family" in a plot is no filter; a stated year makes the question a record's."""
    plot = Clues.parse("a French chef and his family open a restaurant")
    assert plot.genres == ("Family",) and plot.language == "fr" and plot.filters(Filters()) == Filters()
    record = Clues.parse("the French family film released in 1962")
    assert record.filters(Filters()) == Filters(year_min=1962, year_max=1962, genres=["Family"], language="fr")


def test_names_only_a_quoted_title():
    clues = Clues.parse("What is the original language of the movie 'The Secret Taste'?")
    assert clues.names(Movie(id=1, title="The Secret Taste"))
    assert not clues.names(Movie(id=2, title="The Secret"))
    assert not Clues.parse("What is the original language of The Secret Taste?").names(
        Movie(id=1, title="The Secret Taste"))


def test_a_question_that_is_a_title_names_that_film_but_states_nothing():
    clues = Clues.parse("Alien")
    assert clues.names(Movie(id=348, title="Alien")) and not clues.names(Movie(id=679, title="Aliens"))
    assert not clues

def test_mentions_a_title_by_the_exact_title_rule():
    clues = Clues.parse("What is the budget of Avatar?")
    assert clues.mentions(Movie(id=19995, title="Avatar")) and not clues.mentions(Movie(id=1, title="Avatar 4"))
    # a lone lower-case word of a long question is no title ("her", "house")
    assert not Clues.parse("a ballerina slowly loses her grip on reality").mentions(Movie(id=2, title="Her"))


@pytest.mark.parametrize("question, included, excluded", [
    ("Alien", {"alien"}, set()),
    ("Who directed Inception?", {"inception", "who directed inception"}, set()),
    ("What is the budget of Avatar?", {"avatar", "budget of avatar"}, {"what", "budget"}),
    ("a boy hides a gentle stranded alien in his house", {"his house"}, {"house", "alien", "stranded"}),
])
def test_title_candidates_keep_lone_words_only_where_they_look_like_a_title(question, included, excluded):
    candidates = set(title_candidates(question))
    assert included <= candidates and not excluded & candidates
