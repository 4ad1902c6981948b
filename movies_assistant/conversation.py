"""Follow-ups: what a question means given the earlier turns of its conversation.

Each logged turn keeps a small state (its `understanding` column): the intent and filters, the film
and person it was about, and the films suggested or turned down so far. `resolve` reads the last
turns and the new question and returns a `Plan`:

* "who directed it?", "when did the second one come out?": `subject`, the film referred to;
* "what else has she been in?": the person last in focus (the earlier question's person, else the
  first person the earlier answer names) becomes a filmography;
* "anything similar but older?", "more like that", "something newer": a recommendation similar to the
  film being discussed, or the earlier recommendation's filters, shifted in time;
* "which of those is the best rated?", "the oldest one?", "which of the two is longer?", "only the
  comedies", "any of them under 2 hours?": an operation on the films the earlier answer listed (or
  the last two films discussed), ranked or narrowed, not a new search;
* in a recommendation conversation, films already suggested or turned down ("I've seen Alien",
  "not Aliens", a -1 on the answer that suggested them) are excluded.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from .movies import Movie
from .linking import named_words, title_key
from .query import FACT_RANKS, PERSON_WORK, Understanding, asks_fields_only, implied_comparison, parse_filters
from .search import Filters, SearchStore
from .search.base import normalize_title

FILM_REF = re.compile(r"\b(it|its|it's|that (movie|film|one)|this (movie|film|one)|the (movie|film))\b", re.I)
# a compared title that is only a reference to the film being discussed ("is it longer than Heat?")
FILM_PRONOUN = re.compile(r"(?i)it|that|this|(that|this|the) (one|movie|film)|the (first|second|last) one")
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "1st": 0, "2nd": 1, "3rd": 2,
            "4th": 3, "5th": 4, "last": -1}
ORDINAL_REF = re.compile(r"\bthe (first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th|last)( one| (movie|film))?\b",
                         re.I)
PERSON_REF = re.compile(r"\b(she|he|her|him|his|hers)\b", re.I)
SIMILAR = re.compile(r"\b(similar|like (it|that|this|those|these|them)|more like|same (kind|type|vibe))\b", re.I)
MORE = re.compile(r"\b(anything else|something else|other (ones|suggestions|recommendations|options|films|movies)|"
                  r"another|more (suggestions|recommendations|films|movies|options|please)|any more|what else)\b",
                  re.I)
OLDER = re.compile(r"\b(older|earlier|classic|less recent)\b", re.I)
NEWER = re.compile(r"\b(newer|more recent|recent|later|modern|latest)\b", re.I)
SIMILAR_TO = re.compile(r"\b(?:similar to|movies like|films like|something like|anything like|like)\s+(.+?)"
                        r"(?=[?.!;]|,|\bbut\b|\bfrom\b|\bwith\b|$)", re.I)
REJECT = re.compile(
    r"\b(?:not|no|except|other than|besides|apart from|excluding|without|skip|"
    r"(?:i'?ve|i have|i already|already)\s+(?:already\s+)?(?:seen|watched)|(?:didn'?t|don'?t|did not|do not) "
    r"(?:like|want)|hated|"
    r"disliked?)\s+(.+?)(?=[.;!?]|,|\bbut\b|\bso\b|\bcan\b|\bany\b|\bsomething\b|$)",
    re.I,
)
# "which of those is the oldest?", "the longest one?": a ranking of films already shown ("older ones?"
# is a recommendation follow-up, below)
RANK_REF = re.compile(r"\b(which|those|these|them|the (two|three|four|five)|both)\b|\bthe [\w-]+( [\w-]+)? one\b|"
                      r"^(and |what about |how about )?(the )?(\w+est|most \w+|best|worst)([- ]\w+)?"
                      r"( one| film| movie)?$|"
                      r"\b(sort|order|rank)( them)? by\b", re.I)
# "how long are they?", "when did those come out?": a fact asked of every film shown, answered as a ranking
THEY_REF = re.compile(r"\b(they|them|their|those|these|each|both)\b", re.I)
# "only the comedies", "any of them under 2 hours?", "just the french ones": the shown films, narrowed
NARROW_REF = re.compile(r"\b(only|just|those|these|them|ones|make (it|them|that))\b", re.I)
PAIR_REF = re.compile(r"\b(the two|both)\b", re.I)
LIST_TURNS = ("recommendation", "filmography", "comparison")  # turns whose answer is a list of films
LIST_TURNS_BACK = 3  # "the oldest one?" can follow a question about one film of the list
SHORT_FOLLOW_UP_WORDS = 10
SEQUEL = re.compile(r"\b(?:part|chapter) (\d|two|three|four|ii|iii|iv)\b|\bthe (?:sequel|next one)\b", re.I)
NUMBERS = {"two": "2", "three": "3", "four": "4", "ii": "2", "iii": "3", "iv": "4"}
ELLIPSIS = re.compile(r"^\s*(and|what about|how about|same for)\b", re.I)
ABOUT_ONE_FILM = ("fact", "cast", "director", "plot", "review", "general")
ROLE = re.compile(r"\bwho (?:plays|played|voices|voiced|is playing|portrays|portrayed) (.+?)\W*$", re.I)
SIMILAR_KEYWORDS = 8


@dataclass
class Plan:
    """How to answer this turn, after the conversation so far is taken into account."""

    understanding: Understanding
    subject: Movie | None = None  # the film the question refers to ("it", "the second one")
    similar_to: Movie | None = None  # recommend films like this one
    excluded_ids: list[int] = field(default_factory=list)  # never recommend again in this conversation
    rejected_ids: list[int] = field(default_factory=list)  # turned down by the user (cumulative)
    suggested_ids: list[int] = field(default_factory=list)  # recommended in earlier turns (cumulative)
    follow_up: str = ""  # what was resolved: film, person, recommendation, list, comparison
    known_films: list[dict] = field(default_factory=list)  # every film of the earlier turns (id, title, year)
    films: list[Movie] = field(default_factory=list)  # an earlier answer's films this turn ranks or narrows

    def state(self, mentioned_ids: list[int], top_id: int | None = None) -> dict:
        """What the log keeps of this turn for the next one (`top_id`: the first retrieved film)."""
        u = self.understanding
        suggested = list(self.suggested_ids)
        if u.intent == "recommendation":
            suggested += [i for i in mentioned_ids if i not in suggested]
        subject = self.subject.id if self.subject else None
        # a comparison's "it" is its first film (of a ranking, the film ranked first: "the oldest one?")
        if subject is None and u.intent not in ("recommendation", "filmography"):
            subject = top_id if top_id is not None else (mentioned_ids[0] if mentioned_ids else None)
        return {
            **u.to_dict(), "topic": u.topic, "subject_id": subject,
            "similar_to_id": self.similar_to.id if self.similar_to else None,
            "suggested_ids": suggested[-200:], "rejected_ids": self.rejected_ids[-200:],
            "mentioned_ids": mentioned_ids, "follow_up": self.follow_up,
            "list_ids": [m.id for m in self.films],  # the earlier list this turn ranked or narrowed
        }

    def describe(self) -> dict:
        """The plan as the API shows it, next to the understanding."""
        data = {}
        if self.follow_up:
            data["follow_up"] = self.follow_up
        if self.subject:
            data["subject"] = self.subject.label()
        if self.similar_to:
            data["similar_to"] = self.similar_to.label()
        if self.excluded_ids:
            data["excluded"] = len(self.excluded_ids)
        if self.films:
            data["of_earlier"] = len(self.films)
        return data


def resolve(question: str, u: Understanding, turns: list[dict], store: SearchStore) -> Plan:
    """The plan for `question` (already understood as `u`) after `turns` (oldest first, from the log)."""
    u = copy.deepcopy(u)
    plan = Plan(u)
    turns = [t for t in turns if (t.get("understanding") or {}).get("intent") != "small_talk"]  # "thanks!" keeps the film
    last = turns[-1] if turns else None
    last_state = (last or {}).get("understanding") or {}
    plan.known_films = _known_films(turns)
    plan.suggested_ids = list(last_state.get("suggested_ids") or [])
    plan.rejected_ids = list(last_state.get("rejected_ids") or [])
    for turn in turns:  # a -1 on an answer turns down the films it suggested
        if turn.get("feedback", 0) < 0 and (turn.get("understanding") or {}).get("intent") == "recommendation":
            plan.rejected_ids += [i for i in (turn.get("grounding") or {}).get("mentioned_ids", [])
                                  if i not in plan.rejected_ids]
    if u.intent == "small_talk":
        return plan
    plan.rejected_ids += [i for i in _rejected(question, plan.known_films, store) if i not in plan.rejected_ids]
    short = len(question.split()) <= SHORT_FOLLOW_UP_WORDS

    if last is not None and u.intent == "comparison" and any(FILM_PRONOUN.fullmatch(t) for t in u.titles):
        plan.subject = _last_subject(last, last_state, store, lists=True)
        plan.follow_up = "film" if plan.subject is not None else ""
    elif last is not None and short and u.intent != "comparison" and (
            _compare_with_subject(question, u, plan, last, last_state, store)
            or _operate_on_list(question, u, plan, turns, store)):
        return plan
    elif last is not None and u.intent == "filmography" and u.person:
        pass  # "what else did Fincher make?" names its person: a filmography, not more of the last list
    elif last is not None and short and u.intent != "comparison":
        named = u.film is not None  # a film the question names wins over "it": "good will hunting, is it sad?"
        subject = _sequel(question, last, last_state, store) \
            or (None if named else _referred_film(question, last, last_state, store)) \
            or _role_of(question, u, last, last_state, store) \
            or (None if named else _shortened_title(question, u, last, last_state, store))
        if subject is None and u.film is None and asks_fields_only(question):  # "and the budget?"
            subject = _last_subject(last, last_state, store)
        if ELLIPSIS.search(question) and u.intent == "general" and last_state.get("intent") in ABOUT_ONE_FILM:
            u.intent, u.fact_fields = last_state["intent"], list(last_state.get("fact_fields") or [])  # "and part 2?"
        person = _referred_person(question, u, last, last_state, store)
        previous_recommendation = last_state.get("intent") == "recommendation"
        follow_recommendation = bool(SIMILAR.search(question) or MORE.search(question)
                                     or OLDER.search(question) or NEWER.search(question))
        if person and PERSON_WORK.search(question):
            u.intent, u.person, u.filters.person, u.topic = "filmography", person, person, ""
            plan.follow_up = "person"
        elif follow_recommendation and not PERSON_REF.search(question) and (
                previous_recommendation or subject is not None or _last_subject(last, last_state, store)):
            seed = subject or (None if previous_recommendation else _last_subject(last, last_state, store))
            _follow_recommendation(question, u, plan, last, last_state, seed, store)
        elif subject is not None:
            plan.subject = subject
            plan.follow_up = "film"
            if u.intent in ("recommendation", "general") and not u.filters.to_dict():
                u.intent = "general"

    if u.intent == "recommendation" and plan.similar_to is None:
        plan.similar_to = _similar_to(question, store)
        if plan.similar_to is not None and not plan.follow_up:
            u.topic = ""
    if u.intent == "recommendation":
        excluded = plan.suggested_ids + plan.rejected_ids
        if plan.similar_to is not None:
            excluded.append(plan.similar_to.id)
        plan.excluded_ids = list(dict.fromkeys(excluded))
    return plan


def similarity_text(movie: Movie) -> str:
    """A search text for films like `movie`: its title words, keywords and genres."""
    return " ".join([movie.title] + movie.keywords[:SIMILAR_KEYWORDS] + movie.genres)


def people_in(text: str, store: SearchStore) -> list[str]:
    """The people (as the index knows them) named in `text`, in order of appearance."""
    runs = [m.group(0) for m in re.finditer(r"[A-ZÀ-Þ][\w'’.-]+(?:\s+[A-ZÀ-Þ][\w'’.-]+){1,3}", text)]
    candidates = []
    for run in runs:
        words = run.split()
        # the run itself, then its 2- and 3-word pieces ("Stars Sigourney Weaver" -> "Sigourney Weaver")
        pieces = [run] + [" ".join(words[i:i + n]) for n in (3, 2) for i in range(len(words) - n + 1)]
        candidates.extend(p.strip(".,'’") for p in pieces)
    known = set(store.known_people(list(dict.fromkeys(candidates)))) if candidates else set()
    found = []
    for run in runs:
        words = run.split()
        pieces = [run] + [" ".join(words[i:i + n]) for n in (3, 2) for i in range(len(words) - n + 1)]
        for piece in pieces:
            piece = piece.strip(".,'’")
            if piece in known and piece not in found:
                found.append(piece)
                break
    return found


# -- helpers -------------------------------------------------------------------------------------

def _compare_with_subject(question: str, u: Understanding, plan: Plan, last: dict, state: dict,
                          store: SearchStore) -> bool:
    """ "is empire strikes back rated higher?" after Star Wars: the film named against the one discussed."""
    title = implied_comparison(question) if u.rank else None
    subject = _last_subject(last, state, store) if title else None
    hits = store.search(title, k=1) if subject is not None else []
    if not hits or hits[0].movie.id == subject.id:
        return False
    plan.films, plan.follow_up = [subject, hits[0].movie], "comparison"
    u.intent, u.filters, u.titles = "comparison", Filters(), [subject.title, hits[0].movie.title]
    return True


def _operate_on_list(question: str, u: Understanding, plan: Plan, turns: list[dict], store: SearchStore) -> bool:
    """Rank or narrow the films the earlier answer listed: "which of those is the oldest?", "only the
    comedies". False when the question is not such an operation (or there is no list to apply it to)."""
    asked = parse_filters(question.lower())
    text = question.strip(" ?!.")
    ranking = u.rank if RANK_REF.search(text) else None  # "which of those is the oldest?"
    fact = None if u.rank or not THEY_REF.search(text) else next(  # "how long are they?"
        (FACT_RANKS[f] for f in u.fact_fields if f in FACT_RANKS), None)
    narrowing = not u.rank and not asked.is_empty() and NARROW_REF.search(text)  # "only the comedies"
    rank = ranking or fact
    if not (rank or narrowing):
        return False
    last_intent = (turns[-1].get("understanding") or {}).get("intent")
    films: list[Movie] = []
    if last_intent not in LIST_TURNS and PAIR_REF.search(question):
        films = _last_subjects(turns, 2, store)
    list_turn = next((t for t in reversed(turns[-LIST_TURNS_BACK:])
                      if (t.get("understanding") or {}).get("intent") in LIST_TURNS), None)
    if not films and list_turn is not None:
        films = _earlier_list(list_turn, store)
    if len(films) < 2:
        return False
    plan.follow_up = "list"
    if rank:
        plan.films = [m for m in films if asked.accepts(m)] or films
        u.intent, u.filters, u.rank = "comparison", asked, rank
        return True
    last_state = (list_turn or turns[-1]).get("understanding") or {}
    base = Filters(**{k: v for k, v in (last_state.get("filters") or {}).items() if k in Filters.__dataclass_fields__})
    for name, value in asked.to_dict().items():
        setattr(base, name, value)
    u.intent, u.filters, u.topic = last_state.get("intent"), base, last_state.get("topic") or ""
    u.person = last_state.get("person")
    if u.intent == "comparison":
        u.intent = "recommendation"
    plan.films = [m for m in films if base.accepts(m)]  # none kept: search again with the narrowed filters
    return True


def _earlier_list(turn: dict, store: SearchStore) -> list[Movie]:
    """The films a list answer gave, in its order: its sources (of a recommendation, those it named;
    of an earlier ranking or narrowing, the whole list it worked on)."""
    state = turn.get("understanding") or {}
    mentioned = (turn.get("grounding") or {}).get("mentioned_ids") or []
    ids = [s.get("id") for s in turn.get("sources") or []]
    if state.get("list_ids"):
        ids = state["list_ids"]
    elif state.get("intent") == "recommendation" and len(set(mentioned) & set(ids)) >= 2:
        ids = [i for i in ids if i in mentioned]  # the suggestions it named, not every film it was given
    found = {m.id: m for m in store.get(ids)}
    return [found[i] for i in ids if i in found]


def _last_subjects(turns: list[dict], count: int, store: SearchStore) -> list[Movie]:
    """The last `count` different films the conversation was about, oldest first ("which of the two")."""
    ids: list[int] = []
    for turn in reversed(turns):
        subject = (turn.get("understanding") or {}).get("subject_id")
        if subject is not None and subject not in ids:
            ids.insert(0, subject)
        if len(ids) == count:
            break
    found = {m.id: m for m in store.get(ids)}
    return [found[i] for i in ids if i in found]


def _known_films(turns: list[dict]) -> list[dict]:
    seen, films = set(), []
    for turn in turns:
        for source in turn.get("sources") or []:
            if source.get("id") not in seen:
                seen.add(source.get("id"))
                films.append(source)
    return films


def _referred_film(question: str, last: dict, state: dict, store: SearchStore) -> Movie | None:
    """The film "it" / "the second one" means: the earlier turn's subject, or one it listed."""
    # after a ranking, "the third one" still counts in the list that was ranked
    mentioned = state.get("list_ids") or (last.get("grounding") or {}).get("mentioned_ids") or []
    ordinal = ORDINAL_REF.search(question)
    if ordinal and mentioned:
        index = ORDINALS[ordinal.group(1).lower()]
        if -len(mentioned) <= index < len(mentioned):
            return next(iter(store.get([mentioned[index]])), None)
    if not FILM_REF.search(question):
        return None
    return _last_subject(last, state, store, lists=True)


def _role_of(question: str, u: Understanding, last: dict, state: dict, store: SearchStore) -> Movie | None:
    """The film being discussed, when the question asks about it without naming any film: "what's the
    rating?", "who's the lead?", or a character of it ("who plays the joker?", "who voices Joy?")."""
    if u.intent not in ABOUT_ONE_FILM or (u.film is not None and not ROLE.search(question)):
        return None
    subject = _last_subject(last, state, store)
    if subject is None:
        return None
    if not named_words(question):
        return subject
    role = ROLE.search(question)
    words = set(named_words(f"{subject.title} {subject.overview} {subject.tagline}"))
    return subject if role and set(named_words(role.group(1))) <= words else None


def _sequel(question: str, last: dict, state: dict, store: SearchStore) -> Movie | None:
    """The sequel "part 2" / "the sequel" means: the film of the last turn's series with that number."""
    m = SEQUEL.search(question)
    subject = _last_subject(last, state, store, lists=True) if m else None
    if subject is None:
        return None
    number = (m.group(1) or "2").lower()
    number = NUMBERS.get(number, number)
    base = re.sub(r" (part )?(1|one|i)$", "", title_key(subject.title))
    wanted = {f"{base} {number}", f"{base} part {number}", f"{base} chapter {number}"}
    hits = store.search(f"{subject.title} {number}", k=10)
    return next((h.movie for h in hits if title_key(h.movie.title) in wanted), None)


def _shortened_title(question: str, u: Understanding, last: dict, state: dict, store: SearchStore) -> Movie | None:
    """The film of the last turn that the question names by part of its title ("who directed
    empire?" after The Empire Strikes Back)."""
    words = set(named_words(question))
    if u.intent not in ABOUT_ONE_FILM or not words:
        return None
    mentioned = (last.get("grounding") or {}).get("mentioned_ids") or []
    ids = list(dict.fromkeys(([state["subject_id"]] if state.get("subject_id") is not None else []) + mentioned))
    return next((m for m in store.get(ids) if words <= set(named_words(m.title))), None)


def _last_subject(last: dict, state: dict, store: SearchStore, lists: bool = False) -> Movie | None:
    """The film the earlier turn was about; with `lists`, also the first film of a list it gave."""
    if state.get("intent") in ("recommendation", "filmography") and not lists:
        return None
    mentioned = (last.get("grounding") or {}).get("mentioned_ids") or []
    subject = state.get("subject_id")
    if subject is None:
        subject = mentioned[0] if mentioned else ((last.get("sources") or [{}])[0].get("id"))
    return next(iter(store.get([subject])), None) if subject is not None else None


def _referred_person(question: str, u: Understanding, last: dict, state: dict, store: SearchStore) -> str | None:
    """The person "she" / "him" means: the earlier question's person, else the first the earlier answer names."""
    if not PERSON_REF.search(question) or u.person:
        return None
    if state.get("person"):
        return state["person"]
    people = people_in(last.get("answer") or "", store)
    return people[0] if people else None


def _follow_recommendation(question: str, u: Understanding, plan: Plan, last: dict, state: dict,
                           subject: Movie | None, store: SearchStore) -> None:
    """Turn a short follow-up into a recommendation that continues the conversation's last one."""
    plan.follow_up = "recommendation"
    asked = u.filters
    if state.get("intent") == "recommendation":
        base = Filters(**{k: v for k, v in (state.get("filters") or {}).items() if k in Filters.__dataclass_fields__})
        u.topic = state.get("topic") or ""
        if state.get("similar_to_id") is not None:
            plan.similar_to = next(iter(store.get([state["similar_to_id"]])), None)
        reference_years = [f.get("year") for f in plan.known_films
                           if f.get("id") in ((last.get("grounding") or {}).get("mentioned_ids") or [])
                           and f.get("year")]
    else:
        base = Filters()
        plan.similar_to = subject
        u.topic = ""
        reference_years = [subject.year] if subject is not None and subject.year else []
    # what the follow-up asks for itself wins over what is carried over
    for name, value in asked.to_dict().items():
        setattr(base, name, value)
    # "anything else, but nothing scary" after horror films: a genre turned down is no longer wanted
    base.genres = [g for g in base.genres if g not in asked.exclude_genres]
    base.exclude_genres = [g for g in base.exclude_genres if g not in asked.genres]
    if OLDER.search(question) and asked.year_max is None:
        reference = base.year_min or (plan.similar_to.year if plan.similar_to else None) or min(reference_years,
                                                                                                 default=None)
        if reference:
            base.year_min, base.year_max = None, reference - 1
    elif NEWER.search(question) and asked.year_min is None:
        reference = base.year_max or (plan.similar_to.year if plan.similar_to else None) or max(reference_years,
                                                                                                 default=None)
        if reference:
            base.year_min, base.year_max = reference + 1, None
    u.filters = base
    u.intent = "recommendation"
    u.person = None


def _similar_to(question: str, store: SearchStore) -> Movie | None:
    """The film of "movies like Alien" / "similar to Toy Story", when the index has that exact title."""
    match = SIMILAR_TO.search(question)
    if not match:
        return None
    return _exact_title(match.group(1), store)


def _exact_title(text: str, store: SearchStore) -> Movie | None:
    key = normalize_title(text)
    if not key:
        return None
    hits = [h.movie for h in store.search(text, k=5)]
    exact = [m for m in hits if normalize_title(m.title) == key]
    return max(exact, key=lambda m: m.vote_count) if exact else None


def _rejected(question: str, known: list[dict], store: SearchStore) -> list[int]:
    """Films the question turns down: "I've seen Alien", "not Aliens", "anything but Toy Story"."""
    ids = []
    for match in REJECT.finditer(question):
        span = match.group(1).strip()
        key = normalize_title(span)
        if not key or key in ("that", "that one", "this", "this one", "it", "those", "them", "one", "any", "really"):
            continue
        whole = _exact_title(span, store) if (span[:1].isupper() or len(span.split()) >= 2) else None
        if whole is not None:  # "Harry and the Hendersons" is one title
            ids.append(whole.id)
            continue
        for part in re.split(r"\s+(?:or|and|nor)\s+|,\s*", span):
            part_key = normalize_title(part)
            if not part_key:
                continue
            matches = [f["id"] for f in sorted(known, key=lambda f: -len(f.get("title") or ""))
                       if normalize_title(f.get("title") or "")
                       and re.search(rf"(?<!\w){re.escape(normalize_title(f['title']))}(?!\w)", part_key)]
            if matches:
                ids.append(matches[0])
            elif part[:1].isupper() or len(part.split()) >= 2:
                # a title from the whole index only when it is capitalised or several words long
                movie = _exact_title(part, store)
                if movie is not None:
                    ids.append(movie.id)
    return list(dict.fromkeys(ids))
