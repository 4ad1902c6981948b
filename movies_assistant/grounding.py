"""The grounding check: does an answer name only films among the records it was given?

Run after generation (rag.py). Titles are found in the answer three ways:

1. the allowed films (this turn's records, the conversation's earlier films, films the question
   names) matched as whole phrases, with their year when one follows, `Title (year)`;
2. any other `Title (year)`: the words before the year are looked up in the index; a film found
   there is an unknown title (it exists, but the model was not given it), and words the index does
   not know are an invented title;
3. titles in quotes or emphasis (`"..."`, `*...*`, `_..._`) written in title case, and titles of two
   or more words that the index knows, matched case-sensitively as whole phrases.

People's names (as the index knows them), genres and languages are never titles, and neither is a
name the records themselves contain (a sequel's overview naming the original). The result is logged
with the answer; `repair` removes the sentences or list items that name unknown titles.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from .vocabulary import GENRE_WORDS, LANGUAGE_WORDS
from .search import SearchStore, SearchUnavailable
from .search.base import normalize_title

YEAR = re.compile(r"\((\d{4})\)")
QUOTED = re.compile(r"\"([^\"\n]{2,80})\"|“([^”\n]{2,80})”|\*\*([^*\n]{2,80})\*\*|\*([^*\n]{2,80})\*|(?<!\w)_([^_\n]{2,80})_(?!\w)")
CAP_WORD = r"[A-Z0-9À-Þ][\w'’.&!?-]*"
CONNECTOR = r"(?:of|the|a|an|and|in|on|to|for|with|at|from|de|la|le|du|des|vs\.?)"
TITLE_RUN = re.compile(rf"{CAP_WORD}(?:(?::\s+|\s+)(?:{CONNECTOR}\s+)*{CAP_WORD})*")
PERSON_RUN = re.compile(r"[A-ZÀ-Þ][\w'’.-]+(?:\s+[A-ZÀ-Þ][\w'’.-]+){1,3}")
SMALL_WORDS = {"a", "an", "and", "as", "at", "but", "by", "de", "for", "from", "in", "into", "la", "le", "nor", "of",
               "on", "or", "the", "to", "vs", "with"}
NOT_TITLES = {normalize_title(g) for g in GENRE_WORDS.values()} | {normalize_title(w) for w in LANGUAGE_WORDS} | {
    "tmdb", "imdb", "generated opinion", "science fiction", "tv movie"}
MAX_LOOKUPS = 40  # index searches per answer, at most


@dataclass
class Grounding:
    grounded: bool = True
    mentioned_ids: list[int] = field(default_factory=list)  # allowed films the answer names, in order
    unknown_titles: list[str] = field(default_factory=list)  # named films that were not among the allowed ones
    repaired: bool = False
    repair: str = ""  # "removed" (sentences naming unknown titles dropped) or "replaced" (nothing was left)
    original_answer: str = ""  # the model's text, when it was repaired
    spans: list[tuple[int, int]] = field(default_factory=list, repr=False)  # where the unknown titles are

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("spans")
        if not self.repaired:
            for key in ("repair", "original_answer"):
                data.pop(key)
        return data


def check(answer: str, allowed: list[dict], store: SearchStore | None = None, record_text: str = "") -> Grounding:
    """Which films `answer` names, and which of them are not in `allowed` (dicts with id, title, year).

    `record_text`: the records' own words (overviews, taglines); a title found there is not unknown.
    """
    result = Grounding()
    covered: list[tuple[int, int]] = []
    lookups = [0]
    first_seen: dict[int, int] = {}  # film id -> where the answer first names it

    def mention(film_id: int, start: int) -> None:
        first_seen[film_id] = min(first_seen.get(film_id, start), start)

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in covered)

    def unknown(title: str, start: int, end: int) -> None:
        covered.append((start, end))
        bare = YEAR.sub("", title).strip()
        if record_text and bare and _phrase(bare, case_sensitive=True).search(record_text):
            return  # the records name it themselves
        result.spans.append((start, end))
        if title not in result.unknown_titles:
            result.unknown_titles.append(title)

    def search(text: str, k: int):
        if store is None or lookups[0] >= MAX_LOOKUPS or not text.strip():
            return []
        lookups[0] += 1
        try:
            return store.search(text, k=k)
        except SearchUnavailable:
            return []

    by_title: dict[str, list[dict]] = {}
    for film in allowed:
        if film.get("title"):
            by_title.setdefault(normalize_title(film["title"]), []).append(film)
    allowed_ids = {f["id"] for f in allowed}

    # 1. the allowed films, longest titles first so "Alien: Covenant" is not also "Alien"
    for key in sorted(by_title, key=len, reverse=True):
        films = by_title[key]
        for m in _phrase(films[0]["title"]).finditer(answer):
            start, end = m.span()
            if not free(start, end):
                continue
            year_match = re.match(r"\s*\((\d{4})\)", answer[end:])
            film = films[0]
            if year_match:
                year = int(year_match.group(1))
                end += year_match.end()
                same_year = [f for f in films if f.get("year") == year]
                if not same_year:
                    unknown(f"{m.group(0)} ({year})", start, end)
                    continue
                film = same_year[0]
            covered.append((start, end))
            mention(film["id"], start)

    # people's names are not titles ("Ray Liotta" is not the film "Ray")
    for m in PERSON_RUN.finditer(answer):
        if free(*m.span()) and store is not None and _known_person(store, m.group(0)):
            covered.append(m.span())

    # 2. any other "Title (year)"
    for m in YEAR.finditer(answer):
        if not free(*m.span()):
            continue
        before = _segment_before(answer, m.start())
        year = int(m.group(1))
        named = None
        for hit in search(before, 10):
            key = normalize_title(hit.movie.title)
            if key and _ends_with(normalize_title(before), key):
                if named is None or len(key) > len(normalize_title(named.title)):
                    named = hit.movie
        if named is not None:
            title = named.title
        else:
            runs = list(TITLE_RUN.finditer(before))
            title = runs[-1].group(0) if runs and runs[-1].end() >= len(before.rstrip()) - 1 else before.strip()
            title = " ".join(title.split()[-8:])
        if not title:
            continue
        if named is not None and named.id in allowed_ids:
            mention(named.id, m.start() - len(before))
            covered.append((m.start() - len(before), m.end()))
            continue
        unknown(f"{title} ({year})", m.start() - len(before), m.end())

    # 3a. quoted or emphasised titles
    for m in QUOTED.finditer(answer):
        text = next(g for g in m.groups() if g is not None).strip()
        start, end = m.span()
        if not free(start, end) or not _title_case(text):
            continue
        key = normalize_title(text)
        if not key or key in NOT_TITLES or key in by_title:
            continue
        if store is not None and _known_person(store, text):
            continue
        unknown(text, start, end)

    # 3b. titles the index knows, two words or more, as whole case-sensitive phrases
    if store is not None:
        for sentence, offset in _sentences(answer):
            for hit in search(sentence, 20):
                title = hit.movie.title
                key = normalize_title(title)
                if len(key.split()) < 2 or key in NOT_TITLES or hit.movie.id in allowed_ids or key in by_title:
                    continue
                for m in _phrase(title, case_sensitive=True).finditer(sentence):
                    start, end = m.start() + offset, m.end() + offset
                    # a title inside a longer name ("The Bubble" in "The Bubble Factory") is not the title
                    longer = re.match(r"\s+[A-Z0-9]", sentence[m.end():]) or re.search(
                        r"[A-Z][\w'’.-]*\s+$", sentence[:m.start()])
                    if free(start, end) and not longer:
                        unknown(title, start, end)
    result.mentioned_ids = sorted(first_seen, key=first_seen.get)
    result.grounded = not result.unknown_titles
    return result


def repair(answer: str, grounding: Grounding) -> str:
    """`answer` without the sentences (or list items) that name unknown titles; "" when nothing is left."""
    if not grounding.spans:
        return answer
    kept_lines = []
    pos = 0
    for line in answer.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        if not any(a < end and b > start for a, b in grounding.spans):
            kept_lines.append(line)
            continue
        if re.match(r"\s*([-*•]|\d+[.)])\s", line):  # a list item: drop it whole
            continue
        kept = [s for s, off in _sentences(line, start)
                if not any(a < off + len(s) and b > off for a, b in grounding.spans)]
        if kept:
            kept_lines.append(" ".join(kept))
    text = "\n".join(kept_lines).strip()
    if not re.search(r"\w", text) or (text.endswith(":") and "\n" not in text):
        return ""
    return text


def _phrase(title: str, case_sensitive: bool = False) -> re.Pattern:
    """A title as a whole phrase: as written, except for spacing and the kind of apostrophe."""
    body = re.escape(title.strip())
    body = re.sub(r"(\\\s)+", r"\\s+", body)
    body = re.sub(r"'|’", "['’]", body)
    single_word = len(re.findall(r"\w+", title)) == 1
    flags = 0 if case_sensitive or single_word else re.I
    return re.compile(rf"(?<!\w){body}(?!\w)", flags)


def _segment_before(text: str, index: int) -> str:
    """The words just before a "(year)": back to the line start, a list marker, a sentence end or a ")"."""
    start = text.rfind("\n", 0, index) + 1
    segment = text[start:index]
    cut = 0
    for m in re.finditer(r"[.!?;•·|]\s|^\s*(?:[-*]|\d+[.)])\s|\)[,;]?\s", segment):
        cut = m.end()
    return segment[cut:][-160:]


def _ends_with(text: str, key: str) -> bool:
    return text == key or text.endswith(" " + key)


def _title_case(text: str) -> bool:
    words = re.findall(r"[\w'’]+", text)
    if not words or len(words) > 10 or text.rstrip()[-1:] in ".?!,":
        return False
    significant = [w for i, w in enumerate(words) if i == 0 or w.lower() not in SMALL_WORDS]
    return all(w[0].isupper() or w[0].isdigit() for w in significant)


def _sentences(text: str, offset: int = 0):
    """(sentence, start offset) pairs of `text`: lines, split after . ! ? before a capital."""
    for line in re.finditer(r"[^\n]+", text):
        base, start = offset + line.start(), 0
        pieces = []
        for boundary in re.finditer(r"(?<=[.!?])\s+(?=[A-Z0-9\"“*(\[])", line.group(0)):
            pieces.append((start, boundary.start()))
            start = boundary.end()
        pieces.append((start, len(line.group(0))))
        for a, b in pieces:
            piece = line.group(0)[a:b]
            if piece.strip():
                yield piece.strip(), base + a + (len(piece) - len(piece.lstrip()))


def _known_person(store: SearchStore, name: str) -> bool:
    try:
        return bool(store.known_people([name.strip(" .,'’")]))
    except SearchUnavailable:
        return False
