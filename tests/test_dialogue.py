"""Small talk: greetings, thanks, goodbyes, help and off-topic messages get a reply and no film card,
and a film question never passes for one."""

import pytest

from movies_assistant.dialogue import dialogue_act

from .test_conversation import Chat


@pytest.mark.parametrize("message, act", [
    ("Hello there!", "greeting"), ("hey, good evening", "greeting"), ("yo", "greeting"),
    ("Thanks so much, that helped", "thanks"), ("ok cool, many thanks", "thanks"), ("ty!", "thanks"),
    ("see you later", "goodbye"), ("that's all for now, bye", "goodbye"), ("Goodnight!", "goodbye"),
    ("What are you able to do?", "help"), ("who are you", "help"), ("hey, how do I use this?", "help"),
    ("what will the weather be tomorrow", "off_topic"), ("tell me a joke", "off_topic"),
])
def test_dialogue_acts(message, act):
    assert dialogue_act(message) == act


@pytest.mark.parametrize("message", [
    "thanks, and who directed it?", "hello, recommend me a thriller", "hi who stars in Alien",
    "Thank You for Smoking", "Hello, Dolly!", "a movie about the weather", "later ones?", "ok",
    "what's the cast of Goodbye Lenin", "",
])
def test_film_questions_are_not_small_talk(message):
    assert dialogue_act(message) is None


def test_small_talk_gets_a_reply_without_films_and_keeps_the_conversation(client):
    chat = Chat(client)
    hello = chat.ask("hi!")
    assert hello["sources"] == [] and hello["understanding"]["intent"] == "small_talk"
    assert "movie assistant" in hello["answer"] and "who directed" in hello["answer"].lower()
    assert "Finding Nemo" in chat.ask("Tell me about Finding Nemo")["answer"]
    thanks = chat.ask("thanks!")
    assert thanks["sources"] == [] and thanks["answer"].startswith("You're welcome")
    follow_up = chat.ask("who directed it?")  # still about the film before the thanks
    assert "Andrew Stanton" in follow_up["answer"]


def test_a_search_for_a_greeting_word_still_searches(client):
    body = client.get("/search", query_string={"q": "hello"}).get_json()
    assert body["results"], body
