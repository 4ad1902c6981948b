"""What a question states about the one film it describes: year, genres, runtime, a quoted title...

People describe a film they cannot name by what they remember of its record: "the Korean thriller
released in 2013 with a runtime of 83 minutes", "the 2018 Drama-Romance with a popularity of 1.025",
"the movie 'The Secret Taste'". A text index scores such words weakly ("2013", "83" and "minutes"
match many titles and overviews), while the record matches them exactly. Hybrid search
(`search/hybrid.py`) uses the clues twice: as filters for one more candidate list, and as a bonus for
every candidate by the share of them it matches. Never as the only filter, so a misread clue costs a
little rank, not the film.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..movies import Movie
from ..vocabulary import GENRE_WORDS, LANGUAGE_WORDS
from .base import Filters, normalize_title, title_candidates

_NUMBER = r"(\d+(?:\.\d+)?)"
# A four-digit year, but not one of a range ("1983-1985"), a decade ("1990s") or a bigger number.
_YEAR = re.compile(r"(?<![\d.,$-])\b((?:18[89]|19\d|20[0-3])\d)\b(?!s\b|'s\b| ?(?:-|–|to|and) ?\d|[\d,.]\d)")
_DATE = re.compile(r"\b((?:18[89]|19\d|20[0-3])\d)-(\d\d)-(\d\d)\b")
# "a runtime of 83 minutes", "a 5-minute runtime"; not "under 90 minutes" (a range: query.py's filters)
_RUNTIME = re.compile(r"(?<!under )(?<!than )(?<!over )(?<!least )(?<!most )\b(\d+)[- ]min(?:ute)?s?\b")
_VOTE_AVERAGE = re.compile(rf"\b(?:vote average|average (?:rating|vote|score)|rating|rated)(?: of| is| was)? {_NUMBER}"
                           r"(?![\d.]|\+| ?votes| (?:or|and) (?:higher|more|above|better|up|over))")
_VOTE_COUNT = re.compile(r"\b(?:vote count|votes?)(?: of| is| was)? (\d[\d,]*)\b|\b(\d[\d,]*) votes\b")
_POPULARITY = re.compile(rf"\bpopularity(?: score| rating| value)?(?: of| is| was)? {_NUMBER}\b")
# "..." or 'Pan's Labyrinth' (a closing ' is one not followed by a letter); at most 150 characters, so
# a question full of apostrophes costs linear time, not quadratic
_QUOTED = re.compile(r"[\"“‘]([^\"”’]{1,150})[\"”’]|(?<!\w)'(.{1,150}?)'(?!\w)")
_CHINESE = {"zh", "cn"}  # Mandarin and Cantonese: "Chinese" in a question may mean either


@dataclass(frozen=True)
class Clues:
    year: int | None = None
    date: str | None = None  # yyyy-mm-dd
    genres: tuple[str, ...] = ()
    language: str | None = None  # ISO-639-1 code
    runtime: int | None = None  # minutes
    vote_average: float | None = None
    vote_count: int | None = None
    popularity: float | None = None
    titles: tuple[str, ...] = ()  # quoted phrases, as title keys
    whole: str = ""  # the whole question as a title key: "Alien" names the film Alien, not Aliens
    runs: frozenset[str] = frozenset()  # the question's runs of words that may be a title (title_candidates)

    @classmethod
    def parse(cls, question: str) -> Clues:
        low = " ".join(question.lower().split())
        year = date = None
        if m := _DATE.search(low):
            date, year = m.group(0), int(m.group(1))
        elif len(years := set(_YEAR.findall(low))) == 1:  # two different years: a range or a comparison
            year = int(years.pop())
        genres = tuple(genre for rx, genre in GENRE_WORDS.items() if re.search(rf"\b({rx})\b", low))
        language = next((code for word, code in LANGUAGE_WORDS.items() if re.search(rf"\b{word}\b", low)), None)
        runtime = int(m.group(1)) if (m := _RUNTIME.search(low)) else None
        vote_average = float(m.group(1)) if (m := _VOTE_AVERAGE.search(low)) and float(m.group(1)) <= 10 else None
        vote_count = int((m.group(1) or m.group(2)).replace(",", "")) if (m := _VOTE_COUNT.search(low)) else None
        popularity = float(m.group(1)) if (m := _POPULARITY.search(low)) else None
        titles = tuple(dict.fromkeys(key for groups in _QUOTED.findall(question) for text in groups
                                     if (key := normalize_title(text))))
        return cls(year, date, tuple(dict.fromkeys(genres)), language, runtime, vote_average, vote_count, popularity,
                   titles, normalize_title(question), frozenset(title_candidates(question)))

    def _facts(self) -> list:
        return [self.year, self.date, self.genres, self.language, self.runtime, self.vote_average, self.vote_count,
                self.popularity]

    def __bool__(self) -> bool:
        """Whether the question states a fact or quotes a title (being a title itself is not stating)."""
        return any(fact not in (None, ()) for fact in self._facts()) or bool(self.titles)

    def filters(self, base: Filters) -> Filters:
        """`base` narrowed by the clues an index can filter on (year, genres, language, runtime), if the
        question states one of the record's numbers (year or date, runtime, rating, votes, popularity).

        Genre and language words alone are too often the plot's ("a French chef", "his family") to
        filter by; they still count in `share` (18k corpus, hybrid, plot paraphrases: local hit rate
        0.708 -> 0.716, Elasticsearch 0.775 -> 0.797, the original questions no worse). A filter `base`
        already sets wins over the clue for it.
        """
        if all(fact is None for fact in (self.year, self.runtime, self.vote_average, self.vote_count, self.popularity)):
            return base
        narrowed = {}
        if self.year is not None and base.year_min is None and base.year_max is None:
            narrowed.update(year_min=self.year, year_max=self.year)
        if self.genres:
            narrowed["genres"] = list(dict.fromkeys([*base.genres, *self.genres]))
        if self.language and base.language is None:
            narrowed["language"] = self.language
        if self.runtime is not None and base.runtime_min is None and base.runtime_max is None:
            narrowed.update(runtime_min=self.runtime, runtime_max=self.runtime)
        return replace(base, **narrowed)

    def share(self, movie: Movie) -> float:
        """The share of the stated facts that `movie`'s record matches (0 when none are stated)."""
        checks = []
        if self.date is not None:
            checks.append(movie.release_date == self.date)
        if self.year is not None:
            checks.append(movie.year == self.year)
        if self.genres:
            have = {g.lower() for g in movie.genres}
            checks.append(sum(g.lower() in have for g in self.genres) / len(self.genres))
        if self.language is not None:
            checks.append(movie.original_language == self.language
                          or {movie.original_language, self.language} <= _CHINESE)
        if self.runtime is not None:
            checks.append(movie.runtime == self.runtime)
        if self.vote_average is not None:
            checks.append(abs(movie.vote_average - self.vote_average) < 0.051)
        if self.vote_count is not None:
            checks.append(movie.vote_count == self.vote_count)
        if self.popularity is not None:
            checks.append(abs(movie.popularity - self.popularity) <= 0.005 * max(1.0, self.popularity))
        return sum(checks) / len(checks) if checks else 0.0

    def mentions(self, movie: Movie) -> bool:
        """Whether `movie`'s whole title is a run of the question that may be a title ("Who starred in
        Alien?"), by the rule of the backends' exact-title boost (`base.title_candidates`)."""
        return normalize_title(movie.title) in self.runs

    def names(self, movie: Movie) -> bool:
        """Whether the question quotes `movie`'s title ("the movie 'The Secret Taste'") or is that title."""
        key = normalize_title(movie.title)
        return bool(key) and (key == self.whole or key in self.titles)
