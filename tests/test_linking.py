"""Entity linking: titles and people as people type them (case, typos, surnames, namesakes)."""

from __future__ import annotations

import pytest

from movies_assistant.linking import CONFIDENT, Linker, missing_title
from movies_assistant.movies import Movie
from movies_assistant.query import understand
from movies_assistant.search import Hit


def film(id, title, year, votes, rating=7.0, directors=(), cast=()):
    return Movie(id, title, release_date=f"{year}-01-01", vote_count=votes, vote_average=rating,
                 directors=list(directors), cast=list(cast))


CATALOGUE = [
    film(1, "Avatar", 2009, 11800, 7.2, ["James Cameron"], ["Sam Worthington"]),
    film(2, "Avatar", 2004, 40, 5.0),
    film(3, "Avatar 4", 2026, 900),
    film(4, "Inception", 2010, 13752, 8.1, ["Christopher Nolan"], ["Leonardo DiCaprio"]),
    film(5, "Interstellar", 2014, 10867, 8.1, ["Christopher Nolan"], ["Matthew McConaughey"]),
    film(6, "Alien", 1979, 4470, 7.9, ["Ridley Scott"], ["Sigourney Weaver"]),
    film(7, "Aliens", 1986, 3220, 7.7, ["James Cameron"], ["Sigourney Weaver"]),
    film(8, "The Lion King", 1994, 5376, 8.0),
    film(9, "The Lion King", 2019, 8545, 7.1),
    film(10, "The Shining", 1980, 6000, 8.2, ["Stanley Kubrick"], ["Jack Nicholson"]),
    film(11, "Barry Lyndon", 1975, 1500, 7.9, ["Stanley Kubrick"], ["Ryan O'Neal"]),
    film(12, "It", 2017, 16666, 7.2),
    film(13, "The Grand Budapest Hotel", 2014, 9000, 8.0, ["Wes Anderson"]),
    film(14, "The Sadness", 2021, 300, 6.7),
    film(15, "The Godfather: Part II", 1974, 5000, 8.3, ["Francis Ford Coppola"], ["Al Pacino"]),
    film(16, "His House", 2020, 800, 6.6),
    film(17, "Jaws", 1975, 7000, 7.7, ["Steven Spielberg"]),
    film(18, "E.T. the Extra-Terrestrial", 1982, 6500, 7.5, ["Steven Spielberg"]),
    film(19, "Zodiac", 2007, 4000, 7.5, ["David Fincher"], ["Jake Gyllenhaal"]),
    film(20, "Se7en", 1995, 9000, 8.3, ["David Fincher"], ["Brad Pitt"]),
    film(21, "House of 1000 Corpses", 2003, 1500, 6.0, ["Rob Zombie"]),
] + [Movie(100 + i, f"Dead Town {i}", keywords=["zombie", "survival"], vote_count=50) for i in range(3)]


class CatalogueStore:
    """The part of a search store linking reads: the most popular films, and films by id."""

    def __init__(self, movies):
        self.movies = {m.id: m for m in movies}
        self.searches = 0

    def search(self, text, filters=None, k=10, method=None):
        self.searches += 1
        ranked = sorted(self.movies.values(), key=lambda m: -m.vote_count)
        return [Hit(m, 1.0) for m in ranked[:k]]

    def get(self, ids):
        return [self.movies[i] for i in ids if i in self.movies]

    def known_people(self, names):
        people = {p for m in self.movies.values() for p in m.cast + m.directors}
        return [n for n in names if n in people]


@pytest.fixture
def linker():
    return Linker(CatalogueStore(CATALOGUE))


def linked(linker, question):
    return [(link.name, link.year) for link in linker.films(question) if link.confidence >= CONFIDENT]


@pytest.mark.parametrize("question, expected", [
    ("what was avatar's budget?", ("Avatar", 2009)),  # the namesake most people rated, not Avatar 4
    ("budget of the 2004 avatar", ("Avatar", 2004)),  # ... unless the question gives the year
    ("ok who directed inceptoin", ("Inception", 2010)),  # a typo
    ("WHAT IS ALIEN ABOUT", ("Alien", 1979)),  # case, and the exact title over a near one
    ("who directed the godfather part 2", ("The Godfather: Part II", 1974)),  # numerals either way
    ("tell me about the lion king", ("The Lion King", 1994)),  # the better rated of two well-known namesakes
])
def test_a_title_is_linked_despite_case_typos_and_namesakes(linker, question, expected):
    assert linked(linker, question)[:1] == [expected]


@pytest.mark.parametrize("question", [
    "who is in it?", "hi!", "thanks!", "I need a sad movie that will make me cry", "two hours or less",
])
def test_pronouns_greetings_moods_and_numbers_are_never_titles(linker, question):
    assert linked(linker, question) == []


def test_an_ordinary_word_of_a_longer_description_is_not_a_confident_title(linker):
    links = linker.films("a boy hides an alien in his house")
    assert links and all(link.confidence < CONFIDENT for link in links)


def test_two_mistyped_titles_of_one_question_are_both_found(linker):
    links = linker.films("is interstelar longer than inceptoin")
    assert [(link.name, link.year) for link in links] == [("Interstellar", 2014), ("Inception", 2010)]
    assert [linker.film(side).name for side in ("interstelar", "inceptoin")] == ["Interstellar", "Inception"]


@pytest.mark.parametrize("question, missing", [
    ("is anora any good", "Anora"),
    ("review of one battle after another", "One Battle After Another"),
    ("conclave 2024 plot", "Conclave (2024)"),  # a film whose title merely contains the word is not it
    ("a critique of cats (2019)", "Cats (2019)"),
])
def test_a_title_no_found_film_has_is_reported_missing(question, missing):
    found = ["The Conclave of Shadows", "Cats & Dogs", "Battle: Los Angeles", "Anima"]
    assert missing_title(question, found) == missing


@pytest.mark.parametrize("question, found", [
    ("who directed grand budapest", ["The Grand Budapest Hotel"]),
    ("what is the matrix about", ["The Matrix"]),
    ("plot of inceptoin", ["Inception"]),
    ("who directed the movie about a shark", ["Jaws"]),  # a description, not a title
    ("what's it about", []),
])
def test_a_title_a_found_film_has_or_a_description_is_not_missing(question, found):
    assert missing_title(question, found) is None


def test_a_shortened_title_links_as_one_side_of_a_comparison(linker):
    link = linker.film("grand budapest")
    assert (link.name, link.confidence >= CONFIDENT) == ("The Grand Budapest Hotel", True)
    assert linker.film("it") is None


@pytest.mark.parametrize("question, person", [
    ("stanly kubrik films", "Stanley Kubrick"),  # both names mistyped
    ("kubrick movies", "Stanley Kubrick"),  # a surname alone
    ("speilberg films", "Steven Spielberg"),  # a mistyped surname
    ("what else did fincher make", "David Fincher"),
    ("christopher nolen films", "Christopher Nolan"),
])
def test_a_person_is_linked_by_full_name_surname_or_typo(linker, question, person):
    assert linker.person(question).name == person


def test_a_surname_alone_is_not_a_person_when_the_question_names_more(linker):
    assert linker.person("a kubrick style story about a hotel") is None


def test_a_word_that_is_a_topic_of_films_is_not_a_surname(linker):
    assert linker.person("zombie movies") is None  # not Rob Zombie's films
    assert linker.person("rob zombie movies").name == "Rob Zombie"


def test_the_catalogue_is_read_once(linker):
    for question in ("inceptoin", "avatar budget", "kubrick movies"):
        linker.films(question)
        linker.person(question)
    assert linker.store.searches == 1


def test_understanding_reports_the_linked_entities_and_uses_the_linked_person(linker):
    u = understand("stanly kubrik films", linker.store.known_people, linker=linker)
    assert (u.intent, u.person, u.filters.person) == ("filmography", "Stanley Kubrick", "Stanley Kubrick")
    entities = u.to_dict()["entities"]
    assert entities[0]["kind"] == "person" and entities[0]["name"] == "Stanley Kubrick"
    assert 0.85 <= entities[0]["confidence"] < 1
    fact = understand("what was avatar's budget?", linker.store.known_people, linker=linker)
    assert fact.film.id == 1 and fact.to_dict()["entities"][0] == {
        "kind": "film", "text": "avatar", "name": "Avatar", "confidence": 1.0, "id": 1, "year": 2009}


def test_a_person_typed_in_lower_case_is_named_as_recorded(linker):
    u = understand("what else did james cameron direct", linker.store.known_people, linker=linker)
    assert (u.intent, u.person) == ("filmography", "James Cameron")


def test_a_question_about_a_named_film_is_not_a_list_request(linker):
    u = understand("the shining, is it scary", linker.store.known_people, linker=linker)
    assert u.intent != "recommendation" and u.film.name == "The Shining"
