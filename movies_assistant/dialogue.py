"""Dialogue acts: greetings, thanks, goodbyes, requests for help and off-topic questions.

These are turns of the conversation, not questions about films, so they get a short reply and no
film card. A message is one only when nothing else is in it: "hi, who directed Alien?" is a film
question. The phrases are data; matching is on the whole message, lowercased, without punctuation.
"""

from __future__ import annotations

import re

ACT_PHRASES = {
    "greeting": ["hi", "hello", "hey", "hey there", "hi there", "hello there", "hiya", "howdy", "yo", "greetings",
                 "good morning", "good afternoon", "good evening", "morning", "evening", "sup", "what's up",
                 "whats up", "how are you", "how are you doing", "how's it going", "hows it going"],
    "thanks": ["thanks", "thank you", "thank you so much", "thanks so much", "thanks a lot", "thanks a bunch",
               "many thanks", "thx", "ty", "cheers", "much appreciated", "appreciate it", "i appreciate it",
               "that helps", "that helped", "that's helpful", "thats helpful", "very helpful", "helpful",
               "that's great", "that's perfect", "that's it", "got it"],
    "goodbye": ["bye", "goodbye", "bye bye", "see you", "see ya", "see you later", "good night", "goodnight",
                "later", "that's all", "thats all", "that's all for now", "i'm done", "im done", "i'm good",
                "im good", "take care", "have a nice day", "have a good one"],
    "help": ["help", "help me", "can you help", "can you help me", "can you help me find a movie",
             "can you help me find a film", "help me find a movie", "help me find a film", "what can you do",
             "what do you do", "what can i ask", "what can i ask you", "how does this work", "how do i use this",
             "how do you work", "who are you", "what are you", "what do you know", "what movies do you know",
             "what movies do you know about", "what films do you know", "what films do you know about",
             "what do you know about", "what can you tell me", "what are you able to do", "options", "menu"],
}
# Words that may stand beside an act without changing it ("ok thanks", "great, thank you").
COURTESY_WORDS = ["ok", "okay", "oh", "ah", "so", "well", "great", "cool", "nice", "awesome", "perfect",
                  "alright", "all right", "wow", "amazing", "lovely", "excellent", "again", "man", "mate",
                  "buddy", "friend", "folks", "there", "please", "then", "and", "very much", "for that",
                  "for the help", "for your help", "for the info", "assistant", "bot"]
# Subjects a film assistant cannot help with; only when the message has no film word in it.
OFF_TOPIC = re.compile(r"\b(weather|forecast|temperature|news|stocks?|bitcoin|crypto|recipe|cook(ing)?|bake|"
                       r"traffic|taxes|math|equation|homework|poem|joke|lottery|horoscope|football score|"
                       r"what time is it|today's date)\b")
FILM_WORDS = re.compile(r"\b(movies?|films?|cinema|watch(ed|ing)?|director|directed|actors?|actress|cast|"
                        r"starr(ing|ed)|plot|review|genre|sequel|trailer|oscar|scene|character|animated|"
                        r"documentar(y|ies)|comed(y|ies)|horror|thriller|drama|western)\b")

REPLIES = {
    "greeting": "Hi! I'm a movie assistant. Ask me about a film, or tell me what you feel like watching, "
                "for example: \"who directed Inception?\", \"a feel-good comedy from the 90s\", "
                "\"compare Alien and Aliens\" or \"what has Zendaya been in?\"",
    "thanks": "You're welcome! Ask me anything else about films: a plot, a cast, a review, or something to "
              "watch next.",
    "goodbye": "Bye, and enjoy the film!",
    "help": "I answer questions about the films in my catalogue. I can give facts (director, cast, "
            "release date, runtime, budget, box office, rating), recommend films by genre, decade, "
            "language, rating or length, summarise a plot, write a short review, compare films, list an "
            "actor's or director's films, and say how a film was received. Try \"recommend a sci-fi film "
            "from the 80s\", \"what is Parasite about?\" or \"Christopher Nolan films\".",
    "off_topic": "I can only help with films, so I can't answer that one. Ask me about a film, an actor or "
                 "a director, or what to watch tonight.",
}


def _phrase_pattern(phrases: list[str]) -> str:
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))


_ACTS = {act: re.compile(rf"(?:{_phrase_pattern(phrases)})") for act, phrases in ACT_PHRASES.items()}
_PIECE = re.compile(rf"\s*(?:{_phrase_pattern([p for ps in ACT_PHRASES.values() for p in ps] + COURTESY_WORDS)})"
                    r"(?=\s|$)")


def _normalised(text: str) -> str:
    text = text.lower().replace("\u2019", "'")
    return " ".join(re.sub(r"[^\w' ]+", " ", text).split())


def dialogue_act(question: str) -> str | None:
    """The act a message is made of ("greeting", "thanks", "goodbye", "help", "off_topic"), or None
    when it asks about films. Of several acts ("thanks, bye"), the last one answers."""
    text = _normalised(question)
    if not text:
        return None
    position, acts = 0, []
    while position < len(text):
        piece = _PIECE.match(text, position)
        if piece is None:
            break
        word = piece.group().strip()
        acts += [act for act, pattern in _ACTS.items() if pattern.fullmatch(word)]
        position = piece.end()
    if position >= len(text) and acts:
        return acts[-1]
    if OFF_TOPIC.search(text) and not FILM_WORDS.search(text):
        return "off_topic"
    return None


def reply(act: str) -> str:
    return REPLIES[act]
