"""HTTP routes, one blueprint per area: questions (+feedback, streaming), search, health.

Streaming (`POST /question/stream`, or `POST /question` with `Accept: text/event-stream`) sends
server-sent events, each `event: NAME` and one `data:` line of JSON:

    start   {"conversation_id", "answer_id", "turn", "question", "sources": [cards], "understanding"}
    token   {"text": "..."}                  one per chunk, as the model produces them
    done    the JSON answer of POST /question, with `sources` as cards (+ genres, vote_average,
            vote_count, overview), `usage` (token counts), `cost`, `timing` (incl. time_to_first_token)
            and `grounding`; its `answer` is the final text (the grounding check may have repaired it)
    error   {"error": "...", "status": 503}  the model failed after the stream began

A failure before the first token (bad input, unknown conversation, index, model or database down) is
an ordinary JSON error response with its status code, as for POST /question.
"""

from __future__ import annotations

import json
import logging
import uuid
from itertools import chain

from flask import Blueprint, Response, jsonify, request, stream_with_context

from . import TMDB_ATTRIBUTION
from .app import BadRequest, services
from .llm import ModelUnavailable
from .logstore import LogStoreUnavailable
from .query import understand
from .search import METHODS, Filters, SearchUnavailable

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000

questions = Blueprint("questions", __name__)
search = Blueprint("search", __name__)
health = Blueprint("health", __name__)


def json_body(allowed: set[str]) -> dict:
    """The request's JSON object, or BadRequest naming what is wrong with it."""
    if not request.is_json:
        raise BadRequest("send a JSON body with Content-Type: application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    return body


def conversation_id_field(body: dict, required: bool) -> str | None:
    value = body.get("conversation_id")
    if value is None:
        if required:
            raise BadRequest("conversation_id is required")
        return None
    if not isinstance(value, str):
        raise BadRequest("conversation_id must be a string")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise BadRequest("conversation_id must be a UUID returned by /question") from None


def question_fields() -> tuple[str, str | None]:
    body = json_body({"question", "conversation_id"})
    question = body.get("question")
    if not isinstance(question, str) or not question.strip():
        raise BadRequest("question must be a non-empty string")
    if len(question) > MAX_QUESTION_CHARS:
        raise BadRequest(f"question is longer than {MAX_QUESTION_CHARS} characters")
    return question.strip(), conversation_id_field(body, required=False)


def wants_event_stream() -> bool:
    accept = request.accept_mimetypes
    return accept["text/event-stream"] > accept["application/json"]


@questions.post("/question")
def ask():
    question, conversation_id = question_fields()
    if wants_event_stream():
        return event_stream(question, conversation_id)
    answer = services().assistant.answer(question, conversation_id)
    return jsonify(answer.to_dict())


@questions.post("/question/stream")
def ask_stream():
    question, conversation_id = question_fields()
    return event_stream(question, conversation_id)


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
    body = json_body({"conversation_id", "feedback", "answer_id"})
    conversation_id = conversation_id_field(body, required=True)
    value = body.get("feedback")
    if type(value) is not int or value not in (1, -1):
        raise BadRequest("feedback must be 1 or -1")
    answer_id = body.get("answer_id")
    if answer_id is not None and not isinstance(answer_id, str):
        raise BadRequest("answer_id must be a string")
    answer_id = services().log.save_feedback(conversation_id, value, answer_id)
    return jsonify({
        "message": f"Feedback received for conversation {conversation_id}: {value}",
        "conversation_id": conversation_id,
        "answer_id": answer_id,
        "feedback": value,
    })


FILTER_PARAMS = {
    "year_min": int, "year_max": int, "language": str, "min_rating": float, "min_votes": int,
    "runtime_min": int, "runtime_max": int, "person": str,
}


@search.get("/search")
def search_movies():
    q = request.args.get("q", "").strip()
    if len(q) > MAX_QUESTION_CHARS:
        raise BadRequest(f"q is longer than {MAX_QUESTION_CHARS} characters")
    try:
        k = int(request.args.get("k", "10"))
    except ValueError:
        raise BadRequest("k must be an integer") from None
    if not 1 <= k <= 100:
        raise BadRequest("k must be between 1 and 100")
    svc = services()
    understanding = understand(q, svc.store.known_people) if q else None
    filters = understanding.filters if understanding else Filters()
    for name, kind in FILTER_PARAMS.items():
        if name in request.args:
            try:
                setattr(filters, name, kind(request.args[name]))
            except ValueError:
                raise BadRequest(f"{name} must be a {kind.__name__}") from None
    if request.args.getlist("genre"):
        filters.genres = request.args.getlist("genre")
    method = request.args.get("method") or svc.store.method
    if method not in METHODS:
        raise BadRequest(f"method must be one of {', '.join(METHODS)}")
    text = understanding.topic if understanding and understanding.intent in ("recommendation",) else q
    hits = svc.store.search(text, filters, k=k, method=method)
    return jsonify({
        "query": q,
        "results": [hit.to_dict() for hit in hits],
        "filters": filters.to_dict(),
        "method": hits[0].method if hits else method,  # "lexical" when hybrid had no vectors to use
        "attribution": TMDB_ATTRIBUTION,
    })


@health.get("/health")
def health_check():
    """What works and what does not; 503 when the app cannot answer. Never shows secrets."""
    svc = services()
    report, ok = {}, True
    try:
        report["index"] = {"status": "ok", "backend": svc.settings.search_backend, "movies": svc.store.count(),
                           "method": svc.store.method, "vectors": svc.store.has_vectors()}
    except Exception as exc:  # report every failure, whatever its kind
        report["index"] = {"status": "unavailable", "backend": svc.settings.search_backend, "error": str(exc)}
        ok = False
    try:
        report["database"] = {"status": "ok", "store": svc.log.describe(), "schema_version": svc.log.schema_version()}
    except Exception as exc:
        report["database"] = {"status": "unavailable", "store": svc.log_store.describe(), "error": str(exc)}
        ok = False
    report["model"] = {"provider": svc.settings.llm_provider, "status": svc.provider.status()}
    if svc.settings.fallback_chain:
        report["model"]["fallback"] = svc.settings.fallback_chain
    report["judge"] = {"provider": svc.settings.judge_provider}
    report["status"] = "ok" if ok else "degraded"
    return jsonify(report), 200 if ok else 503
