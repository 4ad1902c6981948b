"""Multi-turn conversations on the sample data: follow-ups resolve against earlier turns, recommendations
do not repeat themselves, history is bounded and summarised, reviews do not pretend.

With the composer (every answer checked against the sample itself) and with the real local model
(SmolLM2-135M: only what a model that small can be held to: the follow-up reaches it with the earlier
turn and the right film).
"""

from __future__ import annotations

import dataclasses

import pytest

from movies_assistant.app import create_app
from movies_assistant.conversation import Plan, people_in, resolve
from movies_assistant.llm.composer import review_sentiment
from movies_assistant.movies import ReadReport, read_movies
from movies_assistant.prompts import HISTORY_ANSWER_CHARS
from movies_assistant.query import understand
from movies_assistant.rag import PROMPT_TURNS

from .conftest import SAMPLE


@pytest.fixture(scope="module")
def sample():
    return {m.id: m for chunk in read_movies(SAMPLE, ReadReport()) for m in chunk}


@pytest.fixture
def log(app):
    return app.extensions["movies_assistant"].log


class Chat:
    """One conversation through POST /question."""

    def __init__(self, client):
        self.client, self.conversation_id, self.answers = client, None, []

    def ask(self, question: str) -> dict:
        body = {"question": question}
        if self.conversation_id:
            body["conversation_id"] = self.conversation_id
        r = self.client.post("/question", json=body)
        assert r.status_code == 200, r.get_json()
        answer = r.get_json()
        self.conversation_id = answer["conversation_id"]
        self.answers.append(answer)
        return answer


def ids(answer: dict) -> list[int]:
    return [s["id"] for s in answer["sources"]]


# -- follow-ups that refer back --------------------------------------------------------------------
def test_it_means_the_film_being_discussed(client, sample):
    chat = Chat(client)
    chat.ask("Tell me about Finding Nemo")
    directed = chat.ask("Who directed it?")
    assert "Andrew Stanton" in directed["answer"] and directed["understanding"]["subject"] == "Finding Nemo (2003)"
    released = chat.ask("When did it come out?")
    assert released["answer"] == "Finding Nemo was released on May 30, 2003."
    assert [a["turn"] for a in chat.answers] == [1, 2, 3]


def test_a_follow_up_that_names_no_film_is_about_the_film_being_discussed(client):
    chat = Chat(client)
    chat.ask("whats the big lebowski about")
    for question in ("who's in it", "who plays the dude", "what's the rating"):
        answer = chat.ask(question)
        assert ids(answer)[0] == 115, (question, answer["answer"])
    assert "Jeff Bridges" in chat.answers[1]["answer"]


def test_a_film_the_follow_up_names_wins_over_it(client):
    chat = Chat(client)
    chat.ask("tell me about the matrix")
    answer = chat.ask("goodfellas, is it long")
    assert ids(answer)[0] == 769 and answer["understanding"]["intent"] != "recommendation"


def test_a_comparison_with_it_compares_the_film_being_discussed(client):
    chat = Chat(client)
    chat.ask("what is goodfellas about")
    answer = chat.ask("compare it with the matrix")
    assert set(ids(answer)[:2]) == {769, 603}


def test_a_mistyped_title_is_answered_for_that_film(client):
    answer = Chat(client).ask("who directed inceptoin")
    assert ids(answer)[0] == 27205 and "Christopher Nolan" in answer["answer"]
    link = answer["understanding"]["entities"][0]
    assert (link["name"], link["id"]) == ("Inception", 27205) and link["confidence"] < 1


def test_a_surname_alone_asks_for_a_filmography(client, sample):
    answer = Chat(client).ask("nolan movies")
    assert answer["understanding"]["intent"] == "filmography"
    assert all("Christopher Nolan" in sample[i].directors + sample[i].cast for i in ids(answer))


def test_she_means_the_person_last_named(client, sample):
    chat = Chat(client)
    cast = chat.ask("Who starred in Alien?")
    assert cast["answer"].startswith("Alien (1979) stars Sigourney Weaver")
    films = chat.ask("What else has she been in?")
    assert films["understanding"]["intent"] == "filmography"
    assert films["understanding"]["person"] == "Sigourney Weaver"
    expected = sorted((m for m in sample.values() if "Sigourney Weaver" in m.cast), key=lambda m: m.release_date)
    assert ids(films) == [m.id for m in expected] and len(expected) >= 5
    # "the second one" is the second film that answer listed
    second = chat.ask("Who directed the second one?")
    assert second["understanding"]["subject"] == expected[1].label()
    assert f"{expected[1].label()} was directed by {expected[1].directors[0]}" in second["answer"]


def test_he_after_a_director_answer(client):
    chat = Chat(client)
    chat.ask("Who directed Inception?")
    films = chat.ask("What other movies has he made?")
    assert films["understanding"]["person"] == "Christopher Nolan"
    assert "Christopher Nolan has" in films["answer"] and "The Dark Knight (2008)" in films["answer"]


def test_anything_similar_but_older(client, sample):
    chat = Chat(client)
    chat.ask("Tell me about Finding Nemo")
    similar = chat.ask("anything similar but older?")
    u = similar["understanding"]
    assert u["intent"] == "recommendation" and u["similar_to"] == "Finding Nemo (2003)"
    assert u["filters"]["year_max"] == 2002
    assert similar["sources"] and 12 not in ids(similar)  # not Finding Nemo itself
    for source in similar["sources"]:
        movie = sample[source["id"]]
        assert movie.year <= 2002 and "Animation" in movie.genres
    assert similar["answer"].startswith("Here are some films similar to Finding Nemo (2003)")


def test_a_recommendation_conversation_never_repeats_a_film(client, sample, log):
    chat = Chat(client)
    first = chat.ask("Recommend animated movies from the 90s")
    more = chat.ask("any more?")
    again = chat.ask("something else?")
    suggested = [a["grounding"]["mentioned_ids"] for a in (first, more, again)]
    available = [m for m in sample.values() if m.year and 1990 <= m.year <= 1999 and "Animation" in m.genres]
    assert [len(s) for s in suggested] == [5, 5, len(available) - 10]  # the sample has 11 such films
    assert len(set(sum(suggested, []))) == len(available)  # every one of them once, none twice
    for answer in (more, again):  # the first turn's filters carry over
        assert answer["understanding"]["filters"] == {"year_min": 1990, "year_max": 1999, "genres": ["Animation"]}
        for source in answer["sources"]:
            movie = sample[source["id"]]
            assert 1990 <= movie.year <= 1999 and "Animation" in movie.genres
    state = log.answer_details(again["answer_id"])["understanding"]
    assert set(sum(suggested, [])) <= set(state["suggested_ids"])
    last = chat.ask("more please")
    assert last["sources"] == [] and last["answer"] == (
        "That's every film I have matching from 1990, until 1999, genre Animation: the rest were already "
        "suggested or turned down in this conversation.")


def test_a_follow_up_that_turns_a_genre_down_drops_it(client, sample):
    chat = Chat(client)
    chat.ask("Recommend horror movies from the 80s")
    calmer = chat.ask("anything else, but nothing scary?")
    filters = calmer["understanding"]["filters"]
    assert filters["exclude_genres"] == ["Horror"] and "Horror" not in filters.get("genres", [])
    assert filters["year_min"] == 1980  # the rest carries over
    assert calmer["sources"] and all("Horror" not in sample[s["id"]].genres for s in calmer["sources"])


def test_films_turned_down_are_not_suggested(client, sample, log):
    chat = Chat(client)
    first = chat.ask("Recommend science fiction movies")
    lion = next(m for m in sample.values() if m.title == "Avatar")
    follow = chat.ask("I've already seen Avatar and Alien, something else?")
    state = log.answer_details(follow["answer_id"])["understanding"]
    assert lion.id in state["rejected_ids"] and 348 in state["rejected_ids"]
    assert lion.id not in ids(follow) and 348 not in ids(follow)
    assert not set(first["grounding"]["mentioned_ids"]) & set(follow["grounding"]["mentioned_ids"])


def test_negative_feedback_turns_the_suggestions_down(client, log):
    chat = Chat(client)
    first = chat.ask("Recommend comedies from the 80s")
    client.post("/feedback", json={"conversation_id": first["conversation_id"], "feedback": -1})
    second = chat.ask("Recommend comedies")
    state = log.answer_details(second["answer_id"])["understanding"]
    assert set(first["grounding"]["mentioned_ids"]) <= set(state["rejected_ids"])
    assert not set(first["grounding"]["mentioned_ids"]) & set(ids(second))


def test_movies_like_a_title_are_similar_films_without_it(client, sample):
    answer = Chat(client).ask("Recommend movies like Toy Story")
    assert answer["understanding"]["similar_to"] == "Toy Story (1995)"
    assert 862 not in ids(answer)
    assert all("Animation" in sample[i].genres for i in ids(answer))


def test_a_new_question_in_the_conversation_is_not_a_follow_up(client):
    chat = Chat(client)
    chat.ask("Tell me about Finding Nemo")
    other = chat.ask("Who directed Inception?")
    assert "Christopher Nolan" in other["answer"] and "subject" not in other["understanding"]


# -- history: bounded, summarised, stored with the log -----------------------------------------------
class Recorder:
    """A composer that keeps the requests it was given."""

    def __init__(self):
        from movies_assistant.llm.composer import Composer

        self.inner, self.requests, self.name = Composer(), [], "composer"

    def status(self):
        return "ready"

    def generate(self, request):
        self.requests.append(request)
        return self.inner.generate(request)

    def stream(self, request):
        self.requests.append(request)
        return self.inner.stream(request)


def test_history_in_the_prompt_is_bounded_and_older_turns_are_summarised(app, client):
    recorder = Recorder()
    app.extensions["movies_assistant"].provider = recorder
    chat = Chat(client)
    questions = ["Tell me about Finding Nemo", "Who directed it?", "Recommend animated movies from the 90s",
                 "any more?", "Compare The Matrix and Inception", "Who starred in Alien?", "What else has she been in?"]
    for q in questions:
        chat.ask(q)
    messages = recorder.requests[-1].messages
    roles = [m["role"] for m in messages]
    assert roles == ["system", "system"] + ["user", "assistant"] * PROMPT_TURNS + ["user"]
    summary = messages[1]["content"]
    assert summary.startswith("Earlier in this conversation:")
    for q in questions[: len(questions) - 1 - PROMPT_TURNS]:
        assert f'asked "{q}"' in summary
    assert "Finding Nemo (2003)" in summary
    quoted = [m["content"] for m in messages[2:-1:2]]
    assert quoted == questions[-1 - PROMPT_TURNS:-1]
    assert all(len(m["content"]) <= HISTORY_ANSWER_CHARS + 4 for m in messages[3:-1:2])
    assert "The question is about Sigourney Weaver." in messages[-1]["content"]


def test_the_log_keeps_each_turns_state(client, log):
    chat = Chat(client)
    chat.ask("Who starred in Alien?")
    chat.ask("What else has she been in?")
    turns = log.turns(chat.conversation_id)
    assert [t["turn"] for t in turns] == [1, 2]
    assert turns[0]["understanding"]["subject_id"] == 348
    assert turns[1]["understanding"]["person"] == "Sigourney Weaver"
    assert turns[1]["understanding"]["follow_up"] == "person"
    assert turns[1]["grounding"]["grounded"] is True


def test_resolve_without_history_changes_nothing(sample_store):
    u = understand("Who directed Alien?", sample_store.known_people)
    plan = resolve("Who directed Alien?", u, [], sample_store)
    assert isinstance(plan, Plan) and plan.understanding == u and plan.subject is None and not plan.follow_up


def test_people_in_finds_known_people_in_order(sample_store):
    text = "Alien (1979) stars Sigourney Weaver, Tom Skerritt. It was directed by Ridley Scott."
    assert people_in(text, sample_store)[:3] == ["Sigourney Weaver", "Tom Skerritt", "Ridley Scott"]


# -- reviews: a labelled opinion, the audience rating, and what cannot be known ---------------------------
def test_review_is_a_labelled_opinion_with_the_rating(client, sample):
    titanic = next(m for m in sample.values() if m.title == "Titanic")
    text = Chat(client).ask("Write a review of Titanic")["answer"]
    assert text.startswith("Generated opinion, not a published review:")
    assert f"{titanic.vote_average:.1f}/10" in text and f"{titanic.vote_count:,}" in text
    assert "can't quote or invent one" in text and "can't tell you what reviewers or audiences wrote" in text


def test_review_column_is_analysed_when_present(sample):
    from movies_assistant.llm import AnswerRequest
    from movies_assistant.llm.composer import compose

    movie = dataclasses.replace(next(m for m in sample.values() if m.title == "Titanic"))
    movie.reviews = ["A moving, beautiful film. Loved it.", "Boring and far too long, a waste of time.",
                     "Not bad at all, I enjoyed it.", "It was a film."]
    assert review_sentiment(movie.reviews) == {"reviews": 4, "positive": 2, "negative": 1, "mixed": 1}
    text = compose(AnswerRequest("review of Titanic", understand("Give me a review of Titanic"), [movie]))
    assert "4 audience reviews" in text and "2 read positive, 1 negative and 1 mixed" in text


def test_comparison_covers_rating_genre_popularity_budget_and_revenue(client, sample):
    answer = Chat(client).ask("Compare Avatar and Titanic")
    text = answer["answer"]
    for title in ("Avatar", "Titanic"):
        m = next(m for m in sample.values() if m.title == title)
        assert f"{m.vote_average:.1f}/10" in text and f"${m.budget:,}" in text and f"${m.revenue:,}" in text
        assert m.genres[0] in text and f"TMDB popularity {m.popularity:,.1f}" in text
    assert "is the most popular on TMDB now" in text


# -- the real local model --------------------------------------------------------------------------
def test_follow_up_with_the_local_model(smollm2, settings):
    app = create_app(dataclasses.replace(settings, llm_provider="local", llm_max_tokens=24, top_k=2))
    svc = app.extensions["movies_assistant"]
    seen = []
    real_stream = svc.provider.stream

    def spy(request):
        seen.append(request)
        return real_stream(request)

    svc.provider.stream = spy
    chat = Chat(app.test_client())
    first = chat.ask("Who directed Star Wars?")
    second = chat.ask("When was it released?")
    assert first["model"] == second["model"] == f"local:{smollm2.name}"
    assert second["understanding"]["subject"] == "Star Wars (1977)" and second["sources"][0]["id"] == 11
    messages = seen[-1].messages
    assert messages[1] == {"role": "user", "content": "Who directed Star Wars?"}
    assert messages[2] == {"role": "assistant", "content": first["answer"]}
    assert 'In the question, "it" means Star Wars (1977).' in messages[-1]["content"]
    assert second["answer"].strip() and second["usage"]["prompt_tokens"] > first["usage"]["prompt_tokens"]
    row = svc.log.answer_details(second["answer_id"])
    assert row["turn"] == 2 and "grounded" in row["grounding"] and row["understanding"]["subject_id"] == 11


def test_a_models_review_is_labelled_and_asked_for_the_rating(app, client):
    from .test_grounding import Scripted

    scripted = Scripted("Titanic (1997) is a sweeping romance with a famous ending; 7.9/10 from its audience.")
    seen = []
    real_stream = scripted.stream
    scripted.stream = lambda request: (seen.append(request), real_stream(request))[1]
    app.extensions["movies_assistant"].provider = scripted
    answer = Chat(client).ask("Give me a review of Titanic")
    assert answer["answer"].startswith("Generated opinion: Titanic (1997) is a sweeping romance")
    prompt = seen[0].messages[-1]["content"]
    assert "start it with 'Generated opinion:'" in prompt and "do not quote or invent any" in prompt
    assert "vote_average" in prompt and "vote_count" in prompt


def test_a_film_not_in_the_catalogue_is_said_to_be_missing_with_the_nearest_titles(client):
    answer = Chat(client).ask("is anora any good")
    assert answer["answer"].startswith("I couldn't find Anora in the catalogue. The nearest titles I have are ")
    assert answer["understanding"]["missing_title"] == "Anora"
    assert answer["sources"], "the nearest titles are offered as sources"


def test_part_two_and_the_sequel_mean_the_next_film_of_the_series(client):
    chat = Chat(client)
    chat.ask("the godfather how many hours")
    assert "175 minutes" in chat.answers[0]["answer"]
    answer = chat.ask("and part 2")  # the same question, about the sequel
    assert ids(answer)[0] == 240 and "200 minutes" in answer["answer"]
    chat = Chat(client)
    chat.ask("what is back to the future about")
    assert ids(chat.ask("who directed the sequel"))[0] == 165


# -- operations on the films an earlier answer listed ----------------------------------------------
def test_which_of_those_ranks_the_earlier_list_not_a_new_search(client, sample):
    chat = Chat(client)
    films = ids(chat.ask("Harrison Ford films"))
    longest = max((sample[i] for i in films), key=lambda m: m.runtime)
    ranked = chat.ask("Which of those is the longest?")
    assert set(ids(ranked)) <= set(films) and ids(ranked)[0] == longest.id
    assert ranked["answer"].startswith(f"{longest.label()} is the longest: {longest.runtime} min")
    directed = chat.ask("Who directed it?")
    assert ids(directed)[0] == longest.id and longest.directors[0] in directed["answer"]
    oldest = chat.ask("the oldest one?")
    assert ids(oldest)[0] == min((sample[i] for i in films), key=lambda m: m.release_date).id
    second = chat.ask("who directed the second one?")  # of the list that was ranked, not of the ranking
    assert ids(second)[0] == films[1]


def test_only_the_ones_narrows_the_earlier_list(client, sample):
    chat = Chat(client)
    films = ids(chat.ask("Harrison Ford films"))
    later = chat.ask("only the ones after 1985")
    assert ids(later) and set(ids(later)) == {i for i in films if sample[i].year > 1985}
    short = chat.ask("any of them under 2 hours?")
    assert ids(short) and all(sample[i].runtime <= 120 and sample[i].year > 1985 for i in ids(short))


def test_which_of_the_two_compares_the_last_two_films_discussed(client):
    chat = Chat(client)
    chat.ask("Tell me about Memento")
    chat.ask("Tell me about Gladiator")
    longer = chat.ask("Which of the two is longer?")
    assert [s["title"] for s in longer["sources"]] == ["Gladiator", "Memento"]
    assert "155 min, is longer than Memento (2000), 113 min" in longer["answer"]


def test_is_it_rated_higher_compares_with_the_film_being_discussed(client, sample):
    chat = Chat(client)
    chat.ask("Who directed Gladiator?")
    higher = chat.ask("Is Memento rated higher?")
    assert [s["title"] for s in higher["sources"]] == ["Memento", "Gladiator"]
    assert higher["answer"].startswith("Memento (2000), 8.1/10 from 4,028 votes, is rated higher than Gladiator (2000)")


def test_a_comparative_recommendation_follow_up_is_not_a_ranking(sample_store):
    turns = [{"turn": 1, "question": "Harrison Ford films", "sources": [{"id": 78}, {"id": 85}],
              "understanding": {"intent": "filmography", "person": "Harrison Ford",
                                "filters": {"person": "Harrison Ford"}}}]
    for question in ("older ones?", "older?", "give me one of the best comedies"):
        plan = resolve(question, understand(question), turns, sample_store)
        assert plan.follow_up != "list" and not plan.films
    for question in ("sort them by rating", "the best rated?", "and the most popular one?", "newest"):
        ranked = resolve(question, understand(question), turns, sample_store)
        assert ranked.follow_up == "list" and [m.id for m in ranked.films] == [78, 85], question


def test_how_long_are_they_gives_each_listed_films_runtime(client, sample):
    chat = Chat(client)
    films = ids(chat.ask("Harrison Ford films"))
    runtimes = chat.ask("how long are they?")
    assert ids(runtimes)[0] == max((sample[i] for i in films), key=lambda m: m.runtime).id
    assert all(f"{sample[i].runtime} min" in runtimes["answer"] for i in ids(runtimes)[:5])


def test_a_fact_with_no_film_is_about_the_film_discussed(client, sample):
    chat = Chat(client)
    chat.ask("Tell me about Memento")
    runtime = chat.ask("and how long?")
    assert runtime["sources"][0]["title"] == "Memento" and "113 minutes" in runtime["answer"]
    rating = chat.ask("what's the rating?")
    assert rating["sources"][0]["title"] == "Memento" and "8.1/10" in rating["answer"]
