"""The answer pipeline: understand -> follow the conversation -> retrieve -> prompt -> stream -> check -> log.

There is one path for every answer: `events()` yields a `start` event (the conversation, the
sources), one `token` event per chunk the model streams, and a `done` event with the finished
`Answer`. `answer()` is the same pipeline with the events consumed (the JSON endpoint, the `ask`
command). The relevance judge runs afterwards, off the request path.
"""

from __future__ import annotations


import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Iterator

from . import grounding as grounding_check
from .conversation import Plan, resolve
from .llm import AnswerRequest, ModelProvider
from .llm.composer import Composer, compose
from .logstore import AnswerRecord, LogStore, UnknownConversation
from .movies import Movie
from .pricing import cost as price_cost
from .prompts import GUIDANCE, build_messages, summarize_turns
from .query import Understanding
from .rendering import render
from .retrieval import FILMOGRAPHY_LIMIT, Retriever
from .search import SearchStore
from .search.base import normalize_title

log = logging.getLogger(__name__)

HISTORY_TURNS = 20  # turns read for a follow-up; older ones no longer count
PROMPT_TURNS = 3  # the latest turns quoted to the model; those before are summarised in one line
REVIEW_LABEL = "Generated opinion"


@dataclass
class Answer:
    answer_id: str
    conversation_id: str
    question: str
    answer: str
    model: str
    sources: list[dict]
    understanding: dict
    response_time: float
    cards: list[dict] = field(default_factory=list)  # the sources with genres and rating, for the chat page
    grounding: dict = field(default_factory=dict)
    usage: dict = field(default_factory=dict)
    cost: float = 0.0
    timing: dict = field(default_factory=dict)
    turn: int = 1

    def to_dict(self, cards: bool = False) -> dict:
        return {
            "answer": self.answer, "answer_html": render(self.answer, self.cards or self.sources, self.answer_id),
            "conversation_id": self.conversation_id, "answer_id": self.answer_id,
            "question": self.question, "sources": self.cards if cards else self.sources, "model": self.model,
            "understanding": self.understanding, "response_time": round(self.response_time, 4),
            "turn": self.turn, "grounding": self.grounding, "usage": self.usage, "cost": self.cost,
            "timing": self.timing,
        }


@dataclass
class Event:
    kind: str  # start | token | done
    data: object  # dict for start, str for token, Answer for done


class Assistant:
    """Answers questions with one search store, one model provider and one log store."""

    def __init__(self, store: SearchStore, provider: ModelProvider, log: LogStore, top_k: int = 10,
                 judge=None, grounding: str = "repair", prices: dict | None = None):
        self.store, self.provider, self.log, self.top_k, self.judge = store, provider, log, top_k, judge
        self.retriever = Retriever(store, top_k)
        self.grounding_policy = grounding
        self.prices = prices or {}

    def answer(self, question: str, conversation_id: str | None = None) -> Answer:
        """The whole answer at once (the stream, consumed)."""
        for event in self.events(question, conversation_id):
            if event.kind == "done":
                return event.data
        raise RuntimeError("the answer stream ended without an answer")  # pragma: no cover

    def events(self, question: str, conversation_id: str | None = None) -> Iterator[Event]:
        """The answer as it is made: `start`, then `token`s as the model streams them, then `done`.

        Raises UnknownConversation, SearchUnavailable, ModelUnavailable, LogStoreUnavailable. A caller
        that stops reading early (a client that went away) closes the generator: the model stops and
        what was said so far is logged, marked interrupted.
        """
        started = time.perf_counter()
        turns: list[dict] = []
        turn = 1
        if conversation_id:
            turns = self.log.turns(conversation_id, HISTORY_TURNS)
            if not turns:
                raise UnknownConversation(conversation_id)
            turn = turns[-1]["turn"] + 1
        else:
            conversation_id = str(uuid.uuid4())
        plan = resolve(question, self.retriever.understand(question), turns, self.store)
        u = plan.understanding
        found = self.retriever.retrieve(question, u, plan)
        movies = found.movies
        retrieval_time = time.perf_counter() - started

        records = movies[: self.top_k]
        shown = movies if u.intent == "filmography" else movies[: max(self.top_k, 1)]
        sources = [{"id": m.id, "title": m.title, "year": m.year} for m in shown]
        cards = [card(m) for m in shown]
        context = self._context(plan)
        if found.missing_title:
            context["missing_title"] = found.missing_title
        request = AnswerRequest(question, u, movies, self._messages(question, u, plan, records, turns,
                                                                    found.missing_title), context=context)
        understanding = {**u.to_dict(), **plan.describe()}
        if found.missing_title:
            understanding["missing_title"] = found.missing_title
        if fallback := self.store.search_fallback():
            understanding["search_fallback"] = {"method": "lexical", "reason": fallback}
        answer_id = str(uuid.uuid4())
        yield Event("start", {"conversation_id": conversation_id, "answer_id": answer_id, "turn": turn,
                              "question": question, "sources": cards, "understanding": understanding})

        generation_started = time.perf_counter()
        first_token_at = None
        prefix = f"{REVIEW_LABEL}: " if u.intent == "review" and self.provider.name != "composer" else ""
        parts: list[str] = [prefix] if prefix else []
        # small talk has a fixed reply: no model call for "hi"
        stream = (Composer() if u.intent == "small_talk" else self.provider).stream(request)
        try:
            if prefix:
                yield Event("token", prefix)
            for chunk in stream:
                if first_token_at is None:  # no leading whitespace before the model's first word
                    chunk = chunk.lstrip()
                    if not chunk:
                        continue
                    first_token_at = time.perf_counter()  # the model's first token, not our label
                parts.append(chunk)
                yield Event("token", chunk)
        except GeneratorExit:  # the reader went away: stop the model, log what was said
            stream.close()
            self._log_interrupted(answer_id, conversation_id, turn, question, "".join(parts), sources, plan,
                                  started, retrieval_time, generation_started, first_token_at)
            raise
        except BaseException:
            stream.close()
            raise
        completion = stream.completion
        generation_time = time.perf_counter() - generation_started
        text = (prefix + completion.text.strip()) if completion.text.strip() else "".join(parts).strip()
        if prefix and completion.text.strip().lower().startswith(REVIEW_LABEL.lower()):
            text = completion.text.strip()

        allowed = [{"id": m.id, "title": m.title, "year": m.year} for m in movies] + plan.known_films \
            + self._films_in(question)
        record_text = "\n".join(f"{m.overview}\n{m.tagline}" for m in movies[:FILMOGRAPHY_LIMIT])
        check = grounding_check.check(text, allowed, self.store, record_text)
        # the composer only writes record fields: a flag on its text is the check's mistake, not the answer's
        if not check.grounded and self.grounding_policy == "repair" and completion.model != "composer":
            repaired = grounding_check.repair(text, check)
            check.repaired, check.original_answer = True, text
            check.repair = "removed" if repaired else "replaced"
            text = repaired or compose(request)
            after = grounding_check.check(text, allowed, self.store, record_text)
            check.mentioned_ids = after.mentioned_ids
        model = completion.model
        if completion.fallback_from:
            model += f" (fallback from {', '.join(completion.fallback_from)})"
        answer_cost = price_cost(completion.model, completion.prompt_tokens, completion.completion_tokens,
                                 self.prices)
        response_time = time.perf_counter() - started
        ttft = (first_token_at - started) if first_token_at else response_time
        record = AnswerRecord(
            id=answer_id, conversation_id=conversation_id, turn=turn, question=question, answer=text,
            model_used=model, response_time=response_time, retrieval_time=retrieval_time,
            prompt_tokens=completion.prompt_tokens, completion_tokens=completion.completion_tokens, sources=sources,
            cost=answer_cost, time_to_first_token=ttft, generation_time=generation_time,
            grounding=check.to_dict(), understanding=plan.state(check.mentioned_ids, movies[0].id if movies else None),
        )
        turn = self.log.save_answer(record)  # another follow-up may have taken the expected turn first
        if self.judge is not None:
            self.judge.submit(record.id, question, text)
        yield Event("done", Answer(
            answer_id, conversation_id, question, text, model, sources, understanding, response_time,
            cards=cards, grounding=check.to_dict(),
            usage={"prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens,
                   "total_tokens": completion.prompt_tokens + completion.completion_tokens},
            cost=answer_cost,
            timing={"retrieval_time": round(retrieval_time, 4), "time_to_first_token": round(ttft, 4),
                    "generation_time": round(generation_time, 4), "response_time": round(response_time, 4)},
            turn=turn,
        ))

    # -- helpers -----------------------------------------------------------------------------
    def _log_interrupted(self, answer_id, conversation_id, turn, question, text, sources, plan, started,
                         retrieval_time, generation_started, first_token_at) -> None:
        now = time.perf_counter()
        try:
            self.log.save_answer(AnswerRecord(
                id=answer_id, conversation_id=conversation_id, turn=turn, question=question, answer=text.strip(),
                model_used=self.provider.name, response_time=now - started, retrieval_time=retrieval_time,
                sources=sources, time_to_first_token=(first_token_at - started) if first_token_at else 0.0,
                generation_time=now - generation_started, grounding={"interrupted": True},
                understanding=plan.state([]),
            ))
        except Exception:  # logging must not turn a hang-up into a crash
            log.exception("could not log the interrupted answer %s", answer_id)

    def _messages(self, question: str, u: Understanding, plan: Plan, records: list[Movie],
                  turns: list[dict], missing_title: str | None = None) -> list[dict]:
        quoted = turns[-PROMPT_TURNS:]
        older = turns[:-PROMPT_TURNS]
        films = {f["id"]: f"{f['title']} ({f['year']})" if f.get("year") else f["title"] for f in plan.known_films}
        guidance = [GUIDANCE.get(u.intent, "")]
        if missing_title:
            guidance.append(f"The catalogue has no film called {missing_title}: say so first, then offer the "
                            "nearest titles from the records; do not answer as if one of them were it.")
        if plan.subject is not None:
            guidance.append(f"In the question, \"it\" means {plan.subject.label()}.")
        if u.intent == "filmography" and u.person and plan.follow_up == "person":
            guidance.append(f"The question is about {u.person}.")
        if plan.similar_to is not None:
            guidance.append(f"The user wants films like {plan.similar_to.label()}.")
        return build_messages(question, records, quoted, " ".join(g for g in guidance if g),
                              summarize_turns(older, films))

    @staticmethod
    def _context(plan: Plan) -> dict:
        context = {}
        if plan.similar_to is not None:
            context["similar_to"] = plan.similar_to.label()
        if plan.excluded_ids and plan.suggested_ids + plan.rejected_ids:
            context["excluded"] = len(plan.excluded_ids)
        return context

    def _films_in(self, question: str) -> list[dict]:
        """Films the question itself names (an answer may name them too)."""
        key = f" {normalize_title(question)} "
        try:
            hits = self.store.search(question, k=10)
        except Exception:  # the check is best effort; retrieval already worked
            return []
        return [{"id": h.movie.id, "title": h.movie.title, "year": h.movie.year} for h in hits
                if normalize_title(h.movie.title) and f" {normalize_title(h.movie.title)} " in key]


def card(m: Movie) -> dict:
    """A source as the chat page shows it."""
    return {"id": m.id, "title": m.title, "year": m.year, "genres": m.genres[:4],
            "vote_average": round(m.vote_average, 1), "vote_count": m.vote_count,
            "overview": (m.overview[:220] + "...") if len(m.overview) > 220 else m.overview}
