"""What the HTTP API accepts and returns, as pydantic models, and the OpenAPI 3.1 document built from them.

Request bodies and `/search` parameters are validated with these models, and `openapi_document()`
derives its JSON Schemas from the same models (`model_json_schema`), so the document and the
validation cannot drift apart. Response models only describe: the routes build their JSON as before
and the fuzz test (tests/test_fuzz.py) checks every response against these schemas.
"""

from __future__ import annotations

import unicodedata
import uuid
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, WithJsonSchema
from pydantic.json_schema import models_json_schema
from pydantic_core import PydanticCustomError

from .search import METHODS

MAX_QUESTION_CHARS = 2000
MAX_NAME_CHARS = 200  # a person, a genre or a language code
MAX_GENRES = 20


def _blank_characters() -> str:
    """Every character that shows nothing: whitespace, control (Cc) and format (Cf) characters such as
    U+200B ZERO WIDTH SPACE and U+FEFF. Planes 2-3 (ideographs) and 15-16 (private use) hold none."""
    planes = (range(0x20000), range(0xE0000, 0xF0000))
    return "".join(c for plane in planes for c in map(chr, plane)
                   if c.isspace() or unicodedata.category(c) in ("Cc", "Cf"))


BLANK = _blank_characters()


def _character_class(chars: str) -> str:
    """`chars` as the inside of a regex character class, in escapes that Python, Rust and JSON Schema
    tools all read."""
    def escape(c: str) -> str:
        return f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"

    ranges: list[list[str]] = []
    for c in chars:
        if ranges and ord(ranges[-1][1]) == ord(c) - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return "".join(escape(a) if a == b else f"{escape(a)}-{escape(b)}" for a, b in ranges)


def visible(text: str) -> str:
    """`text` without the blank characters around it: empty when nothing in it shows."""
    return text.strip(BLANK)


# At least one visible character, and no NUL (PostgreSQL text cannot hold it). The JSON Schema pattern
# says the same as the validator, so the OpenAPI document and the fuzz run agree on what is blank.
Question = Annotated[
    str,
    StringConstraints(max_length=MAX_QUESTION_CHARS,
                      pattern=rf"^[^\x00]*[^{_character_class(BLANK)}][^\x00]*$"),
    AfterValidator(visible),
]
Name = Annotated[str, StringConstraints(max_length=MAX_NAME_CHARS)]
# A genre names a kind of film in words ("Drama", "Science Fiction"): it has a letter.
Genre = Annotated[str, StringConstraints(max_length=MAX_NAME_CHARS, pattern=r"[^\W\d_]")]


def _one_or_minus_one(value: int) -> int:
    if value not in (1, -1):
        raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": "1 or -1"})
    return value


# An int, 1 or -1 (not Literal[1, -1]: pydantic lets true and 1.0 through a Literal even in strict mode).
Vote = Annotated[int, AfterValidator(_one_or_minus_one), WithJsonSchema({"type": "integer", "enum": [1, -1]})]


# --- requests ---------------------------------------------------------------------------------------


class Body(BaseModel):
    """A JSON request body: exact types (no "1" for 1, no true for 1) and no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True)


class QuestionRequest(Body):
    question: Question = Field(description=f"1-{MAX_QUESTION_CHARS} characters, not blank")
    conversation_id: uuid.UUID | None = Field(None, description="continue this conversation (from an answer)")


class FeedbackRequest(Body):
    conversation_id: uuid.UUID
    feedback: Vote
    answer_id: uuid.UUID | None = Field(None, description="default: the conversation's latest answer")


class SearchParams(BaseModel):
    """`GET /search` query parameters. Query strings are text, so numbers are parsed (lax mode)."""

    model_config = ConfigDict(extra="forbid")

    q: Annotated[str, StringConstraints(max_length=MAX_QUESTION_CHARS), AfterValidator(visible)] = ""
    k: int = Field(10, ge=1, le=100)
    year_min: int | None = Field(None, ge=0, le=9999)
    year_max: int | None = Field(None, ge=0, le=9999)
    genre: list[Genre] = Field(default_factory=list, max_length=MAX_GENRES, description="repeatable, e.g. Drama")
    language: Name | None = Field(None, description="ISO 639-1 code, e.g. fr")
    min_rating: float | None = Field(None, ge=0, le=10, allow_inf_nan=False)
    min_votes: int | None = Field(None, ge=0, le=2**31 - 1)
    runtime_min: int | None = Field(None, ge=0, le=100_000)
    runtime_max: int | None = Field(None, ge=0, le=100_000)
    person: Name | None = None
    method: Literal[METHODS] | None = Field(None, description="search method; default SEARCH_METHOD")

    # query parameters whose value is a list (given once per value)
    LISTS: ClassVar[tuple[str, ...]] = ("genre",)


# --- responses (documentation only) -------------------------------------------------------------------


class Error(BaseModel):
    error: str = Field(description="what went wrong, for people")
    details: list[dict] | None = Field(None, description="one entry per invalid field: field, message, type")


class Source(BaseModel):
    id: int
    title: str
    year: int | None


class Card(Source):
    genres: list[str]
    vote_average: float
    vote_count: int
    overview: str


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Timing(BaseModel):
    retrieval_time: float
    time_to_first_token: float
    generation_time: float
    response_time: float


class AnswerResponse(BaseModel):
    answer: str
    answer_html: str = Field(description="the answer as sanitised HTML (Markdown rendered, named films linked "
                                         "to `#film-{answer_id}-{film id}`), for a page to show")
    conversation_id: uuid.UUID
    answer_id: uuid.UUID
    question: str
    sources: list[Source | Card]
    model: str
    understanding: dict
    response_time: float
    turn: int = Field(ge=1)
    grounding: dict
    usage: Usage
    cost: float
    timing: Timing


class FeedbackResponse(BaseModel):
    message: str
    conversation_id: uuid.UUID
    answer_id: uuid.UUID
    feedback: Literal[1, -1]


class SearchResult(BaseModel):
    id: int
    title: str
    year: int | None
    genres: list[str]
    original_language: str
    overview: str
    popularity: float
    production_companies: list[str]
    release_date: str
    budget: int
    revenue: int
    runtime: int
    status: str
    tagline: str
    vote_average: float
    vote_count: int
    cast: list[str]
    keywords: list[str]
    directors: list[str]
    score: float


class SearchResponse(BaseModel):
    query: str
    results: list[SearchResult]
    filters: dict = Field(description="the filters applied: parsed from q, overridden by explicit parameters")
    method: Literal[METHODS] = Field(description="the method that ranked the results (lexical when hybrid had no vectors)")
    fallback: dict | None = Field(None, description="when hybrid answered lexically because the vectors are damaged: "
                                                    "{method, reason}")
    attribution: str


class Part(BaseModel):
    status: str
    error: str | None = None


class IndexHealth(Part):
    backend: str
    movies: int | None = None
    method: Literal[METHODS] | None = None
    vectors: bool | None = Field(None, description="whether the index has the vectors dense and hybrid search use")
    problems: list[str] | None = Field(None, description="why the index is degraded: an older build serves, or the "
                                                         "vectors are damaged (lexical search only)")


class DatabaseHealth(Part):
    store: str
    schema_version: int | None = None
    spooled: int = Field(description="log records waiting in the local spool for the database")
    note: str | None = None


class ModelHealth(BaseModel):
    provider: str
    status: str
    fallback: list[str] | None = None


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded", "unavailable"] = Field(
        description="degraded (200): the log database is down and records are spooled, or the index is degraded; "
                    "unavailable (503): the index is down")
    index: IndexHealth
    database: DatabaseHealth
    model: ModelHealth
    judge: dict


# --- validation errors --------------------------------------------------------------------------------

MESSAGES = {
    "json_invalid": "the body is not valid JSON",
    "model_type": "the body must be a JSON object",
    "missing": "{field} is required",
    "extra_forbidden": "unknown field {field!r}; allowed: {allowed}",
    "string_type": "{field} must be a string",
    "string_too_long": "{field} is longer than {max_length} characters",
    "string_pattern_mismatch": "{field} must be a non-empty string (not only blank or invisible characters) "
                               "without NUL characters",
    "genre_pattern_mismatch": "{field} must name a genre, e.g. Drama",
    "uuid_type": "{field} must be a UUID returned by /question",
    "uuid_parsing": "{field} must be a UUID returned by /question",
    "literal_error": "{field} must be {expected}",
    "int_type": "{field} must be an integer",
    "int_parsing": "{field} must be an integer",
    "int_from_float": "{field} must be an integer",
    "float_type": "{field} must be a number",
    "float_parsing": "{field} must be a number",
    "finite_number": "{field} must be a finite number",
    "greater_than_equal": "{field} must be at least {ge}",
    "less_than_equal": "{field} must be at most {le}",
    "too_long": "{field} has more than {max_length} values",
}


def validation_errors(exc: ValidationError, model: type[BaseModel]) -> tuple[str, list[dict]]:
    """A one-line message and per-field details for the client (the input itself is never echoed)."""
    details = []
    for err in exc.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in err["loc"]) or "body"
        kind = err["type"]
        if kind in ("model_type", "model_attributes_type", "dict_type") and not err["loc"]:
            kind = "model_type"
        if kind == "string_pattern_mismatch" and err["loc"][0] == "genre":
            kind = "genre_pattern_mismatch"
        values = {**(err.get("ctx") or {}), "field": field, "allowed": ", ".join(model.model_fields)}
        try:
            message = MESSAGES[kind].format(**values)
        except KeyError:
            message = f"{field}: {err['msg']}"
        details.append({"field": field, "message": message, "type": kind})
    return "; ".join(dict.fromkeys(d["message"] for d in details)), details


def question_text(text: str) -> str:
    """`text` as POST /question takes it (stripped), for the commands that take a question; ValueError
    with the API's message when the API would refuse it."""
    try:
        return QuestionRequest.model_validate({"question": text}).question
    except ValidationError as exc:
        raise ValueError(validation_errors(exc, QuestionRequest)[0]) from None


# --- the OpenAPI document -----------------------------------------------------------------------------

REF = "#/components/schemas/{model}"
RESPONSE_MODELS = (Error, AnswerResponse, FeedbackResponse, SearchResponse, HealthResponse)
# One server-sent event, as parsed from the stream (the schema applies to each event).
EVENT = {
    "type": "object",
    "description": "Server-sent events: `start` (conversation, sources), `token` (`{\"text\"}`) per chunk, then "
                   "`done` (the answer, as POST /question returns it, sources as cards) or `error` "
                   "(`{\"error\", \"status\"}`). Each `data` is one line of JSON.",
    "properties": {"event": {"enum": ["start", "token", "done", "error"]},
                   "data": {"type": "string", "contentMediaType": "application/json"}},
    "required": ["event", "data"],
}


def _json(ref: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": REF.format(model=ref)}}}}


def _errors(*codes: int) -> dict:
    reasons = {400: "invalid input", 401: "missing or wrong API key", 404: "unknown conversation or answer",
               405: "method not allowed", 413: "request body too large", 415: "the body is not JSON",
               503: "the index, the model or the database is unavailable"}
    return {str(code): _json("Error", reasons[code]) for code in codes}


def _query_parameters() -> list[dict]:
    """SearchParams as OpenAPI query parameters (never null: an absent parameter is the default)."""
    schema = SearchParams.model_json_schema(ref_template=REF)
    params = []
    for name, prop in schema["properties"].items():
        branches = [b for b in prop.pop("anyOf", []) if b != {"type": "null"}]
        if branches:
            prop.update(branches[0])
        if prop.get("default", 0) is None:
            del prop["default"]
        if name in SearchParams.LISTS:
            params.append({"name": name, "in": "query", "schema": prop, "style": "form", "explode": True})
        else:
            params.append({"name": name, "in": "query", "schema": prop})
    return params


def openapi_document(protected: set[str] | frozenset[str] = frozenset()) -> dict:
    """The OpenAPI 3.1 document of the JSON API. `protected`: paths that need the API key (when it is set)."""
    request_models = [(QuestionRequest, "validation"), (FeedbackRequest, "validation")]
    _, defs = models_json_schema(request_models + [(m, "serialization") for m in RESPONSE_MODELS], ref_template=REF)
    schemas = defs["$defs"]

    def body(model: type[BaseModel]) -> dict:
        return {"required": True, "content": {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}}}

    question_ok = _json("AnswerResponse", "the answer")
    question_ok["content"]["text/event-stream"] = {"schema": EVENT}
    paths = {
        "/question": {"post": {
            "summary": "Answer a question (JSON, or server-sent events with Accept: text/event-stream)",
            "requestBody": body(QuestionRequest),
            "responses": {"200": question_ok, **_errors(400, 404, 413, 415, 503)},
        }},
        "/question/stream": {"post": {
            "summary": "Answer a question as server-sent events",
            "requestBody": body(QuestionRequest),
            "responses": {"200": {"description": "the answer as it is written",
                                  "content": {"text/event-stream": {"schema": EVENT}}},
                          **_errors(400, 404, 413, 415, 503)},
        }},
        "/feedback": {"post": {
            "summary": "Record +1 or -1 for an answer",
            "requestBody": body(FeedbackRequest),
            "responses": {"200": _json("FeedbackResponse", "recorded"), **_errors(400, 404, 413, 415, 503)},
        }},
        "/search": {"get": {
            "summary": "The movies retrieved for q, with the filters parsed from it",
            "parameters": _query_parameters(),
            "responses": {"200": _json("SearchResponse", "the movies found"), **_errors(400, 503)},
        }},
        "/health": {"get": {
            "summary": "What works: index, database, model (never secrets)",
            "responses": {"200": _json("HealthResponse", "everything works"),
                          "503": _json("HealthResponse", "something is down")},
        }},
    }
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "Movies Assistant", "version": "1.0.0",
                 "description": "Questions about films, answered from a movie index. Errors are JSON: "
                                "`{\"error\": message}` (and `details` per field for invalid input)."},
        "paths": paths,
        "components": {"schemas": schemas},
    }
    if protected:
        doc["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "the API_KEY setting"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "the API_KEY setting"},
        }
        for path, operations in paths.items():
            if path in protected:
                for operation in operations.values():
                    operation["security"] = [{"bearer": []}, {"apiKey": []}]
                    operation["responses"].update(_errors(401))
    return doc
