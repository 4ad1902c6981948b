"""Entity linking: the catalogue films and people a question names, each with a confidence.

People name films and people loosely: in lower case, with typos ("inceptoin", "speilberg"), by
surname ("kubrick movies") and by a title several films share ("avatar"). The linker matches the
question's phrases against the titles and names of the most-voted films (the ones people name and
mistype), with rapidfuzz for the typos, and settles namesakes by the year the question gives, then by
votes. A phrase that is only a pronoun, a greeting, a mood or a number is never a title, and a
one-word title counts only when the question names nothing else.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .movies import Movie
from .search.base import SearchStore, normalize_name, normalize_title
from .vocabulary import GENRE_WORDS, LANGUAGE_WORDS, NOT_NAMES, QUESTION_WORDS

LINKED_FILMS = 10_000  # the most popular films: the linking vocabulary (also the largest page both backends serve)
CAST_PER_FILM = 6  # the billed cast that people name
LONGEST_TITLE_WORDS = 8
TITLE_CUTOFF = 86  # rapidfuzz ratio (0-100) a mistyped phrase needs to be read as a title
NAME_CUTOFF = 86  # ... and as a person's full name
SHORTENED_BY_CHARS = 12  # a shortened title leaves out a few words at most ("the", "hotel")
FUZZY_MIN_CHARS = 6  # shorter phrases are only linked exactly ("alien" is not "aliens")
TOPIC_FILMS = 3  # a word among the keywords of this many films is a topic ("zombie"), not a surname
CATALOGUE_SECONDS = 300
WELL_KNOWN_SHARE = 0.5  # a namesake with half the votes of the most-voted one is as well known
CONFIDENT = 0.85  # links below this are reported but not acted on
ROMAN = {"ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8"}
SMALL_WORDS = {"a", "an", "the", "of", "and", "or", "in", "on", "at", "to", "for", "with", "by"}
INSIDE_TITLES = {"one", "two", "three", "another", "last", "first"}  # "One Battle After Another"
FILM_WORDS = {"movie", "movies", "film", "films", "flick", "flicks"}
MISSING_TITLE_WORDS = 6  # a longer run of words describes a film rather than names one
DESCRIBED = re.compile(r"\b(movie|film|one)\s+(with|where|about|that|in which|whose|who|set)\b", re.I)
YEAR = re.compile(r"\b(18|19|20)\d\d\b")
GENRE = re.compile("|".join(f"(?:{rx})" for rx in GENRE_WORDS))


@dataclass(frozen=True)
class Link:
    """One film or person the question names: the words used, what they were linked to, how surely."""

    kind: str  # film | person
    text: str  # the question's words, as title keys
    name: str  # the title or name as recorded
    confidence: float
    id: int | None = None  # films only
    year: int | None = None
    start: int = 0  # word offsets in the question's title key
    end: int = 0

    def to_dict(self) -> dict:
        data = {"kind": self.kind, "text": self.text, "name": self.name, "confidence": round(self.confidence, 2)}
        return {**data, "id": self.id, "year": self.year} if self.kind == "film" else data


@dataclass(frozen=True)
class _Film:
    id: int
    title: str
    year: int | None
    votes: int
    rating: float


class Catalogue:
    """The titles and names that can be linked, keyed for exact and fuzzy lookup."""

    def __init__(self, movies: list[Movie]):
        self.films: dict[str, list[_Film]] = defaultdict(list)
        people: dict[str, tuple[str, int]] = {}  # key -> (name, votes of their films)
        for m in movies:
            key = title_key(m.title)
            if key:
                self.films[key].append(_Film(m.id, m.title, m.year, m.vote_count, m.vote_average))
            for name in dict.fromkeys(m.directors + m.cast[:CAST_PER_FILM]):
                person_key = normalize_title(name)
                if person_key:
                    people[person_key] = (name, people.get(person_key, (name, 0))[1] + m.vote_count)
        self.title_keys = list(self.films)
        self.people = {key: name for key, (name, _) in people.items()}
        self.person_keys = list(self.people)
        by_surname: dict[str, tuple[int, str]] = {}
        for key, (name, votes) in people.items():
            parts = key.split()
            if len(parts) >= 2 and votes > by_surname.get(parts[-1], (0, ""))[0]:
                by_surname[parts[-1]] = (votes, name)
        topics = Counter(w for m in movies for w in {w for k in m.keywords for w in title_key(k).split()})
        self.surnames = {surname: name for surname, (_, name) in by_surname.items()
                         if topics[surname] < TOPIC_FILMS and surname not in self.films}
        self.surname_keys = list(self.surnames)

    def film(self, key: str, year: int | None) -> _Film:
        """The namesake the question means: the one from the year it gives, else the best rated of the
        well-known ones (the original over its remake, the film over a short of the same name)."""
        films = self.films[key]
        dated = [f for f in films if year is not None and f.year == year]
        if dated:
            return max(dated, key=lambda f: f.votes)
        most = max(f.votes for f in films)
        return max((f for f in films if f.votes >= most * WELL_KNOWN_SHARE), key=lambda f: (f.rating, f.votes))


class Linker:
    """Links questions against one store's catalogue, read on first use and again when it is
    CATALOGUE_SECONDS old (so films ingested since are linked too)."""

    def __init__(self, store: SearchStore):
        self.store = store
        self._catalogue: Catalogue | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    @property
    def catalogue(self) -> Catalogue:
        with self._lock:
            if self._catalogue is None or time.monotonic() - self._read_at > CATALOGUE_SECONDS:
                hits = self.store.search("", None, k=LINKED_FILMS, method="lexical")  # by popularity
                self._catalogue, self._read_at = Catalogue([h.movie for h in hits]), time.monotonic()
            return self._catalogue

    def films(self, question: str) -> list[Link]:
        """The titles the question names, best first, none overlapping another."""
        words = _words(question)
        year = _year(question)
        found = []
        for start, end in _spans(len(words), LONGEST_TITLE_WORDS):
            span = words[start:end]
            if any(names_something(w) for w in span) and (link := self._title(" ".join(span), year, start, end)):
                found.append(link)
        links = _best_without_overlap(found)
        # a one-word title in a question that names more ("a boy hides an alien in his house", "review
        # of one battle after another") may be an ordinary word, unless it is written with a capital
        named_by_longer = {i for link in links if not _one_word(words[link.start:link.end])
                           for i in range(link.start, link.end)}
        return [_weaker(link, 0.7) if _one_word(words[link.start:link.end])
                and any(names_something(w) for i, w in enumerate(words)
                        if i not in named_by_longer and not link.start <= i < link.end)
                and not _capitalised(question, words[link.start:link.end]) else link for link in links]

    def film(self, phrase: str) -> Link | None:
        """The film a phrase names as a whole (one title of a comparison), or None. A phrase may also
        be a shortened title: "grand budapest" names The Grand Budapest Hotel."""
        words = _words(phrase)
        if not words or not any(names_something(w) for w in words):
            return None
        key, year = " ".join(words), _year(phrase)
        if link := self._title(key, year, 0, len(words)):
            return link
        if len(words) < 2:
            return None
        c = self.catalogue
        matches = process.extract(key, c.title_keys, scorer=fuzz.partial_ratio, score_cutoff=TITLE_CUTOFF + 9,
                                  limit=20)
        near = [c.film(k, year) for k, _, _ in matches if len(key) < len(k) <= len(key) + SHORTENED_BY_CHARS]
        if not near:
            return None
        film = max(near, key=lambda f: f.votes)
        return Link("film", key, film.title, CONFIDENT, film.id, film.year, 0, len(words))

    def person(self, question: str) -> Link | None:
        """The person the question names: full name (despite typos) or, when nothing else is named,
        a surname or single name ("kubrick movies", "what has zendaya been in")."""
        c = self.catalogue
        words = _words(question)
        whole_question_names = sum(names_something(w) for w in words) == 1
        found = []
        for start, end in _spans(len(words), 4):
            span = " ".join(words[start:end])
            if end - start >= 2:
                if any(w in NOT_NAMES or w in QUESTION_WORDS for w in (words[start], words[end - 1])):
                    continue
                if span in c.people:
                    found.append(Link("person", span, c.people[span], 1.0, start=start, end=end))
                elif len(span) >= FUZZY_MIN_CHARS and (match := process.extractOne(
                        span, c.person_keys, scorer=fuzz.ratio, score_cutoff=NAME_CUTOFF)):
                    found.append(Link("person", span, c.people[match[0]], match[1] / 100, start=start, end=end))
            elif whole_question_names and span not in NOT_NAMES and span not in QUESTION_WORDS and len(span) >= 4:
                name = c.people.get(span) or c.surnames.get(span)
                if name is None and len(span) >= FUZZY_MIN_CHARS and (match := process.extractOne(
                        span, c.surname_keys, scorer=fuzz.ratio, score_cutoff=NAME_CUTOFF)):
                    name = c.surnames[match[0]]
                if name is not None:
                    found.append(Link("person", span, name, 0.9, start=start, end=end))
        best = _best_without_overlap(found)
        return best[0] if best else None

    def _title(self, key: str, year: int | None, start: int, end: int) -> Link | None:
        c = self.catalogue
        if key in c.films:
            film = c.film(key, year)
            return Link("film", key, film.title, 1.0, film.id, film.year, start, end)
        if len(key.replace(" ", "")) < FUZZY_MIN_CHARS:
            return None
        matches = process.extract(key, c.title_keys, scorer=fuzz.ratio, score_cutoff=TITLE_CUTOFF, limit=5)
        if not matches:
            return None
        best_score = matches[0][1]
        tied = [m[0] for m in matches if m[1] >= best_score - 0.5]
        film = max((c.film(k, year) for k in tied), key=lambda f: f.votes)
        return Link("film", key, film.title, best_score / 100, film.id, film.year, start, end)


def title_key(text: str) -> str:
    """A title as linking compares it: `normalize_title`, with sequel numerals as digits ("Part II" is
    "part 2") and possessives dropped ("avatar's budget")."""
    words = normalize_title(re.sub(r"['’]s\b", "", text)).split()
    return " ".join(ROMAN.get(w, w) for w in words)


def _words(text: str) -> list[str]:
    return title_key(text).split()


def _year(text: str) -> int | None:
    m = YEAR.search(text)
    return int(m.group(0)) if m else None


def _spans(count: int, longest: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(count) for j in range(i + 1, min(count, i + longest) + 1)]


def names_something(word: str) -> bool:
    """Whether a word of the question may be part of a name: not a question word, a pronoun, a mood,
    a number, a genre or a language."""
    return not (word in QUESTION_WORDS or word in NOT_NAMES or any(c.isdigit() for c in word)
                or word in LANGUAGE_WORDS or GENRE.fullmatch(word))


def _one_word(span: list[str]) -> bool:
    return sum(names_something(w) for w in span) == 1


def _capitalised(question: str, span: list[str]) -> bool:
    """Whether the span's name word is written with a capital after the question's first word
    ("the budget of Avatar")."""
    words = [w for w in span if names_something(w)]
    return any(normalize_name(w) in words and w[:1].isupper() for w in re.findall(r"[\w'’]+", question)[1:])


def _weaker(link: Link, factor: float) -> Link:
    return Link(link.kind, link.text, link.name, link.confidence * factor, link.id, link.year, link.start, link.end)


def _best_without_overlap(links: list[Link]) -> list[Link]:
    """Longest, surest links first; a link overlapping one already taken is dropped."""
    taken: list[Link] = []
    for link in sorted(links, key=lambda l: (-(l.confidence >= CONFIDENT), -(l.end - l.start) * l.confidence,
                                             -l.confidence)):
        if all(link.end <= t.start or link.start >= t.end for t in taken):
            taken.append(link)
    return taken


def confident(links: list[Link]) -> list[Link]:
    return [l for l in links if l.confidence >= CONFIDENT]


def named_words(text: str) -> list[str]:
    """The words of `text` that may name a film or person (see `names_something`)."""
    return [w for w in _words(text) if names_something(w)]


def missing_title(question: str, found_titles: list[str]) -> str | None:
    """The title a question about one film names ("is anora any good?", "conclave 2024 plot") when no
    film found for it has that title: the answer says so rather than answer for another film. None
    when the question names no title, describes a film instead, or names one of `found_titles`."""
    words = _words(question)
    named = [i for i, w in enumerate(words) if names_something(w)]
    if not named or DESCRIBED.search(question) or named[-1] - named[0] >= MISSING_TITLE_WORDS:
        return None
    start, end = named[0], named[-1] + 1
    while start > 0 and words[start - 1] in INSIDE_TITLES:
        start -= 1
    while end < len(words) and words[end] in INSIDE_TITLES:
        end += 1
    if any(w in FILM_WORDS for w in words[start:end]):
        return None  # "a short horror film under ninety minutes" describes films
    phrase = " ".join(words[start:end])
    for title in found_titles:
        key = title_key(title)
        shortened = f" {phrase} " in f" {key} " and 3 * len(named) >= 2 * len(named_words(key))  # "grand budapest"
        initials = all(len(w) == 1 for w in phrase.split()) and key.startswith(f"{phrase} ")  # "e.t."
        if shortened or initials or fuzz.ratio(phrase, key) >= TITLE_CUTOFF:
            return None
    year = _year(question)
    title = " ".join(w if 0 < i and w in SMALL_WORDS else w.capitalize() for i, w in enumerate(phrase.split()))
    return title + (f" ({year})" if year else "")
