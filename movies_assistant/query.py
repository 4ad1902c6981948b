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
from .linking import CONFIDENT, Link, Linker, confident
from .search.base import Filters, normalize_name
from .vocabulary import (COUNT_WORDS, DECADE_WORDS, DEGREE_WORDS, FRACTION_WORDS, GENRE_WORDS, LANGUAGE_WORDS, MOODS,
                         NEGATION_END, NEGATION_WORDS, NEGATIONS, NUMBER_WORDS, RANKINGS)

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
    r"least|most|votes?|rating|score|stars?|or|higher|better|more|longer|shorter|than|no|at|"
    r"between|early|mid|late|onwards?|later|earlier|short|flicks?|shorts|something|anything|maybe|perhaps|need|"
    r"looking|really|very|too|so|pretty|kinda|kind|sort|mood|feel|feeling|we|us|my|our|let'?s|that|would|"
    r"make|makes|but|and|also|other|others|thanks|thank|ok|okay|yeah|yes|ratings|reviews|scores)\b",
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
                         r"acted|direct(ed|s)?|work(s|ed)?|roles|made|make)\b", re.I)
SUGGEST = re.compile(r"\b(recommend|suggest|similar to|movies like|films like|what should i watch|"
                     r"something (like|to watch))\b")
WISH = re.compile(r"\b(something|anything|movies?|films?|flicks?|gems?|classics|picks|ideas|recommend\w*|suggest\w*|"
                  r"need|want|looking for|watch|show me|give me)\b")
ABOUT_IT = re.compile(r"\b(is|was|does|did|will|would|has) (it|this|that)\b")
YES_NO = re.compile(r"(is|was|are|were|does|did|would|will|has|have)\b(?! there\b)")
DESCRIPTION_WORDS = 4  # a question with this many words besides filters describes a film
RECENT_YEARS = 5  # "recent films": released in the last 5 calendar years
SHORT_FILM_MINUTES = 40  # the Academy's definition of a short film
ABOUT_MINUTES = 15  # "around two hours": give or take this much
_NUMBER = r"(\d+(?:\.\d+)?|an?)"  # spelled numbers are digits by then (spelled_numbers)
_NUMBER_WORD = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
SPELLED_NUMBER = re.compile(rf"\b(?:{_NUMBER_WORD})(?:(?:-| |(?<=hundred) and )(?:{_NUMBER_WORD}))*\b")
VAGUE_COUNT = re.compile(rf"\b({'|'.join(COUNT_WORDS)})(?= (years?|hours?|minutes?|decades?)\b)")
FRACTION = re.compile(rf"\b(\d+(?:\.\d+)?) ({'|'.join(FRACTION_WORDS)})\b")
NEGATION = re.compile(rf"\b(?:{NEGATIONS})(?:\b|(?=-))")


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
    entities: list[Link] = field(default_factory=list)  # the films and people linked in the question

    @property
    def film(self) -> Link | None:
        """The film the question names, when it is linked confidently."""
        return next((e for e in confident(self.entities) if e.kind == "film"), None)

    def to_dict(self) -> dict:
        data = {"intent": self.intent, "filters": self.filters.to_dict(), "person": self.person,
                "titles": self.titles, "fact_fields": self.fact_fields, "rank": self.rank}
        if self.entities:
            data["entities"] = [e.to_dict() for e in self.entities]
        return {**data, "act": self.act} if self.act else data


def understand(question: str, known_people: Callable[[list[str]], list[str]] | None = None,
               today: date | None = None, acts: bool = True, linker: Linker | None = None) -> Understanding:
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
    plain = parse_filters(low, today, with_moods=False)  # what the words state without their moods
    person = find_person(q, known_people) if known_people else None
    entities = linker.films(q) if linker else []
    named = linker.person(q) if linker else None
    if named and named.confidence >= CONFIDENT and (
            normalize_name(named.name) == normalize_name(person or "")  # as recorded: "James Cameron"
            or person is None and not any(e.start < named.end and named.start < e.end for e in confident(entities))):
        person = named.name  # also a typo, a surname, a single name ("speilberg", "kubrick", "zendaya")
        entities.append(named)
    titles = comparison_titles(q)
    fact_fields = asked_fields(low)
    rank = asked_rank(low)
    topic = strip_filler(low)
    asks_list = bool(LIST_START.match(low)) and not ABOUT_IT.search(low)  # not "good will hunting, is it sad"
    one_film = bool(ONE_FILM.search(low)) and not asks_list
    # "something sad", "a horror for a date night": a wish for films ("is Up a sad movie?" asks about one)
    spelled = spelled_numbers(low)
    moody, in_moods = any(moods(spelled)), mood_spans(spelled)
    about_one = bool(YES_NO.match(low) or ABOUT_IT.search(low))
    described = moody and not about_one and bool(
        WISH.search(low) or LIST_NOUNS.search(low) or asks_list
        or any(inside(start, negated_spans(spelled)) for start, _ in in_moods)  # "nothing depressing"
        or any(not inside(m.start(), in_moods) for rx in GENRE_WORDS for m in re.finditer(rf"\b({rx})\b", spelled)))

    if titles:
        intent = "comparison"
        rank = rank or next((FACT_RANKS[f] for f in fact_fields if f in FACT_RANKS), None)
    elif SUGGEST.search(low):
        intent = "recommendation"
    elif person and not one_film and (PERSON_WORK.search(low) or re.search(r"\bin\W*$", low)):
        intent = "filmography"
    elif "directors" in fact_fields:
        intent = "director"
    elif "cast" in fact_fields:
        intent = "cast"
    elif re.search(r"\b(review|critique|opinion|worth (it|watching|seeing)|any good|reception|critics?|audience think)\b", low):
        intent = "review"
    elif re.search(r"\b(plot|summar(y|ise|ize)|what is .* about|what'?s .* about|storyline|what happens)\b", low):
        intent = "plot"
    elif fact_fields and not (topic == "" and not plain.is_empty()):
        intent = "fact"
    elif not one_film and (asks_list or described
                           or (LIST_NOUNS.search(low) and not re.search(r"\bthe (movie|film)\b", low))
                           or (not topic and not plain.is_empty())):
        intent = "recommendation"
    else:
        intent = "general"
    if intent != "recommendation":
        filters = plain  # a mood narrows a wish for films, not a question ("Date Night", "is Up sad?")

    if person and intent in LIST_INTENTS:
        filters.person = person  # a filmography, or "sci-fi films with Sigourney Weaver"
    if intent == "filmography":
        topic = ""
    elif intent not in LIST_INTENTS or (intent == "general" and (one_film or len(topic.split()) >= DESCRIPTION_WORDS)):
        filters = Filters(person=person)  # about one film: only the person named narrows the search
        topic = q if intent == "general" else topic
    elif intent == "recommendation":  # the moods are searched by what they mean
        topic = " ".join(filter(None, [topic, mood_words(low)]))
    elif moody:  # about one film: a mood word may be its title's ("Date Night"), unless asked of it
        topic = strip_filler(low, with_moods=True) if not about_one else " ".join(re.sub(  # "is Up a sad movie"
            "|".join([*(rf"\b({rx})\b" for rx in MOODS), r"\b(movie|film)s?\b"]), " ", q, flags=re.I).split())
    if intent == "filmography":
        entities = [e for e in entities if e.kind == "person"]
    return Understanding(intent, filters, person, titles, fact_fields, rank, topic, entities=entities)


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


def parse_filters(low: str, today: date | None = None, with_moods: bool = True) -> Filters:
    """Every constraint the (lower-cased) text states: years, genres (wanted or excluded), language, rating,
    votes, runtime, and what its moods mean ("a feel-good movie", "nothing too violent")."""
    f = Filters()
    low = spelled_numbers(low)
    this_year = (today or date.today()).year
    parse_years(low, f, this_year)
    negated = negated_spans(low)
    for rx, genre in GENRE_WORDS.items():
        found = [inside(m.start(), negated) for m in re.finditer(rf"\b({rx})\b", low)]
        if False in found and genre not in f.genres:
            f.genres.append(genre)
        elif found and genre not in f.exclude_genres:
            f.exclude_genres.append(genre)
    f.exclude_genres = [g for g in f.exclude_genres if g not in f.genres]
    for word, code in LANGUAGE_WORDS.items():
        if any(not inside(m.start(), negated) for m in re.finditer(rf"\b{word}\b", low)):  # not "nothing in french"
            f.language = code
            break
    parse_rating(low, f)
    parse_runtime(low, f)
    for mood in moods(low, negated) if with_moods else []:
        apply_mood(mood, f, this_year)
    return f


def spelled_numbers(low: str) -> str:
    """The text with digits for the numbers and decades people spell: "two and a half hours" -> "2.5 hours",
    "ninety minutes" -> "90 minutes", "the past five years" -> "the past 5 years", "the sixties" -> "the 1960s"."""
    for word, start in DECADE_WORDS.items():
        low = re.sub(rf"\b(?:nineteen[- ])?{word}\b", f"{start}s", low)
    low = re.sub(r"\b(?:an?|one) (?:hour|hr) and a half\b", "1.5 hours", low)
    low = re.sub(r"\bhalf an? (?:hour|hr)\b|\ba half[- ](?:hour|hr)\b", "0.5 hours", low)
    low = re.sub(r"\ban? (?=hundred\b)", "", low)
    low = VAGUE_COUNT.sub(lambda m: str(COUNT_WORDS[m.group(1)]), low)
    low = SPELLED_NUMBER.sub(lambda m: number_text(spelled_value(m.group(0))), low)
    low = FRACTION.sub(lambda m: number_text(float(m.group(1)) + FRACTION_WORDS[m.group(2)]), low)
    # "1 hour and 45 minutes", "1h30": in minutes
    return re.sub(r"\b(\d+) ?(?:hours?|hrs?|h),? ?(?:and )?(\d+) ?(?:minutes?|mins?|m)?\b",
                  lambda m: f"{60 * int(m.group(1)) + int(m.group(2))} minutes", low)


def spelled_value(words: str) -> int:
    """ "ninety-five" -> 95, "one hundred and twenty" -> 120."""
    total = 0
    for word in re.findall(r"[a-z]+", words):
        if word == "hundred":
            total = max(total, 1) * 100
        elif word != "and":
            total += NUMBER_WORDS[word]
    return total


def number_text(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def negated_spans(low: str) -> list[tuple[int, int]]:
    """Where the text says what it does not want: each negation word and the few words after it, up to a
    word that starts a new wish ("not too violent but funny": "not too violent")."""
    spans = []
    for cue in NEGATION.finditer(low):
        end = cue.end()
        if degree := re.match(rf" ({DEGREE_WORDS}) [\w'-]+", low[cue.end():]):  # "not too violent thriller"
            spans.append((cue.start(), cue.end() + degree.end()))
            continue
        for count, word in enumerate(re.finditer(r"[\w'][\w'-]*|[,.;:!?]", low[cue.end():])):
            if (count >= NEGATION_WORDS or not word.group(0)[0].isalnum()
                    or (count and re.fullmatch(NEGATION_END, word.group(0)))):  # "not for kids" starts with one
                break
            end = cue.end() + word.end()
        spans.append((cue.start(), end))
    return spans


def inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


def mood_spans(low: str) -> list[tuple[int, int]]:
    """Where the text names a mood or descriptor (vocabulary.MOODS)."""
    return [m.span() for rx in MOODS for m in re.finditer(rf"\b({rx})\b", low)]


def moods(low: str, negated: list[tuple[int, int]] | None = None) -> list[dict]:
    """What the moods and descriptors of the text mean (vocabulary.MOODS), a negated one by its `negated`."""
    negated = negated_spans(low) if negated is None else negated
    found = []
    for rx, mood in MOODS.items():
        for m in re.finditer(rf"\b({rx})\b", low):
            meaning = mood.get("negated", {}) if inside(m.start(), negated) else mood
            if meaning not in found:
                found.append(meaning)
    return found


def apply_mood(mood: dict, f: Filters, this_year: int) -> None:
    """Narrow `f` as `mood` means, where the question does not say otherwise: its own genres, rating,
    years and runtime win."""
    f.genres += [g for g in mood.get("genres", []) if g not in f.genres and g not in f.exclude_genres]
    f.exclude_genres += [g for g in mood.get("exclude_genres", []) if g not in f.genres and g not in f.exclude_genres]
    for name in ("min_rating", "min_votes", "max_votes", "runtime_max", "language"):
        if name in mood and getattr(f, name) is None:
            setattr(f, name, mood[name])
    if "older_than" in mood and f.year_max is None and f.year_min is None:
        f.year_max = this_year - mood["older_than"]


def mood_words(low: str) -> str:
    """The search text that stands for the text's moods ("a sad movie": "a heartbreaking, emotional story...")."""
    low = spelled_numbers(low)
    return " ".join(dict.fromkeys(mood["words"] for mood in moods(low) if mood.get("words")))


def parse_years(low: str, f: Filters, this_year: int) -> None:
    """Year ranges: "between 1990 and 1995", "1990-1995", "the 90s", "early 2000s", "after 2010",
    "before 1980", "2010 or later", "in 1994", "1994 movies", "the last 10 years", "over 30 years old", "recent"
    (digits: see spelled_numbers)."""
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
    if m := re.search(r"\b(?:last|past|previous) (?:(\d+) )?(years?|decades?)\b(?! ago)", low):
        if m.group(1) or m.group(2) == "decade":  # "last year" is one calendar year (below)
            span = int(m.group(1) or 1) * (10 if m.group(2).startswith("decade") else 1)
            f.year_min = this_year - span + 1
            return
    if m := re.search(r"\b(?:more than|over|at least) (\d+) years old\b"
                      r"|\b(\d+) (?:or more )?years old or (?:more|older)\b", low):
        f.year_max = this_year - int(m.group(1) or m.group(2))
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
    "with more than 1,000 votes", "1k+ votes", "fewer than 500 votes"."""
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
    elif re.search(r"\b(highly|top|best|well|high)[- ]rated\b|\b(critically )?acclaimed\b|\brated (well|highly)\b"
                   r"|\b(good|great|high|strong|positive|excellent) (ratings?|reviews?|scores?)\b"
                   r"|\bwell[- ](reviewed|received|liked)\b", low):
        f.min_rating, f.min_votes = 7.0, 200
    count = r"(\d[\d,]*(?:\.\d+)?k?)"
    if m := (re.search(rf"\b(?:more than|over|at least|above|with|min(?:imum)?(?: of)?) {count}\+? (?:votes|ratings|reviews)\b",
                       low)
             or re.search(rf"\b{count}\+ (?:votes|ratings|reviews)\b", low)):
        f.min_votes = vote_count(m.group(1))
    if m := re.search(rf"\b(?:less than|fewer than|under|at most|below|max(?:imum)?(?: of)?) {count} "
                      r"(?:votes|ratings)\b", low):
        f.max_votes = vote_count(m.group(1))


def vote_count(text: str) -> int:
    """ "1,500" -> 1500, "5k" -> 5000."""
    text = text.replace(",", "")
    return int(float(text[:-1]) * 1000) if text.endswith("k") else int(float(text))


def parse_runtime(low: str, f: Filters) -> None:
    """ "under 90 minutes", "less than two hours", "longer than 2.5 hours", "90 minutes or less",
    "between 90 and 120 minutes", "around two hours" (give or take a quarter of an hour), "short films" (at
    most 40 minutes); spelled numbers are digits by then (spelled_numbers)."""
    unit = r"(minutes?|mins?|hours?|hrs?|h)\b"
    if m := re.search(rf"\bbetween {_NUMBER} and {_NUMBER} {unit}", low):
        f.runtime_min, f.runtime_max = minutes(m.group(1), m.group(3)), minutes(m.group(2), m.group(3))
        return
    if m := (re.search(rf"\b(?:under|less than|shorter than|at most|no (?:longer|more) than|below|max(?:imum)?|within) "
                       rf"{_NUMBER} {unit}", low)
             or re.search(rf"\b{_NUMBER} {unit} (?:or|and) (?:less|under|shorter)\b", low)):
        f.runtime_max = minutes(m.group(1), m.group(2))
    elif re.search(r"\bshort (films?|movies?)\b|\bshorts\b", low):
        f.runtime_max = SHORT_FILM_MINUTES
    if m := (re.search(rf"\b(?<!no )(?:over|more than|longer than|at least|above|min(?:imum)?) {_NUMBER} {unit}", low)
             or re.search(rf"\b{_NUMBER} {unit} (?:or|and) (?:more|over|longer)\b", low)):
        f.runtime_min = minutes(m.group(1), m.group(2))
    if f.runtime_min is None and f.runtime_max is None and (
            m := re.search(rf"\b(?:around|about|roughly|approximately|circa|~) ?{_NUMBER} {unit}", low)):
        about = minutes(m.group(1), m.group(2))
        f.runtime_min, f.runtime_max = about - ABOUT_MINUTES, about + ABOUT_MINUTES


def minutes(number: str, unit: str) -> int:
    value = 1 if number in ("a", "an") else float(number)
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


def strip_filler(low: str, with_moods: bool = False) -> str:
    """The words of a question that describe what films to find, not how to ask for them: no filter,
    mood or negation words ("not too violent" and "a sad movie" leave nothing to match titles by), unless
    `with_moods`."""
    text = spelled_numbers(low)
    cut = [m.span() for rx, mood in MOODS.items() if not (mood.get("kept") or with_moods)
           for m in re.finditer(rf"\b({rx})\b", text)]
    cut += [(start, end) for start, end in negated_spans(text)  # "no horror", not "no country for old men"
            if any(re.search(rf"\b({rx})\b", text[start:end]) for rx in [*GENRE_WORDS, *MOODS])]
    chars = list(text)
    for start, end in cut:
        chars[start:end] = " " * (end - start)
    text = "".join(chars)
    text = re.sub(r"\b(an?|\d+(\.\d+)?) (hours?|hrs?|minutes?)( long)?\b|\b(hours?|minutes?) long\b"
                  r"|\b[a-z]+-language\b|\b(language|speaking)\b", " ", text)
    for rx in list(GENRE_WORDS) + [rf"\b{w}\b" for w in LANGUAGE_WORDS]:
        text = re.sub(rf"\b({rx})\b", " ", text)
    text = re.sub(r"\b(19|20)?\d0'?s\b|\b(after|since|before|between|and|until)\b|\b\d{4}\b", " ", text)
    text = re.sub(r"\b(last|past|previous) (\d+ )?(years?|decades?)\b|\b\d+ years old\b|\bout of\b|\bc[oa]me out\b"
                  r"|\b(of )?all[- ]time\b|\bever\b", " ", text)
    text = re.sub(r"\b(rated|above|over|under|below|within|less|around|roughly|approximately|minutes?|mins?|hours?|"
                  r"hrs?|half|prior|post|pre|"
                  r"acclaimed|critically|well|high|this year|last year|\d+(\.\d+)?k?)\b", " ", text)
    text = FILLER.sub(" ", text)
    return " ".join(re.findall(r"\w+", text))
