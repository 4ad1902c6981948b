"""Question understanding: intents, filters, people, compared titles."""

import pytest

from movies_assistant.query import comparison_titles, parse_filters, understand

PEOPLE = {"tom hanks", "christopher nolan", "penélope cruz", "penelope cruz", "samuel l. jackson"}


def known(names):
    return [n for n in names if n.lower() in PEOPLE]


@pytest.mark.parametrize("question, intent", [
    ("Before Sunrise actors", "cast"),
    ("Who starred in Titanic?", "cast"),
    ("Who directed Inception?", "director"),
    ("When was Titanic released?", "fact"),
    ("What was the budget of Avatar?", "fact"),
    ("Who produced Toy Story?", "fact"),
    ("Movies with Tom Hanks", "filmography"),
    ("What films did Christopher Nolan direct?", "filmography"),
    ("Compare The Matrix and Inception", "comparison"),
    ("Alien vs Aliens", "comparison"),
    ("Recommend French comedies from the 90s", "recommendation"),
    ("Can you suggest something like Up?", "recommendation"),
    ("What is Finding Nemo about?", "plot"),
    ("Summarize the plot of Fight Club", "plot"),
    ("Is Titanic worth watching?", "review"),
    ("Tell me about Pulp Fiction", "general"),
])
def test_intents(question, intent):
    assert understand(question, known).intent == intent


@pytest.mark.parametrize("text, expected", [
    ("french comedies from the 90s", {"year_min": 1990, "year_max": 1999, "genres": ["Comedy"], "language": "fr"}),
    ("sci-fi films from the 1970s", {"year_min": 1970, "year_max": 1979, "genres": ["Science Fiction"]}),
    ("animated movies after 2010", {"year_min": 2011, "genres": ["Animation"]}),
    ("horror before 1980", {"year_max": 1979, "genres": ["Horror"]}),
    ("dramas between 2005 and 2001", {"year_min": 2001, "year_max": 2005, "genres": ["Drama"]}),
    ("korean thrillers rated above 7.5", {"genres": ["Thriller"], "language": "ko", "min_rating": 7.5}),
    ("highly rated westerns", {"genres": ["Western"], "min_rating": 7.0, "min_votes": 200}),
    ("comedies under 90 minutes", {"genres": ["Comedy"], "runtime_max": 90}),
    ("epics over 3 hours", {"runtime_min": 180}),
    ("films in 1994", {"year_min": 1994, "year_max": 1994}),
])
def test_filters(text, expected):
    assert parse_filters(text).to_dict() == expected


def test_person_is_confirmed_against_the_index():
    u = understand("movies with tom hanks from the 90s", known)
    assert u.person == "tom hanks" and u.filters.person == "tom hanks"
    assert u.filters.year_min == 1990
    assert understand("movies with Nobody Special", known).person is None
    initial = understand("Which movies did Samuel L. Jackson star in?", known)
    assert initial.person == "Samuel L. Jackson" and initial.intent == "filmography"


@pytest.mark.parametrize("question, titles", [
    ("Compare The Matrix and Inception", ["The Matrix", "Inception"]),
    ("Alien vs. Aliens", ["Alien", "Aliens"]),
    ("Which is better: Heat or Ronin?", ["Heat", "Ronin"]),
    ("Who directed Alien?", []),
])
def test_comparison_titles(question, titles):
    assert comparison_titles(question) == titles
