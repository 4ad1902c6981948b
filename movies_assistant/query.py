"""Question understanding: intent, structured filters, named people and compared titles.

Rule-based on purpose: instant, deterministic and testable. People are confirmed against the index
(a callable `known_people`), so a capitalised phrase only becomes a person filter if the data has it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from .search.base import Filters

INTENTS = ("fact", "cast", "director", "filmography", "comparison", "recommendation", "plot", "review", "general")
# Intents that ask for a list of films: their parsed filters are applied to retrieval.
LIST_INTENTS = ("recommendation", "filmography", "general")

GENRE_WORDS = {
    r"sci[- ]?fi|science[- ]fiction": "Science Fiction",
    r"animated|animation|cartoons?|anime": "Animation",
    r"comed(y|ies)|funny|rom[- ]?coms?": "Comedy",
    r"romantic|romance": "Romance",
    r"horror|scary": "Horror",
    r"thrillers?": "Thriller",
    r"documentar(y|ies)": "Documentary",
    r"westerns?": "Western",
    r"war (movies?|films?)": "War",
    r"musicals?": "Music",
    r"family|kids|children'?s": "Family",
    r"crime": "Crime",
    r"myster(y|ies)": "Mystery",
    r"fantasy": "Fantasy",
    r"historical|history": "History",
    r"adventures?": "Adventure",
    r"action": "Action",
    r"dramas?": "Drama",
}
LANGUAGE_WORDS = {
    "french": "fr", "korean": "ko", "japanese": "ja", "anime": "ja", "spanish": "es", "german": "de",
    "italian": "it", "chinese": "zh", "mandarin": "zh", "cantonese": "cn", "hong kong": "cn", "hindi": "hi",
    "bollywood": "hi", "russian": "ru", "swedish": "sv", "danish": "da", "portuguese": "pt", "brazilian": "pt",
    "turkish": "tr", "thai": "th", "persian": "fa", "iranian": "fa", "norwegian": "no", "polish": "pl",
}
FACT_FIELDS = {
    "release_date": r"\b(when|what year|release date|released|come out|came out)\b",
    "budget": r"\bbudget|cost to make\b",
    "revenue": r"\b(revenue|box office|gross(ed)?|earn(ed)?|made at)\b",
    "runtime": r"\b(runtime|how long|length|minutes)\b",
    "rating": r"\b(rating|rated|score|votes?)\b",
    "genres": r"\bgenres?\b|what kind of (movie|film)",
    "language": r"\b(language|spoken)\b",
    "tagline": r"\btagline|slogan\b",
    "production_companies": r"\b(produc(ed|er|ers|tion)|studios?|compan(y|ies))\b",
    "keywords": r"\b(keywords?|themes?|topics?)\b",
    "status": r"\bstatus\b",
}
FILLER = re.compile(
    r"\b(please|can you|could you|recommend(ations?)?|suggest(ions?)?|some|any|good|great|best|movies?|films?|"
    r"me|i|want|to|watch|should|what|which|a|an|the|from|of|in|with|show|list|give|find|are|is|there|top|"
    r"rated|highly|popular|about|similar|like|for|tonight)\b",
    re.I,
)


@dataclass
class Understanding:
    intent: str
    filters: Filters = field(default_factory=Filters)
    person: str | None = None
    titles: list[str] = field(default_factory=list)  # the films a comparison names
    fact_field: str | None = None  # which field a fact question asks about
    topic: str = ""  # the question without list filler and filter words (empty: rank by popularity)

    def to_dict(self) -> dict:
        return {"intent": self.intent, "filters": self.filters.to_dict(), "person": self.person,
                "titles": self.titles, "fact_field": self.fact_field}


def understand(question: str, known_people: Callable[[list[str]], list[str]] | None = None) -> Understanding:
    q = " ".join(question.split())
    low = q.lower()
    filters = parse_filters(low)
    person = find_person(q, known_people) if known_people else None
    titles = comparison_titles(q)
    fact_field = next((name for name, rx in FACT_FIELDS.items() if re.search(rx, low)), None)

    if titles:
        intent = "comparison"
    elif person and re.search(r"filmography|movies|films|what else|other|career|starr|appear|been in|directed by|"
                              r"work(s|ed)?", low):
        intent = "filmography"
    elif re.search(r"\b(recommend|suggest|similar to|movies like|films like|what should i watch|"
                   r"something (like|to watch)|looking for)\b", low):
        intent = "recommendation"
    elif re.search(r"\b(who directed|director|directed|filmmaker)\b", low):
        intent = "director"
    elif re.search(r"\b(actors?|actress(es)?|cast|starr(ed|ing)|stars|who (plays|played|acts|acted)|lead roles?)\b",
                   low):
        intent = "cast"
    elif re.search(r"\b(review|opinion|worth (it|watching)|reception|critics?|audience think)\b", low):
        intent = "review"
    elif re.search(r"\b(plot|summar(y|ise|ize)|what is .* about|what'?s .* about|storyline|what happens)\b", low):
        intent = "plot"
    elif fact_field:
        intent = "fact"
    elif re.search(r"^(best|top|good|great|some|list|show|find|any)\b|\b(movies|films)\b", low) and not re.search(
        r"\b(the movie|the film)\b", low
    ):
        intent = "recommendation"
    else:
        intent = "general"
    if intent == "filmography" and person:
        filters.person = person
    topic = "" if intent == "filmography" else strip_filler(low)
    return Understanding(intent, filters, person, titles, fact_field, topic)


def parse_filters(low: str) -> Filters:
    f = Filters()
    if m := re.search(r"\bbetween (\d{4}) and (\d{4})\b", low):
        f.year_min, f.year_max = sorted((int(m.group(1)), int(m.group(2))))
    elif m := re.search(r"\b(?:the )?((?:19|20)\d0|'?\d0)'?s\b", low):
        decade = m.group(1).lstrip("'")
        start = int(decade) if len(decade) == 4 else (1900 if int(decade) >= 30 else 2000) + int(decade)
        f.year_min, f.year_max = start, start + 9
    else:
        if m := re.search(r"\b(after|since|newer than|from after) (\d{4})\b", low):
            f.year_min = int(m.group(2)) + (1 if m.group(1) in ("after", "newer than", "from after") else 0)
        if m := re.search(r"\b(before|older than|until|up to) (\d{4})\b", low):
            f.year_max = int(m.group(2)) - (0 if m.group(1) in ("until", "up to") else 1)
        if f.year_min is None and f.year_max is None and (m := re.search(r"\b(?:in|from|of) ((?:18|19|20)\d\d)\b", low)):
            f.year_min = f.year_max = int(m.group(1))
    for rx, genre in GENRE_WORDS.items():
        if re.search(rf"\b({rx})\b", low) and genre not in f.genres:
            f.genres.append(genre)
    for word, code in LANGUAGE_WORDS.items():
        if re.search(rf"\b{word}\b", low):
            f.language = code
            break
    if m := re.search(r"\brated (?:above|over|at least|higher than|more than) (\d+(?:\.\d+)?)", low):
        f.min_rating = float(m.group(1))
    elif re.search(r"\b(highly|top|best|well)[- ]rated\b|\bacclaimed\b", low):
        f.min_rating, f.min_votes = 7.0, 200
    if m := re.search(r"\b(?:under|less than|shorter than|at most) (\d+) (minutes|mins?|hours?)\b", low):
        f.runtime_max = int(m.group(1)) * (60 if m.group(2).startswith("hour") else 1)
    if m := re.search(r"\b(?:over|more than|longer than|at least) (\d+) (minutes|mins?|hours?)\b", low):
        f.runtime_min = int(m.group(1)) * (60 if m.group(2).startswith("hour") else 1)
    return f


def find_person(question: str, known_people: Callable[[list[str]], list[str]]) -> str | None:
    """The longest 2-4 word phrase of the question that the index knows as a person."""
    words = re.findall(r"[\w'.À-ÿ-]+", question)
    # keep the dot of an initial ("Samuel L. Jackson" is indexed with it); strip sentence punctuation
    words = [w.strip("'") if re.fullmatch(r"\w\.", w) else w.strip(".'") for w in words]
    candidates = []
    for size in (4, 3, 2):
        for i in range(len(words) - size + 1):
            phrase = words[i : i + size]
            if any(w.lower() in STOP for w in (phrase[0], phrase[-1])):
                continue
            candidates.append(" ".join(phrase))
    if not candidates:
        return None
    known = known_people(candidates)
    return known[0] if known else None


STOP = {"the", "a", "an", "of", "in", "and", "or", "with", "by", "movies", "films", "movie", "film", "what", "who",
        "is", "was", "has", "did", "does", "else", "other", "been", "star", "starring", "directed", "me", "show",
        "list", "all", "his", "her", "their", "its", "for", "to", "on", "at", "from"}


def comparison_titles(question: str) -> list[str]:
    """`Compare A and B`, `A vs B`, `A or B: which is better` -> [A, B]; [] when not a comparison."""
    q = question.strip().rstrip("?.!")
    m = re.search(r"(?i)^(?:compare|comparison of|comparing|difference between|how does)\s+(.+)", q)
    body = m.group(1) if m else q
    if not m and not re.search(r"(?i)\b(vs\.?|versus)\b|\bwhich is better\b|\bbetter\b.*\bor\b", q):
        return []
    body = re.sub(r"(?i)^(the movies?|the films?)\s+", "", body)
    body = re.sub(r"(?i)\s*(which is better|which one is better|which is more popular|which is rated higher)\s*:?", " ", body)
    body = re.sub(r"(?i)^(is|was)\s+", "", body)
    body = re.sub(r"(?i)\s+(compare|compared) (to|with)\s+", " vs ", body)
    body = re.sub(r"(?i)\s+better than\s+", " vs ", body)
    parts = re.split(r"(?i)\s+(?:vs\.?|versus|and|or|with|to)\s+", body)
    parts = [p.strip(" ,:;\"'") for p in parts if p.strip(" ,:;\"'")]
    return parts[:4] if len(parts) >= 2 else []


def strip_filler(low: str) -> str:
    """The words of a question that describe what films to find, not how to ask for them."""
    text = low
    for rx in list(GENRE_WORDS) + [rf"\b{w}\b" for w in LANGUAGE_WORDS]:
        text = re.sub(rf"\b({rx})\b", " ", text)
    text = re.sub(r"\b(19|20)?\d0'?s\b|\b(after|since|before|between|and|until)\b|\b\d{4}\b", " ", text)
    text = re.sub(r"\b(rated|above|over|under|less than|minutes?|hours?|\d+(\.\d+)?)\b", " ", text)
    text = FILLER.sub(" ", text)
    return " ".join(re.findall(r"\w+", text))
