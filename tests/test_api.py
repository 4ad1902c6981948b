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
    ({"data": "not json", "content_type": "text/plain"}, "JSON"),
    ({"data": "{broken", "content_type": "application/json"}, "JSON object"),
    ({"json": ["a list"]}, "JSON object"),
    ({"json": {}}, "question must be"),
    ({"json": {"question": ""}}, "question must be"),
    ({"json": {"question": "   "}}, "question must be"),
    ({"json": {"question": 42}}, "question must be"),
    ({"json": {"question": "x" * 2001}}, "longer than"),
    ({"json": {"question": "hi", "extra": 1}}, "unknown field"),
    ({"json": {"question": "hi", "conversation_id": 5}}, "conversation_id must be"),
    ({"json": {"question": "hi", "conversation_id": "nope"}}, "UUID"),
])
def test_question_bad_input_is_400(client, kwargs, message):
    r = client.post("/question", **kwargs)
    assert r.status_code == 400, r.data
    assert message in r.get_json()["error"]


def test_huge_body_is_413_json(client):
    r = client.post("/question", json={"question": "x" * (10 * 1024 * 1024)})
    assert r.status_code == 413 and "error" in r.get_json()


def test_wrong_method_is_405_json(client):
    r = client.get("/question")
    assert r.status_code == 405 and "error" in r.get_json()


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


@pytest.mark.parametrize("params", [{"q": "x", "k": "ten"}, {"q": "x", "k": 0}, {"q": "x", "k": 101},
                                    {"q": "x", "year_min": "abc"}, {"q": "x" * 2001},
                                    {"q": "x", "method": "semantic"}])
def test_search_bad_input_is_400(client, params):
    r = client.get("/search", query_string=params)
    assert r.status_code == 400 and "error" in r.get_json()


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
