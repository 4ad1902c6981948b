"""Question understanding: intent, structured filters, named people and compared titles.

Rule-based on purpose: instant, deterministic and testable. People are confirmed against the index
(a callable `known_people`), so a capitalised phrase only becomes a person filter if the data has it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from .dialogue import dialogue_act
from .search.base import Filters
from .vocabulary import GENRE_WORDS, LANGUAGE_WORDS, RANKINGS

INTENTS = ("fact", "cast", "director", "filmography", "comparison", "recommendation", "plot", "review", "general",
           "small_talk")
# Intents that ask for a list of films: their parsed filters are applied to retrieval.
LIST_INTENTS = ("recommendation", "filmography", "general")

FACT_FIELDS = {
    "release_date": r"\b(when|what year|release date|released|come out|came out)\b",
    "budget": r"\bbudget|cost to make\b",
    "revenue": r"\b(revenue|box office|gross(ed)?|earn(ed)?|made at|money)\b",
    "runtime": r"\b(runtime|running time|how long|length|minutes|hours)\b",
    "rating": r"\b(rating|rated|score|votes?)\b",
    "genres": r"\bgenres?\b|what kind of (movie|film)",
    "language": r"\b(language|spoken)\b",
    "tagline": r"\btagline|slogan\b",
    "production_companies": r"\b(produc(ed|er|ers|tion)|studios?|compan(y|ies))\b",
    "keywords": r"\b(keywords?|themes?|topics?)\b",
    "status": r"\bstatus\b",
    "directors": r"\b(who directed|director|directed|filmmaker)\b",
    "cast": r"\b(actors?|actress(es)?|cast|starr(ed|ing)|stars|who (plays|played|acts|acted|voices|voiced)|voiced by|"
            r"who('s| is| was| else is) in|"
            r"lead roles?)\b",
}
# A comparison or a question about a list that asks a fact ("avatar vs titanic box office", "how long
# are they?") is answered as a ranking by it.
FACT_RANKS = {"runtime": "longest", "release_date": "oldest", "rating": "best_rated", "budget": "highest_budget",
              "revenue": "highest_revenue"}
FILLER = re.compile(
    r"\b(please|can you|could you|recommend(ations?)?|suggest(ions?)?|some|any|good|great|best|movies?|films?|"
    r"me|i|want|to|watch|should|what|which|a|an|the|from|of|in|with|show|list|give|find|are|is|there|top|"
    r"rated|highly|popular|about|similar|like|for|tonight|released|made|recent|latest|newest|new|"
    r"least|most|votes?|rating|score|stars?|out|or|higher|better|more|longer|shorter|than|no|at|"
    r"between|early|mid|late|onwards?|later|earlier|short|flicks?|shorts)\b",
    re.I,
)
# A question that describes one film ("the movie where...", "a film about...") is a search for that
# film, not a list request: words such as "family", "war" or "French" in it are plot, not filters.
ONE_FILM = re.compile(r"\b(movie|film|one|picture)\b[^?]*?\b(where|wherein|in which|whose|about)\b"
                      r"|^(the|that|this) (movie|film)\b|\bthe one (with|that|who)\b", re.I)
LIST_START = re.compile(r"(best|top|good|great|some|list|show|find|any)\b", re.I)  # "best horror of the 80s"
LIST_NOUNS = re.compile(r"^looking for\b|\b(movies|films|comedies|thrillers|dramas|westerns|documentaries|musicals|"
                        r"cartoons|rom-?coms|blockbusters|classics|flicks|shorts|animes)\b", re.I)
PERSON_WORK = re.compile(r"\b(filmography|movies|films|(every|all|each) (\w+ ){0,3}(movie|film)|what else|"
                         r"other (movies|films|roles|work)|career|starr(ed|ing)|stars? in|appear(s|ed)?|been in|"
                         r"acted|direct(ed|s)?|work(s|ed)?|roles|made)\b", re.I)
DESCRIPTION_WORDS = 4  # a question with this many words besides filters describes a film
RECENT_YEARS = 5  # "recent films": released in the last 5 calendar years
SHORT_FILM_MINUTES = 40  # the Academy's definition of a short film
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_NUMBER = r"(\d+(?:\.\d+)?|an?|one|two|three|four|five)"


@dataclass
class Understanding:
    intent: str
    filters: Filters = field(default_factory=Filters)
    person: str | None = None
    titles: list[str] = field(default_factory=list)  # the films a comparison names
    fact_fields: list[str] = field(default_factory=list)  # the fields a question asks about, in its order
    rank: str | None = None  # the comparative asked ("longest", "best_rated"...), a key of RANKINGS
    topic: str = ""  # the question without list filler and filter words (empty: rank by popularity)
    act: str | None = None  # small talk: which dialogue act (greeting, thanks, goodbye, help, off_topic)

    def to_dict(self) -> dict:
        data = {"intent": self.intent, "filters": self.filters.to_dict(), "person": self.person,
                "titles": self.titles, "fact_fields": self.fact_fields, "rank": self.rank}
        return {**data, "act": self.act} if self.act else data


def understand(question: str, known_people: Callable[[list[str]], list[str]] | None = None,
               today: date | None = None, acts: bool = True) -> Understanding:
    """The intent of `question` and the filters that apply to its retrieval.

    Filters are parsed from every question but only kept for list requests ("French comedies from
    the 90s", a filmography) and short ones; a question about one film or describing one keeps only
    the person it names (as a filter), so plot words such as "a family" or "a French chef" do not
    filter out the film being described.
    """
    if acts and (act := dialogue_act(question)):
        return Understanding("small_talk", act=act)
    q = " ".join(question.split())
    low = q.lower()
    filters = parse_filters(low, today)
    person = find_person(q, known_people) if known_people else None
    titles = comparison_titles(q)
    fact_fields = asked_fields(low)
    rank = asked_rank(low)
    topic = strip_filler(low)
    asks_list = bool(LIST_START.match(low))
    one_film = bool(ONE_FILM.search(low)) and not asks_list

    if titles:
        intent = "comparison"
        rank = rank or next((FACT_RANKS[f] for f in fact_fields if f in FACT_RANKS), None)
    elif re.search(r"\b(recommend|suggest|similar to|movies like|films like|what should i watch|"
                   r"something (like|to watch))\b", low):
        intent = "recommendation"
    elif person and not one_film and PERSON_WORK.search(low):
        intent = "filmography"
    elif "directors" in fact_fields:
        intent = "director"
    elif "cast" in fact_fields:
        intent = "cast"
    elif re.search(r"\b(review|opinion|worth (it|watching)|reception|critics?|audience think)\b", low):
        intent = "review"
    elif re.search(r"\b(plot|summar(y|ise|ize)|what is .* about|what'?s .* about|storyline|what happens)\b", low):
        intent = "plot"
    elif fact_fields and not (topic == "" and not filters.is_empty()):
        intent = "fact"
    elif not one_film and (asks_list or (LIST_NOUNS.search(low) and not re.search(r"\bthe (movie|film)\b", low))
                           or (not topic and not filters.is_empty())):
        intent = "recommendation"
    else:
        intent = "general"

    if person and intent in LIST_INTENTS:
        filters.person = person  # a filmography, or "sci-fi films with Sigourney Weaver"
    if intent == "filmography":
        topic = ""
    elif intent not in LIST_INTENTS or (intent == "general" and (one_film or len(topic.split()) >= DESCRIPTION_WORDS)):
        filters = Filters(person=person)  # about one film: only the person named narrows the search
        topic = q if intent == "general" else topic
    return Understanding(intent, filters, person, titles, fact_fields, rank, topic)


def asked_fields(low: str) -> list[str]:
    """Every fact field the question asks about, in the order it asks: "budget and box office"."""
    found = {name: m.start() for name, rx in FACT_FIELDS.items() if (m := re.search(rx, low))}
    return sorted(found, key=found.get)


def asks_fields_only(question: str) -> bool:
    """ "and the budget?", "how long?", "who directed?": fact fields and no film, so the question is
    about the film being discussed (conversation.py)."""
    text = question.lower()
    for rx in FACT_FIELDS.values():
        text = re.sub(rx, " ", text)
    return bool(asked_fields(question.lower())) and not re.findall(r"\w+", ELLIPSIS_WORDS.sub(" ", text))


ELLIPSIS_WORDS = re.compile(r"\b(and|what|about|how|is|was|s|did|does|do|it|its|the|of|who|much|many|for|that|one|"
                            r"also|then|ok|okay|so|please|tell|me)\b")


def asked_rank(low: str) -> str | None:
    """The comparative or superlative asked ("longer", "the oldest", "made more money"), if any."""
    found = [(m.start(), name) for name, rank in RANKINGS.items() if (m := re.search(rf"\b({rank['words']})\b", low))]
    return min(found)[1] if found else None


def parse_filters(low: str, today: date | None = None) -> Filters:
    """Every constraint the (lower-cased) text states: years, genres, language, rating, votes, runtime."""
    f = Filters()
    parse_years(low, f, (today or date.today()).year)
    for rx, genre in GENRE_WORDS.items():
        if re.search(rf"\b({rx})\b", low) and genre not in f.genres:
            f.genres.append(genre)
    for word, code in LANGUAGE_WORDS.items():
        if re.search(rf"\b{word}\b", low):
            f.language = code
            break
    parse_rating(low, f)
    parse_runtime(low, f)
    return f


def parse_years(low: str, f: Filters, this_year: int) -> None:
    """Year ranges: "between 1990 and 1995", "1990-1995", "the 90s", "early 2000s", "after 2010",
    "before 1980", "2010 or later", "in 1994", "1994 movies", "recent"."""
    if m := re.search(r"\b(?:between|from) ((?:18|19|20)\d\d) (?:and|to) ((?:18|19|20)\d\d)\b"
                      r"|\b((?:18|19|20)\d\d) ?(?:-|–|to) ?((?:18|19|20)\d\d)\b", low):
        years = [int(y) for y in m.groups() if y]
        f.year_min, f.year_max = sorted(years)
        return
    if m := re.search(r"\b(?:(early|mid|late)[- ])?(?:the )?((?:19|20)\d0|'?\d0)'?s\b", low):
        decade = m.group(2).lstrip("'")
        start = int(decade) if len(decade) == 4 else (1900 if int(decade) >= 30 else 2000) + int(decade)
        part = {"early": (0, 3), "mid": (3, 6), "late": (6, 9)}.get(m.group(1) or "", (0, 9))
        f.year_min, f.year_max = start + part[0], start + part[1]
        return
    if m := re.search(r"\b((?:18|19|20)\d\d) (?:or|and) (?:later|after|newer|onwards?)\b(?! ?\d)"
                      r"|\b(?:from|since) ((?:18|19|20)\d\d) (?:on|onwards?)\b"
                      r"|\b(after|since|newer than|post) ((?:18|19|20)\d\d)\b", low):
        if m.group(4):
            f.year_min = int(m.group(4)) + (0 if m.group(3) == "since" else 1)
        else:
            f.year_min = int(m.group(1) or m.group(2))
    if m := re.search(r"\b(before|older than|until|up to|pre|prior to) ((?:18|19|20)\d\d)\b"
                      r"|\b((?:18|19|20)\d\d) (or|and) (earlier|before|older)\b(?! ?\d)", low):
        if m.group(2):
            f.year_max = int(m.group(2)) - (0 if m.group(1) in ("until", "up to") else 1)
        else:
            f.year_max = int(m.group(3))
    if f.year_min is None and f.year_max is None:
        if m := re.search(r"\b(?:in|from|of|released in) ((?:18|19|20)\d\d)\b"
                          r"|\b((?:18|19|20)\d\d) (?:movies|films|releases)\b"
                          r"|^(?!.*\b(?:like|similar)\b).* ((?:18|19|20)\d\d)$", low.rstrip("?!. ")):
            f.year_min = f.year_max = int(m.group(1) or m.group(2) or m.group(3))
        elif re.search(r"(?<!more )(?<!less )\b(recent|latest|newest|new releases|new (movies|films))\b", low):
            # "more recent" is relative to the films already shown: a follow-up (conversation.py)
            f.year_min = this_year - RECENT_YEARS + 1
        elif m := re.search(r"\b(this|last) year\b", low):
            f.year_min = f.year_max = this_year - (m.group(1) == "last")


def parse_rating(low: str, f: Filters) -> None:
    """ "rated above 7", "a rating of at least 8/10", "7+ rating", "8 or higher", "highly rated",
    "with more than 1,000 votes", "1k+ votes"."""
    bound = r"(?:above|over|at least|higher than|more than|greater than|better than|of at least|>=?|of over)"
    scale = r"(?: ?/ ?10| out of 10| stars?)"
    score = rf"(\d+(?:\.\d+)?){scale}?"
    if m := (re.search(rf"\b(?:rated|rating|scored?|vote average|average|reviews?)(?: of)? {bound} ?{score}", low)
             or re.search(rf"\b(?:above|over|at least|more than|higher than) (\d+(?:\.\d+)?){scale}", low)
             or re.search(rf"\b(?:rated|rating|scored?) {score} (?:or|and) (?:higher|better|more|above|up)\b", low)
             or re.search(r"\b(\d+(?:\.\d+)?)\+ (?:rated|rating|score)\b", low)):
        value = float(m.group(1))
        if value <= 10:
            f.min_rating = value
    elif re.search(r"\b(highly|top|best|well|high)[- ]rated\b|\b(critically )?acclaimed\b", low):
        f.min_rating, f.min_votes = 7.0, 200
    count = r"(\d[\d,]*(?:\.\d+)?k?)"
    if m := (re.search(rf"\b(?:more than|over|at least|above|with|min(?:imum)?(?: of)?) {count}\+? (?:votes|ratings|reviews)\b",
                       low)
             or re.search(rf"\b{count}\+ (?:votes|ratings|reviews)\b", low)):
        text = m.group(1).replace(",", "")
        f.min_votes = int(float(text[:-1]) * 1000) if text.endswith("k") else int(float(text))


def parse_runtime(low: str, f: Filters) -> None:
    """ "under 90 minutes", "less than two hours", "longer than 2.5 hours", "90 minutes or less",
    "between 90 and 120 minutes", "short films" (at most 40 minutes)."""
    unit = r"(minutes?|mins?|hours?|hrs?|h)\b"
    if m := re.search(rf"\bbetween {_NUMBER} and {_NUMBER} {unit}", low):
        f.runtime_min, f.runtime_max = minutes(m.group(1), m.group(3)), minutes(m.group(2), m.group(3))
        return
    if re.search(r"\ban hour and a half\b", low):
        low = re.sub(r"\ban hour and a half\b", "90 minutes", low)
    if m := (re.search(rf"\b(?:under|less than|shorter than|at most|no (?:longer|more) than|below|max(?:imum)?|within) "
                       rf"{_NUMBER} {unit}", low)
             or re.search(rf"\b{_NUMBER} {unit} (?:or|and) (?:less|under|shorter)\b", low)):
        f.runtime_max = minutes(m.group(1), m.group(2))
    elif re.search(r"\bshort (films?|movies?)\b|\bshorts\b", low):
        f.runtime_max = SHORT_FILM_MINUTES
    if m := (re.search(rf"\b(?<!no )(?:over|more than|longer than|at least|above|min(?:imum)?) {_NUMBER} {unit}", low)
             or re.search(rf"\b{_NUMBER} {unit} (?:or|and) (?:more|over|longer)\b", low)):
        f.runtime_min = minutes(m.group(1), m.group(2))


def minutes(number: str, unit: str) -> int:
    value = NUMBER_WORDS.get(number) or float(number)
    return round(value * (60 if unit.startswith("h") else 1))


def find_person(question: str, known_people: Callable[[list[str]], list[str]]) -> str | None:
    """The longest 2-4 word phrase of the question that the index knows as a person."""
    words = re.findall(r"[\w'’.À-ÿ-]+", question)
    # keep the dot of an initial ("Samuel L. Jackson" is indexed with it); strip sentence punctuation
    # and possessives ("Greta Gerwig's films")
    words = [w.strip("'’") if re.fullmatch(r"\w\.", w) else re.sub(r"['’]s$", "", w).strip(".'’") for w in words]
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
    """`Compare A and B`, `A vs B`, `is A longer than B`, `which is older, A or B`, `A or B, which is
    better rated`, `compare toy story 1 2 and 3` -> the titles; [] when not a comparison."""
    q = question.strip().rstrip("?.!")
    if m := THAN.search(q):  # "is A longer than B": B is one title even with an "and" in it
        return [m.group(1).strip(" ,"), m.group(2).strip(" ,")]
    m = re.search(r"(?i)^(?:compare|comparison of|comparing|difference between|how (?:does|do))\s+(.+)", q)
    body = m.group(1) if m else q
    ranks = [hit.end() for rank in RANKINGS.values() for hit in re.finditer(rf"(?i)\b({rank['words']})\b", q)]
    if not m and re.match(r"(?i)(which|what)\b", q) and ranks:
        body = q[max(ranks):]  # "which made more money, A or B"
    elif not m and not re.search(r"(?i)\b(vs\.?|versus|compared (to|with))\b|\bwhich\b|\bbetter\b.*\bor\b", q):
        return []
    body = re.sub(r"(?i)^[\s,:]*(?:of|between)?\s*(the movies?|the films?)?\s*", "", body)
    body = re.sub(r"(?i)[,:;]?\s*\bwhich\b.*$", "", body)  # "A or B, which is better rated"
    body = re.sub(r"(?i)^(is|was)\s+", "", body)
    body = re.sub(r"(?i)\s+(compare|compared) (to|with)\s+", " vs ", body)
    body = re.sub(r"(?i)\s+better than\s+", " vs ", body)
    body = re.sub(r"(?i)\s+(compare|stack up|differ)\b.*$", "", body)  # "how do A and B compare in length"
    body = re.sub(rf"(?i)^(?:the )?(?:{COMPARED_FIELDS}) (?:of|for)\s+|\s+(?:{COMPARED_FIELDS})$", "", body)
    if m := SEQUELS.match(body):  # "toy story 1 2 and 3": the first film seldom has the number
        numbers = re.findall(r"\d+", m.group(2))
        return [m.group(1) if n == "1" else f"{m.group(1)} {n}" for n in numbers]
    parts = re.split(r"(?i)\s+(?:vs\.?|versus|and|or|with|to)\s+|\s*,\s*", body)
    parts = [p.strip(" ,:;\"'") for p in parts if p.strip(" ,:;\"'")]
    return parts[:4] if len(parts) >= 2 else []


def implied_comparison(question: str) -> str | None:
    """ "is empire strikes back rated higher?" -> "empire strikes back": compared with the film being
    discussed (conversation.py); None when the question names no such comparison."""
    m = IMPLIED.search(question.strip().rstrip("?.!"))
    return m.group(1).strip(" ,") if m else None


_COMPARATIVE = (r"(?:(?:rated|run|make|earn|cost|have|get)\s+)?(?:(?:a|an|the)\s+)?"
                r"(?:(?!other\b|rather\b)\w+er|more(?: \w+)?|less(?: \w+)?|worse)"
                r"(?:\s+(?:rating|score|budget|runtime|box office|revenue))?")
IMPLIED = re.compile(rf"(?i)^(?:is|was|does|did|has)\s+(?!(?:there|it|he|she|they|that|this|one)\b)(.+?)\s+"
                     rf"{_COMPARATIVE}(?:\s+(?:then|too|one))?$")
COMPARED_FIELDS = r"budgets?|box office|revenues?|runtimes?|running times?|lengths?|ratings?|scores?|release dates?"
# "than 2 hours", "than 7/10" is a filter, not a second film
_AMOUNT = r"(?:\d+(?:\.\d+)?|an?|one|two|three|four|five)(?:\s*(?:hours?|hrs?|minutes?|mins?|h|/10|stars?))?$"
THAN = re.compile(rf"(?i)^(?:is|was|does|did|has)\s+(.+?)\s+{_COMPARATIVE}\s+than\s+(?!{_AMOUNT})(.+)$")
SEQUELS = re.compile(r"(?i)^(.+?)\s+(\d{1,2}(?:(?:\s*,\s*|\s+and\s+|\s+)\d{1,2})+)$")


def strip_filler(low: str) -> str:
    """The words of a question that describe what films to find, not how to ask for them."""
    text = re.sub(r"\b(an?|one|two|three|four|five) (hours?|hrs?|minutes?)( long)?\b|\b(hours?|minutes?) long\b"
                  r"|\b[a-z]+-language\b|\b(language|speaking)\b", " ", low)
    for rx in list(GENRE_WORDS) + [rf"\b{w}\b" for w in LANGUAGE_WORDS]:
        text = re.sub(rf"\b({rx})\b", " ", text)
    text = re.sub(r"\b(19|20)?\d0'?s\b|\b(after|since|before|between|and|until)\b|\b\d{4}\b", " ", text)
    text = re.sub(r"\b(rated|above|over|under|below|within|less|minutes?|mins?|hours?|hrs?|half|prior|post|pre|"
                  r"acclaimed|critically|well|high|this year|last year|\d+(\.\d+)?k?)\b", " ", text)
    text = FILLER.sub(" ", text)
    return " ".join(re.findall(r"\w+", text))
