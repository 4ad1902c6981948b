"""Which records a question is answered from: one policy for `/question`, `GET /search`, the CLI's
`search` and `evaluate`, so the same text finds the same films everywhere."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .conversation import FILM_PRONOUN, Plan, similarity_text
from .linking import CONFIDENT, Linker, missing_title
from .movies import Movie, rank_films
from .query import LIST_INTENTS, Understanding, understand
from .search import Filters, Hit, SearchStore
from .vocabulary import RANKINGS

FILMOGRAPHY_LIMIT = 500
NAMES_ONE_FILM = ("fact", "director", "cast", "plot", "review")  # questions that name the film they are about
MAX_EXCLUDED = 200  # films left out of a recommendation at most (the conversation's suggestions)


@dataclass
class Retrieval:
    """The films found, and the filters they were searched with."""

    hits: list[Hit]
    filters: Filters = field(default_factory=Filters)
    missing_title: str | None = None  # the film the question names is not in the catalogue

    @property
    def movies(self) -> list[Movie]:
        return [h.movie for h in self.hits]


class Retriever:
    """Turns an understood question (and the conversation's plan) into searches of one store."""

    def __init__(self, store: SearchStore, top_k: int = 10):
        self.store, self.top_k = store, top_k
        self.linker = Linker(store)

    def understand(self, text: str) -> Understanding:
        return understand(text, self.store.known_people, linker=self.linker)

    def search(self, text: str, k: int | None = None, method: str | None = None,
               stated: dict | None = None) -> Retrieval:
        """A text searched as a new conversation's question would be (`GET /search`, the CLI's `search`).

        `stated`: filters the caller gives explicitly, by name; they win over those parsed from the text.
        """
        # a search is never small talk: "hi" looks for films called so
        u = understand(text, self.store.known_people, acts=False, linker=self.linker) if text.strip() \
            else Understanding("general")
        found = self.retrieve(text, u, k=k, method=method, stated=stated)
        return replace(found, hits=found.hits[: k or self.top_k])

    def retrieve(self, question: str, u: Understanding, plan: Plan | None = None, k: int | None = None,
                 method: str | None = None, stated: dict | None = None) -> Retrieval:
        """What is fetched depends on the kind of question: each compared title, a person's whole
        filmography, a filtered list, or the question itself for one film."""
        plan = plan or Plan(u)
        k = k or self.top_k
        stated = stated or {}
        if u.intent == "small_talk":
            return Retrieval([])

        def search(text: str, filters: Filters | None, count: int) -> list[Hit]:
            return self.store.search(text, filters, k=count, method=method)

        if plan.films:  # an operation on an earlier answer's films: those films, ranked first by what is asked
            films = plan.films
            if u.rank in RANKINGS:
                order, missing = rank_films(films, RANKINGS[u.rank]["field"], RANKINGS[u.rank]["highest"])
                films = order + missing
            return Retrieval([Hit(m, 1.0) for m in films], u.filters)
        if u.intent == "comparison":
            found: dict[int, Hit] = {}
            for title in u.titles:
                hits = self._compared(title, plan) or search(title, None, 1)
                if hits:
                    found.setdefault(hits[0].movie.id, hits[0])
            return Retrieval(list(found.values()))
        filters = replace(u.filters, **stated)
        if u.intent == "filmography" and u.person:
            # every film of the person that the question's other filters ("in the 90s") accept
            filters = replace(filters, person=filters.person or u.person)
            hits = search("", filters, FILMOGRAPHY_LIMIT)
            return Retrieval(sorted(hits, key=lambda h: h.movie.release_date or "9999"), filters)
        if u.intent == "recommendation":
            excluded = set(plan.excluded_ids[-MAX_EXCLUDED:])
            text = u.topic
            if plan.similar_to is not None:
                seed = plan.similar_to
                text = similarity_text(seed)
                if not filters.genres and seed.genres:
                    filters = replace(filters, genres=seed.genres[:1])
            hits = search(text, filters, min(k + len(excluded), 100 + k))
            return Retrieval([h for h in hits if h.movie.id not in excluded][:k], filters)
        if u.intent in LIST_INTENTS and (plan.subject is None or not filters.is_empty()):
            return Retrieval(search(u.topic, filters, k), filters)
        # one film: its words are the query; parsed filters would drop it ("a family", "a French chef")
        filters = Filters(**stated)
        hits = search(question, filters if stated else None, k)
        subject = plan.subject
        if subject is None and u.film is not None and not stated:
            subject = next(iter(self.store.get([u.film.id])), None)  # "avatar" is the 2009 film
        if subject is not None:
            first = Hit(subject, hits[0].score if hits else 0.0, hits[0].method if hits else "lexical")
            hits = [first] + [h for h in hits if h.movie.id != subject.id]
        elif u.intent in NAMES_ONE_FILM and not stated and u.film is None and not u.person:
            missing = missing_title(question, [h.movie.title for h in hits])
            return Retrieval(hits, filters, missing)
        return Retrieval(hits, filters)

    def _compared(self, title: str, plan: Plan) -> list[Hit]:
        """The film one title of a comparison names: the film being discussed for "it", else the
        linked title (despite typos and shortening)."""
        if plan.subject is not None and FILM_PRONOUN.fullmatch(title.strip()):
            return [Hit(plan.subject, 1.0)]
        link = self.linker.film(title)
        if link is None or link.confidence < CONFIDENT:
            return []
        return [Hit(m, link.confidence) for m in self.store.get([link.id])]
