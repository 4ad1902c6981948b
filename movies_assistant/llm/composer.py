"""The composer: no language model. Renders a truthful answer from the retrieved records.

It is the default provider, so a fresh clone answers instantly, and every fact it states is a field
of a retrieved record.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Iterator

import pysbd

from ..dialogue import reply
from ..movies import Movie, rank_films
from ..vocabulary import LANGUAGE_WORDS, RANKINGS
from .base import AnswerRequest, Completion, Stream

LANGUAGE_NAMES = {code: word.title() for word, code in reversed(list(LANGUAGE_WORDS.items()))}
LANGUAGE_NAMES.update({"en": "English", "ja": "Japanese", "hi": "Hindi", "cn": "Cantonese"})
LIST_SIZE = 5
NEAREST_TITLES = 3  # offered when the film asked about is not in the catalogue
RANKED_SHOWN = 5  # films a ranking names with their values (the rest of a long list goes unnamed)
CHUNK_WORDS = 3  # words per streamed chunk
GENERATED_OPINION = "Generated opinion, not a published review:"


class Composer:
    name = "composer"

    def status(self) -> str:
        return "ready"

    def generate(self, request: AnswerRequest) -> Completion:
        return Completion(text=compose(request), model=self.name)

    def stream(self, request: AnswerRequest) -> Stream:
        return Stream(self._stream(request))

    def _stream(self, request: AnswerRequest):
        text = compose(request)
        yield from chunk_text(text)
        return Completion(text=text, model=self.name)


def chunk_text(text: str, words: int = CHUNK_WORDS) -> Iterator[str]:
    """`text` in pieces of a few words (whitespace kept), so `"".join(pieces) == text`."""
    parts = re.findall(r"\S+\s*|\s+", text)
    for i in range(0, len(parts), words):
        yield "".join(parts[i : i + words])


def compose(request: AnswerRequest) -> str:
    u, movies = request.understanding, request.movies
    if u.intent == "small_talk":
        return reply(u.act)
    if missing := request.context.get("missing_title"):
        nearest = [m.label() for m in movies[:NEAREST_TITLES]]
        return f"I couldn't find {missing} in the catalogue." + (
            f" The nearest titles I have are {names(nearest)}." if nearest else "")
    if not movies:
        if u.person and u.intent == "filmography":
            return f"I couldn't find any films with {u.person} in the catalogue."
        wanted = describe_filters(u.filters.to_dict())
        if u.intent == "recommendation" and request.context.get("excluded"):
            return ("That's every film I have" + (f" matching {wanted}" if wanted else "")
                    + ": the rest were already suggested or turned down in this conversation.")
        if wanted:
            return f"No film in the catalogue matches all of: {wanted}."
        return "I couldn't find a film in the catalogue that matches your question."
    render = {
        "fact": fact,
        "cast": cast,
        "director": director,
        "filmography": filmography,
        "comparison": comparison,
        "recommendation": recommendation,
        "plot": plot,
        "review": review,
    }.get(u.intent, general)
    return render(request)


def describe_filters(filters: dict) -> str:
    """`{"year_min": 1990, "genres": ["Comedy"]}` -> "from 1990, genre Comedy"."""
    words = {
        "year_min": "from {}", "year_max": "until {}", "genres": "genre {}", "exclude_genres": "no {}",
        "language": "in {}", "min_rating": "rated at least {}", "min_votes": "at least {} votes",
        "max_votes": "at most {} votes", "runtime_min": "at least {} min",
        "runtime_max": "at most {} min", "person": "with {}",
    }
    parts = []
    for key, value in filters.items():
        if key in ("genres", "exclude_genres"):
            value = (" and " if key == "genres" else " or ").join(value)
        elif key == "language":
            value = LANGUAGE_NAMES.get(value, value)
        parts.append(words[key].format(value))
    return ", ".join(parts)


def money(amount: int) -> str:
    return f"${amount:,}"


def nice_date(iso: str) -> str:
    try:
        d = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{d:%B} {d.day}, {d.year}"


def names(items: list[str], limit: int = 5) -> str:
    items = items[:limit]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def rating(m: Movie) -> str:
    if not m.vote_count:
        return "has no TMDB audience rating yet"
    return f"is rated {m.vote_average:.1f}/10 by {m.vote_count:,} TMDB voters"


SENTENCES = pysbd.Segmenter(language="en", clean=False)


def first_sentences(text: str, count: int = 2) -> str:
    """The first `count` sentences; "Dr.", "U.S." and "J.R.R." do not end one."""
    return " ".join(part.strip() for part in SENTENCES.segment(text)[:count]).strip()


def counted(count: int, noun: str) -> str:
    """ "1 film", "45 films"."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def kind_of_film(genres: list[str]) -> str:
    """ "an action and science fiction film", "a drama": how a review names what a film is."""
    kind = " and ".join(g.lower() for g in genres[:2]) + " film" if genres else "film"
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def card(m: Movie) -> str:
    """One line describing a film: year, genres, rating and the start of its plot."""
    bits = [m.label()]
    if m.genres:
        bits.append("/".join(m.genres[:3]))
    if m.vote_count:
        bits.append(f"{m.vote_average:.1f}/10")
    line = " · ".join(bits)
    if m.overview:
        line += f": {first_sentences(m.overview, 1)}"
    return line


# fact field -> (the Movie attribute it needs, sentence when known, sentence when unknown or None
# when always known). Sentences are formatted with the film (`m`, `label`) and `fact_values`.
FACT_SENTENCES = {
    "release_date": ("release_date", "{m.title} was released on {date}.",
                     "The release date of {m.title} is not recorded."),
    "budget": ("budget", "The budget of {label} was {budget}.", "The budget of {label} is not recorded in the data."),
    "revenue": ("revenue", "{label} earned {revenue} at the box office.",
                "The box-office revenue of {label} is not recorded in the data."),
    "runtime": ("runtime", "{label} runs {m.runtime} minutes ({hours} h {minutes} min).",
                "The runtime of {label} is not recorded."),
    "rating": ("id", "{label} {rating}.", None),
    "genres": ("genres", "{label} is {genres}.", "{label} has no genres recorded."),
    "language": ("id", "The original language of {label} is {language}.", None),
    "tagline": ("tagline", 'The tagline of {label} is "{m.tagline}".', "{label} has no tagline recorded."),
    "production_companies": ("production_companies", "{label} was produced by {companies}.",
                             "The production companies of {label} are not recorded."),
    "keywords": ("keywords", "Keywords for {label}: {keywords}.", "{label} has no keywords recorded."),
    "status": ("id", "The status of {label} is {status}.", None),
    "directors": ("directors", "{label} was directed by {directors}.",
                  "The director of {label} is not recorded in the data."),
    "cast": ("cast", "{label} stars {cast}.", "The cast of {label} is not recorded in the data."),
}


def fact_values(m: Movie) -> dict:
    return {
        "m": m, "label": m.label(), "date": nice_date(m.release_date), "budget": money(m.budget),
        "revenue": money(m.revenue), "hours": m.runtime // 60, "minutes": m.runtime % 60, "rating": rating(m),
        "genres": names(m.genres, 10), "language": LANGUAGE_NAMES.get(m.original_language, m.original_language
                                                                     or "unknown"),
        "companies": names(m.production_companies, 8), "keywords": ", ".join(m.keywords[:12]),
        "status": m.status or "unknown", "directors": names(m.directors), "cast": names(m.cast, 6),
    }


def fact(request: AnswerRequest) -> str:
    m, fields = request.movies[0], request.understanding.fact_fields
    if not any(f in FACT_SENTENCES for f in fields):
        return general(request)
    return fact_sentences(m, fields)


def fact_sentences(m: Movie, fields: list[str]) -> str:
    """One sentence per asked field that has one ("budget and box office": both)."""
    values = fact_values(m)
    sentences = []
    for name in fields:
        if name not in FACT_SENTENCES:
            continue
        attribute, known, unknown = FACT_SENTENCES[name]
        sentences.append((known if getattr(m, attribute) or unknown is None else unknown).format(**values))
    return " ".join(sentences)


def with_facts(text: str, request: AnswerRequest, covered: tuple[str, ...]) -> str:
    """`text` (which states the `covered` fields), then the other facts the question asks ("who's in it
    and how long is it")."""
    asked = [f for f in request.understanding.fact_fields if f not in covered]
    facts = fact_sentences(request.movies[0], asked)
    return f"{text} {facts}" if facts else text


def cast(request: AnswerRequest) -> str:
    m = request.movies[0]
    if not m.cast:
        return with_facts(f"The cast of {m.label()} is not recorded in the data.", request, ("cast",))
    text = f"{m.label()} stars {names(m.cast, 6)}."
    if m.directors:
        text += f" It was directed by {names(m.directors)}."
    return with_facts(text, request, ("cast", "directors") if m.directors else ("cast",))


def director(request: AnswerRequest) -> str:
    """The director first, then every other fact asked ("who directed alien and when did it come out")."""
    fields = request.understanding.fact_fields
    return fact_sentences(request.movies[0], ["directors"] + [f for f in fields if f != "directors"])


def filmography(request: AnswerRequest) -> str:
    person = request.understanding.person or "this person"
    films = sorted(request.movies, key=lambda m: m.release_date or "9999")
    lines = []
    for m in films:
        directed = any(person.lower() == d.lower() for d in m.directors)
        acted = any(person.lower() == c.lower() for c in m.cast)
        role = " and ".join(r for r, yes in (("director", directed), ("cast", acted)) if yes) or "cast"
        lines.append(f"- {m.label()} ({role})")
    return f"{person} has {counted(len(films), 'film')} in the catalogue, by release date:\n" + "\n".join(lines)


def comparison(request: AnswerRequest) -> str:
    films = request.movies
    lines = []
    for m in films:
        parts = [f"{m.label()}: {', '.join(m.genres[:3]) or 'genre unknown'}", f"rated {m.vote_average:.1f}/10 "
                 f"({m.vote_count:,} votes)"]
        if m.budget:
            parts.append(f"budget {money(m.budget)}")
        if m.revenue:
            parts.append(f"revenue {money(m.revenue)}")
        if m.runtime:
            parts.append(f"{m.runtime} min")
        if m.popularity:
            parts.append(f"TMDB popularity {m.popularity:,.1f}")
        lines.append("- " + "; ".join(parts))
    text = "Comparison:\n" + "\n".join(lines)
    rank = request.understanding.rank
    if len(films) >= 2 and rank in RANKINGS:  # a long list (an earlier answer's films) is not tabulated
        return ranked(films, rank) + ("\n\n" + text if len(films) <= RANKED_SHOWN else "")
    if len(films) >= 2:
        best = max(films, key=lambda m: (m.vote_average, m.vote_count))
        popular = max(films, key=lambda m: m.vote_count)
        text += f"\n{best.label()} has the higher audience rating; {popular.label()} has the most votes."
        with_revenue = [m for m in films if m.revenue]
        if len(with_revenue) >= 2:
            text += f" {max(with_revenue, key=lambda m: m.revenue).label()} earned the most."
        with_popularity = [m for m in films if m.popularity]
        if len(with_popularity) >= 2:
            text += f" {max(with_popularity, key=lambda m: m.popularity).label()} is the most popular on TMDB now."
    return text


def ranked(films: list[Movie], rank: str) -> str:
    """The comparative answered directly: "John Wick (2014), 101 min, is longer than Taken (2008), 93 min"."""
    spec = RANKINGS[rank]
    field = spec["field"]
    order, missing = rank_films(films, field, spec["highest"])
    text = ""
    if len(films) == len(order) == 2 and getattr(order[0], field) == getattr(order[1], field):
        text = f"{order[0].label()} and {order[1].label()} are level: both {ranked_value(order[0], field)}."
    elif len(order) == 2 and len(films) == 2:
        text = (f"{order[0].label()}, {ranked_value(order[0], field)}, {spec['than']} {order[1].label()}, "
                f"{ranked_value(order[1], field)}.")
    elif len(order) == 1:
        text = f"{order[0].label()}: {ranked_value(order[0], field)}."
    elif order:
        text = f"{order[0].label()} {spec['most']}: {ranked_value(order[0], field)}; then "
        text += "; ".join(f"{m.label()}: {ranked_value(m, field)}" for m in order[1:RANKED_SHOWN]) + "."
    if missing and len(films) <= RANKED_SHOWN:
        text += f" {RANKED_UNKNOWN[field]} {names([m.label() for m in missing], len(missing))}."
    return text.strip()


def ranked_value(m: Movie, field: str) -> str:
    """A film's value of a ranked field, as the answer states it."""
    if field == "runtime":
        return f"{m.runtime} min"
    if field == "release_date":
        return f"released {nice_date(m.release_date)}"
    if field == "vote_average":
        return f"{m.vote_average:.1f}/10 from {m.vote_count:,} votes"
    if field == "vote_count":
        return f"{m.vote_count:,} votes"
    return money(getattr(m, field))


RANKED_UNKNOWN = {"runtime": "The data has no runtime for", "release_date": "The data has no release date for",
                  "vote_average": "There is no audience rating yet for", "vote_count": "There are no votes yet for",
                  "revenue": "The data has no box-office revenue for", "budget": "The data has no budget for"}


def recommendation(request: AnswerRequest) -> str:
    films = request.movies[:LIST_SIZE]
    wanted = describe_filters(request.understanding.filters.to_dict())
    similar = request.context.get("similar_to")
    intro = "Here are some films" + (f" similar to {similar}" if similar else "") + " you might enjoy"
    intro += f" ({wanted})" if wanted else ""
    if request.context.get("excluded"):
        intro += ", leaving out the ones already suggested or turned down"
    return intro + ":\n" + "\n".join(f"- {card(m)}" for m in films)


def plot(request: AnswerRequest) -> str:
    m = request.movies[0]
    if not m.overview:
        return f"There is no plot summary for {m.label()} in the data."
    return f"{m.label()}: {first_sentences(m.overview, 3)}"


def review(request: AnswerRequest) -> str:
    """A generated opinion, labelled as such, from the record; never an invented critic's review."""
    m = request.movies[0]
    texts = review_texts(m)
    if texts:
        s = review_sentiment(texts)
        return (
            f"{m.label()} has {counted(s['reviews'], 'audience review')} in the data: {s['positive']} read positive, "
            f"{s['negative']} negative and {s['mixed']} mixed (a word-list estimate, not a reading of each one). "
            f"Its audience rating: it {rating(m)}."
        )
    opinion = [GENERATED_OPINION]
    about = f"{m.label()} is {kind_of_film(m.genres)}"
    if m.directors:
        about += f" directed by {names(m.directors, 2)}"
    if m.cast:
        about += f", starring {names(m.cast, 2)}"
    opinion.append(about + ".")
    if m.overview:
        opinion.append(f"Its premise: {first_sentences(m.overview, 1)}")
    opinion.append(verdict(m))
    return (
        " ".join(opinion) + "\n\n"
        f"I have no critics' reviews in my data, so I can't quote or invent one, and I can't tell you what "
        f"reviewers or audiences wrote. What I can tell you: {m.label()} {rating(m)}."
    )


def verdict(m: Movie) -> str:
    """What the audience rating suggests, in words."""
    if m.vote_count < 50:
        return "It has too few TMDB votes to say how audiences received it."
    if m.vote_average >= 8:
        return "Judging by its audience rating, viewers love it: a safe pick."
    if m.vote_average >= 7:
        return "Judging by its audience rating, most viewers liked it."
    if m.vote_average >= 6:
        return "Judging by its audience rating, viewers were mostly positive but divided."
    if m.vote_average >= 5:
        return "Judging by its audience rating, its reception was mixed."
    return "Judging by its audience rating, most viewers did not like it."


POSITIVE = {"amazing", "beautiful", "best", "brilliant", "captivating", "charming", "enjoy", "enjoyed", "enjoyable",
            "excellent", "fantastic", "fun", "funny", "gorgeous", "great", "good", "hilarious", "love", "loved",
            "masterpiece", "moving", "perfect", "powerful", "recommend", "stunning", "superb", "wonderful"}
NEGATIVE = {"awful", "bad", "bland", "boring", "confusing", "disappointing", "dull", "hate", "hated", "mess",
            "mediocre", "pointless", "poor", "predictable", "ridiculous", "slow", "stupid", "terrible", "waste",
            "weak", "worst"}
NEGATORS = {"not", "never", "no", "hardly", "isn't", "wasn't", "don't", "didn't", "nothing"}


def review_texts(m: Movie) -> list[str]:
    """Review texts when the data has a review column (a `reviews` list or `review` text); else []."""
    value = getattr(m, "reviews", None) or getattr(m, "review", None)
    if isinstance(value, str):
        value = [part for part in re.split(r"\n{2,}|\s\|\s", value) if part.strip()]
    return [str(v) for v in value or [] if str(v).strip()]


def review_sentiment(texts: list[str]) -> dict:
    """Positive / negative / mixed counts by a small word list (a negator flips the next word)."""
    out = {"reviews": len(texts), "positive": 0, "negative": 0, "mixed": 0}
    for text in texts:
        score, flip = 0, False
        for word in re.findall(r"[a-z']+", text.lower()):
            if word in NEGATORS:
                flip = True
                continue
            value = 1 if word in POSITIVE else -1 if word in NEGATIVE else 0
            score += -value if flip else value
            flip = flip and value == 0 and word in ("a", "an", "the", "very", "so", "at", "all", "that")
        out["positive" if score > 0 else "negative" if score < 0 else "mixed"] += 1
    return out


def general(request: AnswerRequest) -> str:
    m, others = request.movies[0], request.movies[1:4]
    text = card(m)
    if m.directors:
        text += f" Directed by {names(m.directors)}."
    if m.cast:
        text += f" Starring {names(m.cast, 3)}."
    if others:
        text += "\nOther matches: " + "; ".join(o.label() for o in others) + "."
    return text
