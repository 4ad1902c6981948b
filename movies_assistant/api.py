"""HTTP routes, one blueprint per area: questions (+feedback, streaming), search, health, docs.

Request bodies and `/search` parameters are validated by the models of schemas.py (400 naming each
invalid field, 415 for a body that is not JSON); `GET /openapi.json` is the document built from them.

Streaming (`POST /question/stream`, or `POST /question` with `Accept: text/event-stream`) sends
server-sent events, each `event: NAME` and one `data:` line of JSON:

    start   {"conversation_id", "answer_id", "turn", "question", "sources": [cards], "understanding"};
            `turn` is the one expected, which a concurrent follow-up may take first: `done` has the logged one
    token   {"text": "..."}                  one per chunk, as the model produces them
    done    the JSON answer of POST /question, with `sources` as cards (+ genres, vote_average,
            vote_count, overview), `usage` (token counts), `cost`, `timing` (incl. time_to_first_token)
            and `grounding`; its `answer` is the final text (the grounding check may have repaired it),
            `answer_html` the same as sanitised HTML (rendering.py), which the chat page shows
    error   {"error": "...", "status": 503}  the model failed after the stream began

A failure before the first token (bad input, unknown conversation, index, model or database down) is
an ordinary JSON error response with its status code, as for POST /question.
"""

from __future__ import annotations

import json
import logging
import uuid
from itertools import chain
from typing import TypeVar

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import UnsupportedMediaType

from . import TMDB_ATTRIBUTION
from .access import protected_paths
from .app import BadRequest, services
from .llm import ModelUnavailable
from .logstore import LogStoreUnavailable
from .schemas import FeedbackRequest, QuestionRequest, SearchParams, openapi_document, validation_errors
from .search import SearchUnavailable

log = logging.getLogger(__name__)

# /search parameters that set a filter of the same name (genre sets `genres`)
FILTER_NAMES = ("year_min", "year_max", "language", "min_rating", "min_votes", "runtime_min", "runtime_max",
                "person")

questions = Blueprint("questions", __name__)
search = Blueprint("search", __name__)
health = Blueprint("health", __name__)
docs = Blueprint("docs", __name__)

M = TypeVar("M", bound=BaseModel)


def invalid(exc: ValidationError, model: type[BaseModel]) -> BadRequest:
    message, details = validation_errors(exc, model)
    return BadRequest(message, details)


def json_body(model: type[M]) -> M:
    """The request's JSON body as `model`: 415 when it is not JSON, 400 naming each invalid field."""
    if not request.is_json:
        raise UnsupportedMediaType("send a JSON body with Content-Type: application/json")
    try:
        return model.model_validate_json(request.get_data(cache=False) or b"")
    except ValidationError as exc:
        raise invalid(exc, model) from None


def query_params(model: type[M]) -> M:
    args = {name: (request.args.getlist(name) if name in model.LISTS else value)
            for name, value in request.args.items()}
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        raise invalid(exc, model) from None


def optional_id(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def wants_event_stream() -> bool:
    accept = request.accept_mimetypes
    return accept["text/event-stream"] > accept["application/json"]


@questions.post("/question")
def ask():
    body = json_body(QuestionRequest)
    if wants_event_stream():
        return event_stream(body.question, optional_id(body.conversation_id))
    answer = services().assistant.answer(body.question, optional_id(body.conversation_id))
    return jsonify(answer.to_dict())


@questions.post("/question/stream")
def ask_stream():
    body = json_body(QuestionRequest)
    return event_stream(body.question, optional_id(body.conversation_id))


def sse(event: str, data) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def event_stream(question: str, conversation_id: str | None) -> Response:
    events = services().assistant.events(question, conversation_id)
    head = []
    for event in events:  # up to the first token: an error here is still a plain JSON error response
        head.append(event)
        if event.kind != "start":
            break

    def body():
        try:
            for event in chain(head, events):
                if event.kind == "token":
                    yield sse("token", {"text": event.data})
                elif event.kind == "done":
                    yield sse("done", event.data.to_dict(cards=True))
                else:
                    yield sse(event.kind, event.data)
        except (ModelUnavailable, SearchUnavailable, LogStoreUnavailable) as exc:
            log.warning("stream failed: %s", exc)
            yield sse("error", {"error": str(exc), "status": 503})
        except Exception:
            log.exception("stream failed")
            yield sse("error", {"error": "internal error; see the server log", "status": 500})
        finally:
            events.close()  # a client that hung up stops the model

    return Response(stream_with_context(body()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@questions.post("/feedback")
def feedback():
    body = json_body(FeedbackRequest)
    conversation_id, value = str(body.conversation_id), body.feedback
    answer_id = services().log.save_feedback(conversation_id, value, optional_id(body.answer_id))
    return jsonify({
        "message": f"Feedback received for conversation {conversation_id}: {value}",
        "conversation_id": conversation_id,
        "answer_id": answer_id,
        "feedback": value,
    })


@search.get("/search")
def search_movies():
    params = query_params(SearchParams)
    q = params.q.strip()
    svc = services()
    stated = {name: getattr(params, name) for name in FILTER_NAMES if name in params.model_fields_set}
    if params.genre:
        stated["genres"] = params.genre
    method = params.method or svc.store.method
    found = svc.retriever.search(q, k=params.k, method=method, stated=stated)
    hits, filters = found.hits, found.filters
    fallback = svc.store.search_fallback(method)
    return jsonify({
        "query": q,
        "results": [hit.to_dict() for hit in hits],
        "filters": filters.to_dict(),
        "method": hits[0].method if hits else method,  # "lexical" when hybrid had no vectors to use
        **({"fallback": {"method": "lexical", "reason": fallback}} if fallback else {}),
        "attribution": TMDB_ATTRIBUTION,
    })


@health.get("/health")
def health_check():
    """What works and what does not; 503 when the app cannot answer. Never shows secrets.

    A log database that does not take writes is no 503 while the spool takes them (`degraded`, with
    the backlog in `spooled`); when the spool cannot be written either, questions get 503 and so does this.
    """
    svc = services()
    report, ok = {}, True
    try:
        report["index"] = {"status": "ok", "backend": svc.settings.search_backend, "movies": svc.store.count(),
                           "method": svc.store.method, "vectors": svc.store.has_vectors()}
        if problems := svc.store.problems():  # an older build serving, or lexical search only
            report["index"].update(status="degraded", problems=problems)
    except Exception as exc:  # report every failure, whatever its kind
        report["index"] = {"status": "unavailable", "backend": svc.settings.search_backend, "error": str(exc)}
        ok = False
    report["database"] = svc.log.write_status()
    report["model"] = {"provider": svc.settings.llm_provider, "status": svc.provider.status()}
    if svc.settings.fallback_chain:
        report["model"]["fallback"] = svc.settings.fallback_chain
    report["judge"] = {"provider": svc.settings.judge_provider}
    logging_ok = report["database"]["status"] == "ok"
    ok = ok and (logging_ok or report["database"]["spool"]["status"] == "ok")
    down = not logging_ok or report["index"]["status"] != "ok"
    report["status"] = "unavailable" if not ok else "degraded" if down else "ok"
    return jsonify(report), 200 if ok else 503


@docs.get("/openapi.json")
def openapi():
    """The OpenAPI document, built from the same models that validate requests."""
    return jsonify(openapi_document(protected_paths(current_app)))
