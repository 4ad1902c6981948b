"""HTTP contract of /question, /feedback, /search and /health (Flask test client, real sample index)."""

import dataclasses
import uuid

import pytest

from movies_assistant.app import create_app


def ask(client, question, **extra):
    return client.post("/question", json={"question": question, **extra})


def test_question_contract(client, app):
    r = ask(client, "Who directed Star Wars?")
    assert r.status_code == 200
    body = r.get_json()
    assert {"answer", "conversation_id", "question", "sources", "model", "answer_id"} <= set(body)
    assert body["question"] == "Who directed Star Wars?"
    assert "George Lucas" in body["answer"]
    assert body["model"] == "composer"
    assert body["sources"][0] == {"id": 11, "title": "Star Wars", "year": 1977}
    uuid.UUID(body["conversation_id"])
    with app.app_context():
        row = app.extensions["movies_assistant"].log.get_answer(body["answer_id"])
    assert row["question"] == "Who directed Star Wars?" and row["answer"] == body["answer"]
    assert row["model_used"] == "composer" and row["relevance"] == "UNJUDGED" and row["turn"] == 1


def test_conversation_continues(client, app):
    first = ask(client, "Tell me about Finding Nemo").get_json()
    second = ask(client, "Who directed it?", conversation_id=first["conversation_id"]).get_json()
    assert second["conversation_id"] == first["conversation_id"]
    assert "Andrew Stanton" in second["answer"]
    with app.app_context():
        row = app.extensions["movies_assistant"].log.get_answer(second["answer_id"])
    assert row["turn"] == 2


def test_unknown_conversation_is_404(client):
    r = ask(client, "Who directed it?", conversation_id=str(uuid.uuid4()))
    assert r.status_code == 404 and "unknown conversation_id" in r.get_json()["error"]


@pytest.mark.parametrize("kwargs, message", [
    ({"data": "{broken", "content_type": "application/json"}, "not valid JSON"),
    ({"data": "", "content_type": "application/json"}, "not valid JSON"),
    ({"json": ["a list"]}, "JSON object"),
    ({"json": "a string"}, "JSON object"),
    ({"json": {}}, "question is required"),
    ({"json": {"question": ""}}, "question must be a non-empty string"),
    ({"json": {"question": "   "}}, "question must be a non-empty string"),
    ({"json": {"question": "Alien\x00"}}, "without NUL"),
    ({"json": {"question": 42}}, "question must be a string"),
    ({"json": {"question": None}}, "question must be a string"),
    ({"json": {"question": ["Alien"]}}, "question must be a string"),
    ({"json": {"question": "x" * 2001}}, "longer than 2000 characters"),
    ({"json": {"question": "hi", "extra": 1}}, "unknown field 'extra'"),
    ({"json": {"question": "hi", "conversation_id": 5}}, "conversation_id must be a UUID"),
    ({"json": {"question": "hi", "conversation_id": "nope"}}, "conversation_id must be a UUID"),
    ({"json": {"question": "hi", "conversation_id": "' OR 1=1 --"}}, "conversation_id must be a UUID"),
])
@pytest.mark.parametrize("path", ["/question", "/question/stream"])
def test_question_bad_input_is_400(client, path, kwargs, message):
    r = client.post(path, **kwargs)
    assert r.status_code == 400, r.data
    assert r.mimetype == "application/json"
    assert message in r.get_json()["error"]


def test_bad_input_names_each_field(client):
    r = client.post("/question", json={"question": 42, "conversation_id": "nope", "extra": 1})
    body = r.get_json()
    assert r.status_code == 400
    assert sorted(d["field"] for d in body["details"]) == ["conversation_id", "extra", "question"]
    assert all(set(d) == {"field", "message", "type"} for d in body["details"])


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_is_415(client, content_type):
    r = client.post("/question", data='{"question": "Alien"}', content_type=content_type)
    assert r.status_code == 415 and "Content-Type: application/json" in r.get_json()["error"]


def test_a_question_is_stripped_and_uuids_are_normalised(client):
    first = ask(client, "  Who directed Alien?  ").get_json()
    assert first["question"] == "Who directed Alien?"
    second = ask(client, "Who directed it?", conversation_id=first["conversation_id"].upper())
    assert second.status_code == 200 and second.get_json()["conversation_id"] == first["conversation_id"]


# Only whitespace and format characters (category Cf: zero-width space, BOM, joiners, word joiner,
# invisible separator, soft hyphen, a language tag): nothing shows, so the question is blank.
INVISIBLE_QUESTIONS = ["\u200b", "\ufeff", "\u200c\u200d", "\u2060\u2063", " \u200b\t\ufeff\n", "\u00ad",
                       "\U000e0001"]


@pytest.mark.parametrize("path", ["/question", "/question/stream"])
def test_a_question_of_invisible_characters_is_blank(client, app, path):
    log = app.extensions["movies_assistant"].log
    with app.app_context():
        before = log.count_answers()
    for question in INVISIBLE_QUESTIONS:
        r = client.post(path, json={"question": question})
        assert r.status_code == 400 and r.mimetype == "application/json", (question, r.data)
        assert "not only blank or invisible characters" in r.get_json()["error"]
    with app.app_context():
        assert log.count_answers() == before  # nothing answered, nothing logged
    assert app.extensions["movies_assistant"].log_store.spooled() == 0


def test_invisible_characters_around_a_question_are_stripped(client):
    body = ask(client, "\ufeff\u200bWho directed Alien?\u2060 ").get_json()
    assert body["question"] == "Who directed Alien?"
    assert client.get("/search", query_string={"q": "\u200b\ufeff"}).get_json()["query"] == ""


def test_huge_body_is_413_json(client):
    r = client.post("/question", json={"question": "x" * (10 * 1024 * 1024)})
    assert r.status_code == 413 and "error" in r.get_json()


def test_wrong_method_is_405_json(client):
    r = client.get("/question")
    assert r.status_code == 405 and "error" in r.get_json()
    assert r.headers["Allow"] and "POST" in r.headers["Allow"]


def test_unknown_path_is_404_json(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and r.mimetype == "application/json" and "error" in r.get_json()


def test_feedback_contract(client, app):
    answer = ask(client, "Who directed Star Wars?").get_json()
    r = client.post("/feedback", json={"conversation_id": answer["conversation_id"], "feedback": 1})
    assert r.status_code == 200
    body = r.get_json()
    assert body["message"] == f"Feedback received for conversation {answer['conversation_id']}: 1"
    assert body["answer_id"] == answer["answer_id"]
    with app.app_context():
        assert app.extensions["movies_assistant"].log.feedback_for(answer["conversation_id"]) == [1]


@pytest.mark.parametrize("payload, status", [
    ({"conversation_id": str(uuid.uuid4()), "feedback": 1}, 404),
    ({"feedback": 1}, 400),
    ({"conversation_id": "CID", "feedback": 0}, 400),
    ({"conversation_id": "CID", "feedback": 2}, 400),
    ({"conversation_id": "CID", "feedback": "1"}, 400),
    ({"conversation_id": "CID", "feedback": True}, 400),
    ({"conversation_id": "CID", "feedback": 1.0}, 400),
    ({"conversation_id": "CID", "feedback": 1, "answer_id": str(uuid.uuid4())}, 404),
    ({"conversation_id": "CID", "feedback": 1, "answer_id": "not-a-uuid"}, 400),
    ({"conversation_id": "CID", "feedback": 1, "answer_id": 7}, 400),
    ({"conversation_id": "not-a-uuid", "feedback": 1}, 400),
    ({"conversation_id": "CID", "feedback": 1, "extra": True}, 400),
    ({"conversation_id": "CID"}, 400),
])
def test_feedback_errors(client, payload, status):
    cid = ask(client, "Who directed Star Wars?").get_json()["conversation_id"]
    payload = {k: (cid if v == "CID" else v) for k, v in payload.items()}
    r = client.post("/feedback", json=payload)
    assert r.status_code == status and "error" in r.get_json()


def test_search_contract(client):
    r = client.get("/search", query_string={"q": "Finding Nemo", "k": 3})
    assert r.status_code == 200
    body = r.get_json()
    assert len(body["results"]) == 3 and body["filters"] == {}
    top = body["results"][0]
    for key in ("id", "title", "year", "genres", "original_language", "vote_average", "cast", "directors", "score"):
        assert key in top
    assert top["title"] == "Finding Nemo"
    assert "TMDB" in body["attribution"]


def test_search_applies_parsed_and_explicit_filters(client):
    body = client.get("/search", query_string={"q": "animated movies from the 90s", "k": 10}).get_json()
    assert body["filters"] == {"year_min": 1990, "year_max": 1999, "genres": ["Animation"]}
    assert body["results"] and all(
        1990 <= m["year"] <= 1999 and "Animation" in m["genres"] for m in body["results"])
    body = client.get("/search", query_string={"q": "war", "min_rating": "8", "genre": "Drama"}).get_json()
    assert body["filters"]["min_rating"] == 8.0 and body["filters"]["genres"] == ["Drama"]
    assert all(m["vote_average"] >= 8 and "Drama" in m["genres"] for m in body["results"])


def test_search_methods(client):
    body = client.get("/search", query_string={"q": "a hacker learns reality is a computer simulation"}).get_json()
    assert body["method"] == "hybrid" and body["results"][0]["title"] == "The Matrix"
    for method in ("lexical", "dense", "baseline"):
        body = client.get("/search", query_string={"q": "Finding Nemo", "method": method, "k": 3}).get_json()
        assert body["method"] == method and body["results"][0]["title"] == "Finding Nemo"


@pytest.mark.parametrize("params, message", [
    ({"q": "x", "k": "ten"}, "k must be an integer"),
    ({"q": "x", "k": 0}, "k must be at least 1"),
    ({"q": "x", "k": 101}, "k must be at most 100"),
    ({"q": "x", "year_min": "abc"}, "year_min must be an integer"),
    ({"q": "x", "year_max": 10**30}, "year_max must be at most"),
    ({"q": "x", "min_rating": "nan"}, "min_rating"),
    ({"q": "x", "min_rating": "inf"}, "min_rating"),
    ({"q": "x", "min_votes": -1}, "min_votes must be at least 0"),
    ({"q": "x", "person": "p" * 201}, "person is longer than 200"),
    ({"q": "x", "genre": ["Drama"] * 21}, "genre has more than 20"),
    ({"q": "x", "year-min": 1990}, "unknown field 'year-min'"),
    ({"q": "x" * 2001}, "q is longer than 2000"),
    ({"q": "x", "method": "semantic"}, "method"),
])
def test_search_bad_input_is_400(client, params, message):
    r = client.get("/search", query_string=params)
    assert r.status_code == 400 and message in r.get_json()["error"], r.get_json()


def test_health(client):
    r = client.get("/health")
    body = r.get_json()
    assert r.status_code == 200 and body["status"] == "ok"
    assert body["index"]["movies"] == 1000 and body["database"]["status"] == "ok"
    assert body["index"]["method"] == "hybrid" and body["index"]["vectors"] is True
    assert body["database"]["schema_version"] >= 1
    assert body["model"] == {"provider": "composer", "status": "ready"}


def test_missing_index_gives_503_and_health_says_why(settings, tmp_path):
    app = create_app(dataclasses.replace(settings, index_dir=tmp_path / "no-index"))
    client = app.test_client()
    r = ask(client, "Who directed Star Wars?")
    assert r.status_code == 503 and "ingest" in r.get_json()["error"]
    assert client.get("/search?q=x").status_code == 503
    health = client.get("/health")
    assert health.status_code == 503 and health.get_json()["index"]["status"] == "unavailable"


def test_the_answer_comes_as_plain_text_and_as_safe_html(client):
    body = ask(client, "Recommend animated movies from the 90s").get_json()
    items = [line for line in body["answer"].splitlines() if line.startswith("- ")]
    assert len(items) >= 2 and "<" not in body["answer"]  # the text is as it was, for curl and the CLI
    html = body["answer_html"]
    assert html.count("<li>") == len(items) and "- " not in html
    anchors = {f'href="#film-{body["answer_id"]}-{s["id"]}"' for s in body["sources"]}
    assert sum(anchor in html for anchor in anchors) >= len(items)  # each film listed links to its card
