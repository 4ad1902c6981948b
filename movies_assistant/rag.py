"""The answer pipeline: understand -> retrieve -> prompt -> generate -> log (judge runs afterwards)."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass

from .llm import AnswerRequest, ModelProvider
from .logstore import AnswerRecord, LogStore, UnknownConversation
from .movies import Movie
from .prompts import build_messages
from .query import LIST_INTENTS, Understanding, understand
from .search import Filters, SearchStore

FILMOGRAPHY_LIMIT = 500
HISTORY_TURNS = 6
FOLLOW_UP = re.compile(r"\b(it|its|that (movie|film|one)|this (movie|film|one)|the (movie|film))\b", re.I)


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

    def to_dict(self) -> dict:
        return {
            "answer": self.answer, "conversation_id": self.conversation_id, "answer_id": self.answer_id,
            "question": self.question, "sources": self.sources, "model": self.model,
            "understanding": self.understanding, "response_time": round(self.response_time, 4),
        }


class Assistant:
    """Answers questions with one search store, one model provider and one log store."""

    def __init__(self, store: SearchStore, provider: ModelProvider, log: LogStore, top_k: int = 10,
                 judge=None):
        self.store, self.provider, self.log, self.top_k, self.judge = store, provider, log, top_k, judge

    def understand(self, question: str) -> Understanding:
        return understand(question, self.store.known_people)

    def retrieve(self, question: str, u: Understanding, history: list[dict] | None = None) -> list[Movie]:
        """The records to answer from; what is fetched depends on the kind of question."""
        if u.intent == "comparison":
            found: dict[int, Movie] = {}
            for title in u.titles:
                hits = self.store.search(title, k=1)
                if hits:
                    found.setdefault(hits[0].movie.id, hits[0].movie)
            return list(found.values())
        if u.intent == "filmography" and u.person:
            hits = self.store.search("", Filters(person=u.person), k=FILMOGRAPHY_LIMIT)
            return sorted((h.movie for h in hits), key=lambda m: m.release_date or "9999")
        if u.intent in LIST_INTENTS:
            return [h.movie for h in self.store.search(u.topic, u.filters, k=self.top_k)]
        movies = [h.movie for h in self.store.search(question, k=self.top_k)]
        previous = _previous_subject(history)
        if previous is not None and FOLLOW_UP.search(question) and len(question.split()) <= 10:
            subject = self.store.get([previous])
            movies = subject + [m for m in movies if m.id != previous]
        return movies

    def answer(self, question: str, conversation_id: str | None = None) -> Answer:
        started = time.perf_counter()
        history: list[dict] = []
        turn = 1
        if conversation_id:
            turn = self.log.last_turn(conversation_id) + 1
            if turn == 1:
                raise UnknownConversation(conversation_id)
            history = self.log.history(conversation_id, HISTORY_TURNS)
        else:
            conversation_id = str(uuid.uuid4())
        u = self.understand(question)
        movies = self.retrieve(question, u, history)
        retrieval_time = time.perf_counter() - started
        request = AnswerRequest(question, u, movies, build_messages(question, movies[: self.top_k], history))
        completion = self.provider.generate(request)
        sources = [{"id": m.id, "title": m.title, "year": m.year} for m in movies[: max(self.top_k, 1)]]
        if u.intent == "filmography":
            sources = [{"id": m.id, "title": m.title, "year": m.year} for m in movies]
        response_time = time.perf_counter() - started
        record = AnswerRecord(
            id=str(uuid.uuid4()), conversation_id=conversation_id, turn=turn, question=question,
            answer=completion.text, model_used=completion.model, response_time=response_time,
            retrieval_time=retrieval_time, prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens, sources=sources,
        )
        self.log.save_answer(record)
        if self.judge is not None:
            self.judge.submit(record.id, question, completion.text)
        return Answer(record.id, conversation_id, question, completion.text, completion.model, sources,
                      u.to_dict(), response_time)


def _previous_subject(history: list[dict] | None) -> int | None:
    if history and history[-1]["sources"]:
        return history[-1]["sources"][0]["id"]
    return None
