"""The composer's answers for each question type, checked against the sample data itself."""

import pytest

from movies_assistant.llm.base import AnswerRequest
from movies_assistant.llm.composer import compose
from movies_assistant.movies import ReadReport, read_movies
from movies_assistant.query import understand

from .conftest import SAMPLE


@pytest.fixture(scope="module")
def sample():
    return {m.title: m for chunk in read_movies(SAMPLE, ReadReport()) for m in chunk}


def answer(client, question, **extra):
    r = client.post("/question", json={"question": question, **extra})
    assert r.status_code == 200, r.data
    return r.get_json()


def test_fact_release_date(client):
    assert answer(client, "When was Avatar released?")["answer"] == "Avatar was released on December 10, 2009."


def test_fact_budget_and_revenue(client, sample):
    assert f"${sample['Avatar'].budget:,}" in answer(client, "What was the budget of Avatar?")["answer"]
    assert f"${sample['Titanic'].revenue:,}" in answer(client, "How much did Titanic make at the box office?")["answer"]


def test_fact_runtime_and_rating(client, sample):
    assert "175 minutes" in answer(client, "How long is The Godfather?")["answer"]
    m = sample["The Dark Knight"]
    text = answer(client, "What is the rating of The Dark Knight?")["answer"]
    assert f"{m.vote_average:.1f}/10" in text and f"{m.vote_count:,}" in text


def test_cast(client, sample):
    text = answer(client, "Who starred in Forrest Gump?")["answer"]
    assert all(name in text for name in sample["Forrest Gump"].cast[:3])


def test_director(client):
    assert "Christopher Nolan" in answer(client, "Who directed Inception?")["answer"]


def test_filmography_is_complete_and_by_date(client, sample):
    body = answer(client, "Which movies did Christopher Nolan direct?")
    expected = sorted((m for m in sample.values() if "Christopher Nolan" in m.directors + m.cast),
                      key=lambda m: m.release_date)
    assert [s["id"] for s in body["sources"]] == [m.id for m in expected]
    text = body["answer"]
    positions = [text.index(m.label()) for m in expected]
    assert positions == sorted(positions)
    assert f"{len(expected)} films" in text


def test_comparison_fetches_each_film(client, sample):
    body = answer(client, "Compare The Matrix and Inception")
    assert {s["title"] for s in body["sources"]} == {"The Matrix", "Inception"}
    text = body["answer"]
    for title in ("The Matrix", "Inception"):
        assert f"{sample[title].vote_average:.1f}/10" in text
    assert "Inception (2010) has the higher audience rating" in text


def test_recommendation_honours_constraints(client, sample):
    body = answer(client, "Recommend animated movies from the 90s")
    assert body["sources"]
    for source in body["sources"]:
        movie = next(m for m in sample.values() if m.id == source["id"])
        assert "Animation" in movie.genres and 1990 <= movie.year <= 1999
    assert body["sources"][0]["title"] in body["answer"]


def test_recommendation_with_no_match_says_so(client):
    text = answer(client, "Recommend Korean westerns from the 1930s")["answer"]
    assert text.startswith("No film in the catalogue matches")


def test_plot_summary(client, sample):
    text = answer(client, "What is Finding Nemo about?")["answer"]
    assert "clownfish" in text and text.startswith("Finding Nemo (2003)")


def test_review_does_not_invent_reviews(client, sample):
    text = answer(client, "Give me a review of Titanic")["answer"]
    assert "no critics' reviews" in text and f"{sample['Titanic'].vote_average:.1f}/10" in text


def test_every_named_film_is_a_source(client):
    """The composer names only retrieved films: every 'Title (year)' in the answer is among the sources."""
    import re

    for q in ("Recommend sci-fi movies rated above 8", "Compare Alien and Aliens", "Tell me about Pulp Fiction"):
        body = answer(client, q)
        labels = {f"{s['title']} ({s['year']})" for s in body["sources"]}
        for title, year in re.findall(r"([A-Z][^:\n·;]*?) \((\d{4})\)", body["answer"]):
            assert any(label.endswith(f"{title} ({year})") for label in labels), (title, year, labels)


def test_plots_are_cut_at_sentence_ends_not_at_abbreviations():
    from movies_assistant.llm.composer import first_sentences

    text = "Dr. Alan Grant visits St. Louis with J.R.R. Smith. A storm hits. Nobody is safe."
    assert first_sentences(text, 1) == "Dr. Alan Grant visits St. Louis with J.R.R. Smith."
    assert first_sentences(text, 2) == "Dr. Alan Grant visits St. Louis with J.R.R. Smith. A storm hits."


@pytest.mark.parametrize("genres, kind", [
    (["Action", "Science Fiction"], "an action and science fiction film"),
    (["Drama"], "a drama film"),
    ([], "a film"),
])
def test_a_review_names_what_a_film_is_in_plain_english(genres, kind):
    from movies_assistant.llm.composer import kind_of_film

    assert kind_of_film(genres) == kind


def test_every_fact_a_question_asks_is_answered(client, sample):
    text = answer(client, "Who directed Gladiator and when did it come out?")["answer"]
    assert "Ridley Scott" in text and "2000" in text
    text = answer(client, "Budget and box office for Titanic?")["answer"]
    assert f"${sample['Titanic'].budget:,}" in text and f"${sample['Titanic'].revenue:,}" in text
    text = answer(client, "How long is Memento and what is it rated?")["answer"]
    assert "113 minutes" in text and f"{sample['Memento'].vote_average:.1f}/10" in text
    text = answer(client, "Who directed Gladiator and who stars in it?")["answer"]
    assert "Ridley Scott" in text and "Russell Crowe" in text
    text = answer(client, "Who is in Memento and how long is it?")["answer"]
    assert "Guy Pearce" in text and "113 minutes" in text


def test_a_comparison_answers_the_comparative_asked(client, sample):
    data = answer(client, "Is Gladiator longer than Memento?")
    assert {s["title"] for s in data["sources"]} == {"Gladiator", "Memento"}
    assert data["answer"].startswith("Gladiator (2000), 155 min, is longer than Memento (2000), 113 min.")
    older = answer(client, "Which is older, Predator or Blade Runner?")["answer"]
    assert older.startswith("Blade Runner (1982), released") and "came out before Predator (1987)" in older


def test_a_comparison_of_three_films_ranks_them(sample):
    question = "which of the lord of the rings films made the most money"
    films = [m for m in sample.values() if m.title.startswith("The Lord of the Rings")]
    u = understand(question)
    u.intent = "comparison"
    text = compose(AnswerRequest(question, u, films))
    assert text.startswith("The Lord of the Rings: The Return of the King (2003) earned the most: $1,118,888,979; "
                           "then The Lord of the Rings: The Two Towers (2002): $926,287,400;")
