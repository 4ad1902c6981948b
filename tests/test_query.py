"""Question understanding: intents, filters, people, compared titles."""

from datetime import date

import pytest

from movies_assistant.query import asks_fields_only, comparison_titles, parse_filters, understand
from movies_assistant.search.base import normalize_name

PEOPLE = {"tom hanks", "christopher nolan", "penelope cruz", "samuel l. jackson", "greta gerwig"}
TODAY = date(2026, 6, 1)


def known(names):
    """The index's `known_people`: names are stored without case or accents."""
    return [n for n in names if normalize_name(n) in PEOPLE]


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
    ("What has Greta Gerwig directed?", "filmography"),
    ("greta gerwig's films", "filmography"),
    ("movies with penelope cruz", "filmography"),
    ("the Tom Hanks movie where he is stranded on an island", "general"),
    ("Who directed the Tom Hanks movie about a man on an island?", "director"),
    ("French comedies", "recommendation"),
    ("korean thriller", "recommendation"),
    ("horror 2019", "recommendation"),
    ("a movie where a family moves into a haunted house", "general"),
    ("I'm looking for a movie where a man cannot form new memories", "general"),
    ("english-language movies", "recommendation"),
    ("list every Christopher Nolan film", "filmography"),
    ("Tom Hanks plays a movie star who falls for a bookshop owner", "general"),
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
    # years
    ("movies from the 90s", {"year_min": 1990, "year_max": 1999}),
    ("90's movies", {"year_min": 1990, "year_max": 1999}),
    ("2000s thrillers", {"year_min": 2000, "year_max": 2009, "genres": ["Thriller"]}),
    ("early 90s action movies", {"year_min": 1990, "year_max": 1993, "genres": ["Action"]}),
    ("mid-80s comedies", {"year_min": 1983, "year_max": 1986, "genres": ["Comedy"]}),
    ("late 70s horror", {"year_min": 1976, "year_max": 1979, "genres": ["Horror"]}),
    ("westerns from 1960 to 1969", {"year_min": 1960, "year_max": 1969, "genres": ["Western"]}),
    ("horror 1990-1995", {"year_min": 1990, "year_max": 1995, "genres": ["Horror"]}),
    ("films since 2015", {"year_min": 2015}),
    ("movies from 2015 onwards", {"year_min": 2015}),
    ("2010 or later", {"year_min": 2010}),
    ("released 1980 or earlier", {"year_max": 1980}),
    ("films up to 1960", {"year_max": 1960}),
    ("after 2000 and before 2005", {"year_min": 2001, "year_max": 2004}),
    ("1994 movies", {"year_min": 1994, "year_max": 1994}),
    ("horror 2019", {"year_min": 2019, "year_max": 2019, "genres": ["Horror"]}),
    ("recent sci-fi movies", {"year_min": 2022, "genres": ["Science Fiction"]}),
    ("the latest films", {"year_min": 2022}),
    ("anything more recent?", {}),
    ("movies like blade runner 2049", {}),
    # genres and their synonyms
    ("sci fi", {"genres": ["Science Fiction"]}),
    # "classics" are older and well rated; films for kids leave horror out
    ("science-fiction classics", {"genres": ["Science Fiction"], "year_max": 1996, "min_rating": 7.5,
                                  "min_votes": 1000}),
    ("cartoons for kids", {"genres": ["Animation", "Family"], "exclude_genres": ["Horror"], "min_votes": 300}),
    ("anime", {"genres": ["Animation"], "language": "ja"}),
    ("romcoms", {"genres": ["Comedy", "Romance"]}),
    ("scary movies", {"genres": ["Horror"]}),
    ("war films from the 40s", {"year_min": 1940, "year_max": 1949, "genres": ["War"]}),
    ("star wars", {}),
    ("documentaries", {"genres": ["Documentary"]}),
    # languages and nationalities
    ("korean thrillers", {"genres": ["Thriller"], "language": "ko"}),
    ("bollywood dramas", {"genres": ["Drama"], "language": "hi"}),
    ("hong kong action films", {"genres": ["Action"], "language": "cn"}),
    ("mexican films", {"language": "es"}),
    ("english-language movies", {"language": "en"}),
    # rating and votes
    ("rated above 7", {"min_rating": 7.0}),
    ("films rated over 6.5", {"min_rating": 6.5}),
    ("a rating of at least 8/10", {"min_rating": 8.0}),
    ("at least 8/10", {"min_rating": 8.0}),
    ("dramas rated 8 or higher", {"genres": ["Drama"], "min_rating": 8.0}),
    ("7.5+ rated", {"min_rating": 7.5}),
    ("top-rated movies", {"min_rating": 7.0, "min_votes": 200}),
    ("critically acclaimed films", {"min_rating": 7.0, "min_votes": 200}),
    ("with more than 1000 votes", {"min_votes": 1000}),
    ("at least 1,500 votes", {"min_votes": 1500}),
    ("5k+ votes", {"min_votes": 5000}),
    ("rated above 7 with at least 500 votes", {"min_rating": 7.0, "min_votes": 500}),
    ("more than 300 votes", {"min_votes": 300}),
    # runtime
    ("longer than 2 hours", {"runtime_min": 120}),
    ("less than two hours long", {"runtime_max": 120}),
    ("under an hour and a half", {"runtime_max": 90}),
    ("over 2.5 hours", {"runtime_min": 150}),
    ("90 minutes or less", {"runtime_max": 90}),
    ("no longer than 100 mins", {"runtime_max": 100}),
    ("between 90 and 120 minutes", {"runtime_min": 90, "runtime_max": 120}),
    ("short films", {"runtime_max": 40}),
])
def test_filters(text, expected):
    assert parse_filters(text, TODAY).to_dict() == expected


@pytest.mark.parametrize("question, filters", [
    ("Recommend French comedies from the 90s", {"year_min": 1990, "year_max": 1999, "genres": ["Comedy"],
                                                "language": "fr"}),
    ("Tom Hanks movies from the 90s", {"year_min": 1990, "year_max": 1999, "person": "Tom Hanks"}),
    # a question about one film keeps only the person it names: the other words describe the film
    ("the Tom Hanks movie where he is stranded on an island", {"person": "Tom Hanks"}),
    ("a movie where a family of French spies fights a war", {}),
    ("rat who dreams of being a french chef in paris", {}),
    ("When was The Family Man released?", {}),
    ("Who directed the war movie Dunkirk?", {}),
    ("something older in french", {"language": "fr"}),  # short: a follow-up's constraints
    ("Recommend comedies with Tom Hanks", {"genres": ["Comedy"], "person": "Tom Hanks"}),
])
def test_filters_apply_to_list_requests_only(question, filters):
    assert understand(question, known, today=TODAY).filters.to_dict() == filters


@pytest.mark.parametrize("text, expected", [
    # spelled numbers, fractions and decades
    ("under ninety minutes", {"runtime_max": 90}),
    ("longer than two and a half hours", {"runtime_min": 150}),
    ("ninety-five minutes or less", {"runtime_max": 95}),
    ("at least one hundred and twenty minutes", {"runtime_min": 120}),
    ("under half an hour", {"runtime_max": 30}),
    ("around two hours", {"runtime_min": 105, "runtime_max": 135}),
    ("westerns from the sixties", {"year_min": 1960, "year_max": 1969, "genres": ["Western"]}),
    ("the early nineteen-eighties", {"year_min": 1980, "year_max": 1983}),
    ("'80s horror", {"year_min": 1980, "year_max": 1989, "genres": ["Horror"]}),
    ("70s thrillers", {"year_min": 1970, "year_max": 1979, "genres": ["Thriller"]}),
    # relative to today (2026)
    ("movies from the last 10 years", {"year_min": 2017}),
    ("the past five years", {"year_min": 2022}),
    ("over the last decade", {"year_min": 2017}),
    ("the last couple of years", {"year_min": 2025}),
    ("films more than thirty years old", {"year_max": 1996}),
    ("rated above seven", {"min_rating": 7.0}),
    ("horror with good ratings", {"genres": ["Horror"], "min_rating": 7.0, "min_votes": 200}),
    ("under one hour and forty-five minutes", {"runtime_max": 105}),
    ("shorter than 1h30", {"runtime_max": 90}),
    ("movies with fewer than 500 votes", {"max_votes": 500}),
])
def test_numbers_as_people_write_them(text, expected):
    assert parse_filters(text, TODAY).to_dict() == expected


@pytest.mark.parametrize("text, expected", [
    ("no horror", {"exclude_genres": ["Horror"]}),
    ("nothing animated please", {"exclude_genres": ["Animation"]}),
    ("a comedy, but no romance", {"genres": ["Comedy"], "exclude_genres": ["Romance"]}),
    ("i don't want anything scary", {"exclude_genres": ["Horror"]}),
    ("non-horror halloween films", {"exclude_genres": ["Horror"]}),
    ("without horror or war movies", {"exclude_genres": ["Horror", "War"]}),
    ("a thriller that is not too violent", {"genres": ["Thriller"], "exclude_genres": ["Horror", "War"]}),
    ("not too violent thriller", {"genres": ["Thriller"], "exclude_genres": ["Horror", "War"]}),
    ("nothing too scary for my kids", {"genres": ["Family"], "exclude_genres": ["Horror"], "min_votes": 300}),
    ("a comedy without subtitles", {"genres": ["Comedy"], "language": "en"}),
    ("something not too long", {"runtime_max": 120}),
    ("a thriller, but not korean", {"genres": ["Thriller"]}),  # no language filter says "not korean"
    ("recommend me a movie that isn't a horror", {"exclude_genres": ["Horror"]}),
    ("not in the mood for anything heavy", {"exclude_genres": ["Horror", "War"]}),
])
def test_negations_become_exclusions(text, expected):
    assert parse_filters(text, TODAY).to_dict() == expected


@pytest.mark.parametrize("question, filters, words", [
    ("I need a sad movie that will make me cry", {"genres": ["Drama"]}, "grief"),
    ("something for a date night", {"genres": ["Romance"], "exclude_genres": ["Horror"]}, "love"),
    ("a feel-good movie", {"exclude_genres": ["Horror", "War"], "min_rating": 6.5}, "uplifting"),
    ("scary but not gory", {"genres": ["Horror"]}, ""),
    ("something light-hearted", {"genres": ["Comedy"]}, "lighthearted"),
    ("an intense movie", {"genres": ["Thriller"]}, "suspense"),
    ("cozy movies for a rainy sunday", {"exclude_genres": ["Horror", "War", "Thriller"]}, "heartwarming"),
    ("mind-bending films", {"min_rating": 7.0}, "reality"),
    ("movies for kids", {"genres": ["Family"], "exclude_genres": ["Horror"]}, "family"),
    ("underrated sci-fi movies", {"genres": ["Science Fiction"], "min_rating": 7.2, "max_votes": 1500}, ""),
    ("hidden gems from the 90s", {"year_min": 1990, "year_max": 1999, "max_votes": 1500}, ""),
    ("recommend a classic", {"year_max": 1996, "min_rating": 7.5}, ""),
    ("something with time travel", {"genres": ["Science Fiction"]}, "time travel"),  # a theme: kept
])
def test_moods_are_filters_and_meanings_not_title_words(question, filters, words):
    """ "A sad movie" is dramas searched by what sadness means: never "The Sadness" by its title."""
    u = understand(question, known, today=TODAY)
    assert u.intent == "recommendation"
    got = u.filters.to_dict()
    assert {k: got.get(k) for k in filters} == filters
    title_words = {"sad", "cry", "date", "night", "feel", "good", "gory", "light", "hearted", "intense", "cozy",
                   "rainy", "sunday", "mind", "bending", "kids", "underrated", "hidden", "gems", "classic"}
    assert not title_words & set(u.topic.split()), u.topic
    assert words in u.topic


@pytest.mark.parametrize("question", ["is up a sad movie", "paddington, good for kids?", "is The Sadness any good?",
                                      "Date Night", "The Dark Knight", "good will hunting, is it sad"])
def test_a_mood_in_a_question_about_one_film_is_no_list_request(question):
    u = understand(question, known, today=TODAY)
    assert u.intent != "recommendation" and not {"Drama", "Romance"} & set(u.filters.genres)
    assert not u.filters.min_votes


@pytest.mark.parametrize("question, words", [("Date Night", "Date Night"), ("The Dark Knight", "Dark Knight"),
                                             ("good will hunting, is it sad", "good will hunting")])
def test_a_title_with_a_mood_word_is_searched_whole(question, words):
    assert words.lower() in understand(question, known, today=TODAY).topic.lower()


def test_a_description_is_searched_as_written():
    question = "the movie where a family moves into a haunted house"
    assert understand(question, known).topic == question
    assert understand("korean thrillers rated above 7", known).topic == ""


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
    ("is john wick longer than taken?", ["john wick", "taken"]),
    ("is it longer than the good the bad and the ugly", ["it", "the good the bad and the ugly"]),
    ("which is rated higher, the dark knight or inception", ["the dark knight", "inception"]),
    ("which made more money toy story or cars", ["toy story", "cars"]),
    ("which is older: alien or blade runner", ["alien", "blade runner"]),
    ("notting hill or love actually which is better rated", ["notting hill", "love actually"]),
    ("compare toy story 1 2 and 3", ["toy story", "toy story 2", "toy story 3"]),
    ("is there anything other than dramas?", []),
    ("is the godfather longer than 3 hours?", []),
    ("which is the best horror movie of 2010", []),
    ("which of those is the best rated", []),
    ("does heat have a higher rating than ronin", ["heat", "ronin"]),
    ("what is longer, heat or ronin?", ["heat", "ronin"]),
    ("compare the budgets of avatar and titanic", ["avatar", "titanic"]),
    ("avatar vs titanic box office", ["avatar", "titanic"]),
    ("how do alien and aliens compare in length?", ["alien", "aliens"]),
    ("how does heat compare to ronin", ["heat", "ronin"]),
])
def test_comparison_titles(question, titles):
    assert comparison_titles(question) == titles


@pytest.mark.parametrize("question, rank", [
    ("is john wick longer than taken?", "longest"),
    ("which one is shorter", "shortest"),
    ("which came out first", "oldest"),
    ("the oldest?", "oldest"),
    ("which of those made the most money", "highest_revenue"),
    ("which is better, grand budapest or moonrise kingdom", "best_rated"),
    ("which of those is the best rated", "best_rated"),
    ("which was more expensive, avatar or titanic", "highest_budget"),
    ("budget and box office for toy story", None),
    ("who directed alien", None),
    ("compare the budgets of avatar and titanic", "highest_budget"),  # the fact compared
    ("avatar vs titanic box office", "highest_revenue"),
])
def test_the_comparative_asked(question, rank):
    assert understand(question).rank == rank


@pytest.mark.parametrize("question, intent, fields", [
    ("who directed alien and when did it come out", "director", ["directors", "release_date"]),
    ("who directed alien and who stars in it", "director", ["directors", "cast"]),
    ("who is in heat and how long is it", "cast", ["cast", "runtime"]),
    ("budget and box office for toy story", "fact", ["budget", "revenue"]),
    ("how long is it and what's it rated", "fact", ["runtime", "rating"]),
    ("what was the box office and the budget of avatar", "fact", ["revenue", "budget"]),
    ("the godfather how many hours", "fact", ["runtime"]),
])
def test_every_asked_fact_field_in_the_order_asked(question, intent, fields):
    u = understand(question)
    assert (u.intent, u.fact_fields) == (intent, fields)
    assert u.to_dict()["fact_fields"] == fields


# -- the understanding applied to retrieval, on the real sample index ---------------------------------

@pytest.fixture(scope="module")
def sample_movies():
    from movies_assistant.movies import ReadReport, read_movies

    from .conftest import SAMPLE
    return [m for chunk in read_movies(SAMPLE, ReadReport()) for m in chunk]


def test_a_filmography_with_a_decade_is_the_persons_films_of_that_decade_by_date(client, sample_movies):
    body = client.post("/question", json={"question": "Tom Hanks movies from the 90s"}).get_json()
    expected = sorted((m for m in sample_movies if "Tom Hanks" in m.cast + m.directors and 1990 <= m.year <= 1999),
                      key=lambda m: m.release_date)
    assert len(expected) >= 3
    assert body["understanding"]["intent"] == "filmography"
    assert [s["id"] for s in body["sources"]] == [m.id for m in expected]


@pytest.mark.parametrize("question", ["penelope cruz movies", "Penélope Cruz films", "PENELOPE CRUZ filmography"])
def test_people_are_matched_without_case_or_accents(client, sample_movies, question):
    body = client.get("/search", query_string={"q": question, "k": 50}).get_json()
    expected = {m.id for m in sample_movies if "Penélope Cruz" in m.cast + m.directors}
    assert expected and body["filters"]["person"].lower() in ("penelope cruz", "penélope cruz")
    assert {r["id"] for r in body["results"]} == expected


@pytest.mark.parametrize("question", [
    "korean thrillers rated above 7", "sci-fi films from the 80s", "animated movies under 90 minutes",
    "horror films after 2000 with at least 500 votes", "dramas longer than 2.5 hours", "highly rated westerns",
])
def test_search_json_reports_the_filters_every_result_satisfies(client, sample_movies, question):
    from movies_assistant.search import Filters

    body = client.get("/search", query_string={"q": question, "k": 10}).get_json()
    filters = Filters(**body["filters"])
    assert body["filters"] == understand(question, known).filters.to_dict()
    by_id = {m.id: m for m in sample_movies}
    assert body["results"] and all(filters.accepts(by_id[r["id"]]) for r in body["results"])


def test_a_plot_description_is_not_filtered_by_its_plot_words(client):
    # "French" and "family" describe the plot of Ratatouille (an English-language film), not constraints
    body = client.get("/search", query_string={
        "q": "the animated movie about a rat in a French restaurant who cooks for a family", "k": 10}).get_json()
    assert body["filters"] == {}
    assert "Ratatouille" in [r["title"] for r in body["results"]]


@pytest.fixture
def mood_store(tmp_path):
    """Films whose titles hold mood words, beside films that have those moods."""
    from movies_assistant.movies import Movie
    from movies_assistant.search.local import LocalStore

    store = LocalStore(tmp_path / "index")
    store.rebuild([[
        Movie(id=1, title="The Sadness", genres=["Horror"], overview="An outbreak turns a city violent.",
              release_date="2021-01-22", vote_average=6.7, vote_count=900),
        Movie(id=2, title="Date Night", genres=["Comedy", "Crime"], overview="A case of mistaken identity.",
              release_date="2010-04-09", vote_average=6.2, vote_count=3000),
        Movie(id=3, title="Letters Home", genres=["Drama"], overview="A widow's grief after a tragic loss.",
              release_date="2015-03-01", vote_average=7.4, vote_count=900),
        Movie(id=4, title="Spring in Paris", genres=["Romance", "Comedy"], overview="A charming love story.",
              release_date="2012-05-01", vote_average=7.0, vote_count=800),
    ]])
    return store


@pytest.mark.parametrize("question, expected", [
    ("I need a sad movie that will make me cry", "Letters Home"),
    ("something for a date night", "Spring in Paris"),
    ("a good movie, no horror and nothing romantic please", "Date Night"),
])
def test_moods_find_films_by_meaning_not_by_title(mood_store, question, expected):
    from movies_assistant.retrieval import Retriever

    found = Retriever(mood_store).search(question, method="lexical")
    assert [h.movie.title for h in found.hits][:1] == [expected]
    assert all(found.filters.accepts(h.movie) for h in found.hits)


@pytest.mark.parametrize("question, alone", [
    ("and the budget?", True), ("what's the rating", True), ("how long?", True), ("who directed", True),
    ("how long is heat", False), ("what is the budget of avatar", False), ("what else", False), ("hi", False),
])
def test_a_question_of_fact_fields_alone_names_no_film(question, alone):
    assert asks_fields_only(question) is alone
