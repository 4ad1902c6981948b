"""The grounding check: answers may name only the films they were given; the log records the result.

Unit tests of `grounding.check` / `repair` over the sample index, then /question with a model that
names films it was not given (repaired, or only flagged with GROUNDING=flag), and the composer, whose
answers are grounded by construction.
"""

from __future__ import annotations

import dataclasses

import pytest

from movies_assistant.app import create_app
from movies_assistant.grounding import check, repair
from movies_assistant.llm import Completion, Stream, collect
from movies_assistant.llm.composer import chunk_text

ALIEN = {"id": 348, "title": "Alien", "year": 1979}
ALIENS = {"id": 679, "title": "Aliens", "year": 1986}


def test_an_answer_naming_only_its_records_is_grounded(sample_store):
    text = "Alien (1979) was directed by Ridley Scott; its sequel Aliens (1986) by James Cameron."
    result = check(text, [ALIEN, ALIENS], sample_store)
    assert result.grounded and result.unknown_titles == [] and result.mentioned_ids == [348, 679]


def test_an_invented_title_with_a_year_is_unknown(sample_store):
    result = check("Alien (1979) is great. You may also like The Silent Horizon (2015).", [ALIEN], sample_store)
    assert not result.grounded and result.unknown_titles == ["The Silent Horizon (2015)"]
    assert result.mentioned_ids == [348]


def test_a_real_film_that_was_not_retrieved_is_unknown(sample_store):
    # "The Dark Knight" is in the index but was not among the records; matched as a whole phrase
    result = check("Alien (1979) is a classic. Fans of The Dark Knight will enjoy it.", [ALIEN], sample_store)
    assert result.unknown_titles == ["The Dark Knight"]
    result = check("Try Finding Nemo (2003) instead.", [ALIEN], sample_store)
    assert result.unknown_titles == ["Finding Nemo (2003)"]


def test_a_quoted_title_case_name_is_a_title(sample_store):
    result = check('Alien (1979) inspired "Galaxy Warriors" and **Night Of The Comet**.', [ALIEN], sample_store)
    assert result.unknown_titles == ["Galaxy Warriors", "Night Of The Comet"]


def test_a_wrong_year_is_not_the_film_given(sample_store):
    result = check("Alien (1986) is a classic.", [ALIEN], sample_store)
    assert result.unknown_titles == ["Alien (1986)"] and result.mentioned_ids == []


def test_people_taglines_genres_and_plain_words_are_not_titles(sample_store):
    text = ('Alien (1979) stars Sigourney Weaver and Tom Skerritt. Its tagline is "In space no one can hear you '
            'scream." It is a Science Fiction and Horror film, rated 7.9/10 by 4,470 TMDB voters.')
    result = check(text, [ALIEN], sample_store)
    assert result.grounded, result.unknown_titles


def test_a_title_inside_a_longer_name_or_across_punctuation_is_not_that_title(sample_store):
    # "The Dark Knight" is in the index, but here it is part of a longer name;
    # "10: Years" is not the film "10 Years"
    text = "Alien (1979) was released on The Dark Knight Collection discs. It is rated 7.9/10: Years later, a sequel."
    assert check(text, [ALIEN], sample_store).grounded


def test_a_film_named_in_the_records_themselves_is_not_unknown(sample_store):
    text = "Aliens (1986) follows The Dark Knight in spirit."
    assert check(text, [ALIENS], sample_store).unknown_titles == ["The Dark Knight"]
    assert check(text, [ALIENS], sample_store, record_text="A sequel in the vein of The Dark Knight.").grounded


def test_a_longer_allowed_title_is_not_also_its_shorter_neighbour(sample_store):
    monsters = {"id": 15512, "title": "Monsters vs Aliens", "year": 2009}
    result = check("Monsters vs Aliens (2009) is a comedy.", [monsters, ALIENS], sample_store)
    assert result.grounded and result.mentioned_ids == [15512]


def test_repair_drops_the_sentences_and_list_items_naming_unknown_titles(sample_store):
    text = ("Here are some films you might enjoy:\n- Alien (1979): a horror classic.\n"
            "- The Silent Horizon (2015): a tense thriller.\n- Aliens (1986): more action. Also see Finding Nemo (2003).")
    result = check(text, [ALIEN, ALIENS], sample_store)
    assert result.unknown_titles == ["The Silent Horizon (2015)", "Finding Nemo (2003)"]
    assert repair(text, result) == ("Here are some films you might enjoy:\n- Alien (1979): a horror classic.")
    prose = "Alien (1979) was directed by Ridley Scott. Its sequel is The Silent Horizon (2015). It is scary."
    assert repair(prose, check(prose, [ALIEN], sample_store)) == "Alien (1979) was directed by Ridley Scott. It is scary."
    nothing_left = "I recommend The Silent Horizon (2015)."
    assert repair(nothing_left, check(nothing_left, [ALIEN], sample_store)) == ""


class Scripted:
    """A 'model' that streams a fixed reply (with made-up token counts)."""

    def __init__(self, reply: str, name: str = "scripted"):
        self.reply, self.name = reply, name

    def status(self):
        return "ready"

    def generate(self, request):
        return collect(self.stream(request))

    def stream(self, request):
        def chunks():
            yield from chunk_text(self.reply)
            return Completion(self.reply, self.name, 100, 20)

        return Stream(chunks())


def ask_with(app, reply: str, question: str = "Who directed Star Wars?") -> dict:
    app.extensions["movies_assistant"].provider = Scripted(reply)
    r = app.test_client().post("/question", json={"question": question})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_question_repairs_an_answer_naming_unknown_films_and_logs_it(app):
    reply = ("Star Wars (1977) was directed by George Lucas. He later made Galaxy Quest Returns (2004), "
             "a hit. It won six Oscars.")
    data = ask_with(app, reply)
    assert data["answer"] == "Star Wars (1977) was directed by George Lucas. It won six Oscars."
    g = data["grounding"]
    assert g["grounded"] is False and g["repaired"] is True and g["repair"] == "removed"
    assert g["unknown_titles"] == ["Galaxy Quest Returns (2004)"] and g["original_answer"] == reply
    assert g["mentioned_ids"] == [11]
    row = app.extensions["movies_assistant"].log.answer_details(data["answer_id"])
    assert row["answer"] == data["answer"] and row["grounding"] == g


def test_an_answer_with_nothing_grounded_left_is_replaced_by_the_composer(app):
    data = ask_with(app, "You should watch The Silent Horizon (2015).")
    assert data["answer"] == "Star Wars (1977) was directed by George Lucas."
    assert data["grounding"]["repair"] == "replaced" and data["grounding"]["mentioned_ids"] == [11]
    assert data["model"] == "scripted"


def test_grounding_flag_keeps_the_answer_and_logs_the_unknown_titles(settings):
    app = create_app(dataclasses.replace(settings, grounding="flag"))
    reply = "Star Wars (1977) was directed by George Lucas, like The Silent Horizon (2015)."
    data = ask_with(app, reply)
    assert data["answer"] == reply
    assert data["grounding"] == {"grounded": False, "mentioned_ids": [11],
                                 "unknown_titles": ["The Silent Horizon (2015)"], "repaired": False}
    row = app.extensions["movies_assistant"].log.answer_details(data["answer_id"])
    assert row["grounding"]["grounded"] is False


def test_films_from_earlier_turns_and_the_question_are_allowed(app):
    client = app.test_client()
    first = client.post("/question", json={"question": "Tell me about Finding Nemo"}).get_json()
    app.extensions["movies_assistant"].provider = Scripted(
        "Finding Nemo (2003) came before Toy Story (1995)? No: Toy Story (1995) came first.")
    second = client.post("/question", json={"question": "Was it made before Toy Story?",
                                            "conversation_id": first["conversation_id"]}).get_json()
    assert second["grounding"]["grounded"] is True, second["grounding"]


@pytest.mark.parametrize("question", [
    "Recommend sci-fi movies rated above 8", "Compare Alien and Aliens", "Tell me about Pulp Fiction",
    "Which movies did Christopher Nolan direct?", "Give me a review of Titanic", "What is Finding Nemo about?",
])
def test_composer_answers_are_grounded(client, app, question):
    data = client.post("/question", json={"question": question}).get_json()
    assert data["grounding"]["grounded"] is True, (question, data["grounding"])
    assert data["grounding"]["mentioned_ids"], question
    assert set(data["grounding"]["mentioned_ids"]) <= {s["id"] for s in data["sources"]}
