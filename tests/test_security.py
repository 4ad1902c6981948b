"""Security: the optional API key, CORS, SQL injection through every text field (SQLite and real
PostgreSQL), and secrets that never reach a response, /health or the log."""

from __future__ import annotations

import dataclasses
import logging
import socket
import uuid

import pytest

from movies_assistant.app import create_app

KEY = "k3y-Only-The-Operator-Knows-0b6f"
WRITE = [("post", "/question", {"question": "Who directed Alien?"}),
         ("post", "/question/stream", {"question": "Who directed Alien?"})]
ADMIN = [("get", "/dashboard/data", None), ("get", "/metrics", None)]


@pytest.fixture
def keyed(settings):
    app = create_app(dataclasses.replace(settings, api_key=KEY))
    app.config["TESTING"] = True
    return app


def call(client, method, path, body=None, headers=None):
    return getattr(client, method)(path, json=body, headers=headers or {})


# -- the API key ------------------------------------------------------------------------------------
def test_without_a_key_setting_everything_is_open(client):
    for method, path, body in WRITE + ADMIN:
        assert call(client, method, path, body).status_code == 200, path


@pytest.mark.parametrize("method, path, body", WRITE + ADMIN)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"X-API-Key": KEY[:-1]},
                                     {"Authorization": KEY}, {"Authorization": f"Basic {KEY}"}])
def test_protected_endpoints_refuse_a_missing_or_wrong_key(keyed, method, path, body, headers):
    r = call(keyed.test_client(), method, path, body, headers)
    assert r.status_code == 401 and r.mimetype == "application/json"
    assert "API key" in r.get_json()["error"] and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert KEY not in r.get_data(as_text=True)


@pytest.mark.parametrize("headers", [{"Authorization": f"Bearer {KEY}"}, {"X-API-Key": KEY}])
def test_the_right_key_opens_them(keyed, headers):
    client = keyed.test_client()
    for method, path, body in WRITE + ADMIN:
        assert call(client, method, path, body, headers).status_code == 200, path
    cid = call(client, "post", "/question", {"question": "Who directed Alien?"}, headers).get_json()["conversation_id"]
    feedback = {"conversation_id": cid, "feedback": 1}
    assert call(client, "post", "/feedback", feedback).status_code == 401
    assert call(client, "post", "/feedback", feedback, headers).status_code == 200


def test_open_endpoints_stay_open_with_a_key(keyed):
    client = keyed.test_client()
    for path in ("/", "/dashboard", "/health", "/search?q=alien", "/openapi.json", "/chat/static/apikey.js"):
        assert client.get(path).status_code == 200, path


def test_a_key_failure_is_not_logged_with_the_key(keyed, caplog):
    caplog.set_level(logging.DEBUG)
    client = keyed.test_client()
    call(client, "post", "/question", {"question": "Who directed Alien?"}, {"Authorization": f"Bearer {KEY}x"})
    call(client, "post", "/question", {"question": "Who directed Alien?"}, {"Authorization": f"Bearer {KEY}"})
    assert KEY not in caplog.text


def test_the_openapi_document_marks_protected_operations(client, keyed):
    assert "securitySchemes" not in client.get("/openapi.json").get_json()["components"]
    doc = keyed.test_client().get("/openapi.json").get_json()
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    secured = {path for path, ops in doc["paths"].items() for op in ops.values() if op.get("security")}
    assert secured == {"/question", "/question/stream", "/feedback"}
    assert "401" in doc["paths"]["/feedback"]["post"]["responses"]


def test_the_client_sends_the_key_from_the_environment(keyed, monkeypatch):
    from movies_assistant.client import Client, ClientError

    from .conftest import serving

    with serving(keyed) as url:
        monkeypatch.delenv("MOVIES_ASSISTANT_API_KEY", raising=False)
        with pytest.raises(ClientError) as info:
            Client(url).ask("Who directed Alien?")
        assert "MOVIES_ASSISTANT_API_KEY" in str(info.value)
        monkeypatch.setenv("MOVIES_ASSISTANT_API_KEY", KEY)
        client = Client(url)
        answer = client.ask("Who directed Alien?")
        assert "Ridley Scott" in answer["answer"]
        assert client.feedback(answer["conversation_id"], 1)["feedback"] == 1
        streamed = Client(url, on_token=lambda text: None).ask("Who directed Alien?")
        assert streamed["answer"] == answer["answer"]


# -- CORS -------------------------------------------------------------------------------------------
def test_cors_is_off_by_default(client):
    r = client.get("/search?q=alien", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers
    r = client.options("/question", headers={"Origin": "https://evil.example",
                                              "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_cors_allows_only_the_listed_origins(settings):
    app = create_app(dataclasses.replace(settings, cors_origins="https://movies.example, http://localhost:3001/",
                                         api_key=KEY))
    client = app.test_client()
    r = client.get("/search?q=alien", headers={"Origin": "https://movies.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "https://movies.example" and "Origin" in r.headers["Vary"]
    preflight = client.options("/question", headers={"Origin": "http://localhost:3001",
                                                     "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200  # no key needed for a preflight
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:3001"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    r = client.get("/search?q=alien", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers


# -- SQL injection ----------------------------------------------------------------------------------
INJECTIONS = [
    "'; DROP TABLE conversations; --",
    "Robert'); DROP TABLE feedback;--",
    "\" OR \"1\"=\"1",
    "' OR '1'='1' --",
    "1; SELECT pg_sleep(10); --",
    "' UNION SELECT id, question, answer FROM conversations --",
    "%' AND 1=0 UNION SELECT NULL --",
    "?); DELETE FROM schema_migrations; --",
    "$1 %s %(x)s {0} \\",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_app(request, settings):
    if request.param == "postgresql":
        settings = dataclasses.replace(settings, database_url=request.getfixturevalue("postgres_url"))
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


def test_sql_injection_through_every_text_field(any_db_app):
    client = any_db_app.test_client()
    log = any_db_app.extensions["movies_assistant"].log
    questions = []
    for payload in INJECTIONS:
        question = f"Who directed Alien? {payload}"
        r = client.post("/question", json={"question": question})
        assert r.status_code == 200, r.data
        answer = r.get_json()
        questions.append(question)
        row = log.get_answer(answer["answer_id"])
        assert row["question"] == question  # stored verbatim
        # ids are UUIDs: a payload is refused before any query runs
        for body in ({"question": "and?", "conversation_id": payload},):
            assert client.post("/question", json=body).status_code == 400
        for body in ({"conversation_id": payload, "feedback": 1},
                     {"conversation_id": answer["conversation_id"], "feedback": 1, "answer_id": payload}):
            assert client.post("/feedback", json=body).status_code == 400
        for params in ({"q": payload}, {"q": "alien", "person": payload}, {"q": "alien", "language": payload},
                       {"q": "alien", "genre": payload}):
            assert client.get("/search", query_string=params).status_code == 200, params
        for params in ({"from": payload}, {"to": payload}, {"bucket": payload}):
            assert client.get("/dashboard/data", query_string=params).status_code == 400, params
        assert client.post("/feedback", json={"conversation_id": answer["conversation_id"], "feedback": -1}).status_code == 200
    # tables intact, every row there
    assert log.count_answers() == len(INJECTIONS)
    assert log.schema_version() >= 1
    stored = [log.get_answer(a)["question"] for a in
              [r[0] for r in log._run("SELECT id FROM conversations ORDER BY timestamp", fetch="all")]]
    assert stored == questions
    assert log._run("SELECT COUNT(*) FROM feedback", fetch="one")[0] == len(INJECTIONS)
    assert client.get("/dashboard/data").status_code == 200


# -- secrets ----------------------------------------------------------------------------------------
HF_TOKEN = "hf_SecretTokenValue_7c1e9a"
DB_PASSWORD = "Pg-Secret-Password-4d2b"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_secrets_never_reach_responses_health_or_logs(settings, caplog):
    caplog.set_level(logging.DEBUG)
    bad = dataclasses.replace(
        settings, llm_provider="huggingface", llm_model="some/model", huggingface_token=HF_TOKEN,
        llm_base_url=f"http://127.0.0.1:{closed_port()}/v1", llm_retries=0, llm_timeout=3,
        database_url=f"postgresql://movies:{DB_PASSWORD}@127.0.0.1:{closed_port()}/movies", api_key=KEY,
        judge_provider="huggingface",
    )
    app = create_app(bad)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {KEY}"}
    seen = []
    for r in (client.get("/health"),
              client.post("/question", json={"question": "Who directed Alien?"}, headers=auth),
              client.post("/question/stream", json={"question": "Who directed Alien?"}, headers=auth),
              client.post("/feedback", json={"conversation_id": str(uuid.uuid4()), "feedback": 1}, headers=auth),
              client.get("/dashboard/data", headers=auth),
              client.get("/search?q=alien"),
              client.get("/openapi.json")):
        seen.append(r.get_data(as_text=True))
        assert r.status_code in (200, 503), r.data
    assert "unavailable" in seen[0]  # /health reports the database down, without its password
    assert repr(bad).count(HF_TOKEN) == 0 and repr(bad).count(DB_PASSWORD) == 0
    everything = "\n".join(seen) + caplog.text
    for secret in (HF_TOKEN, DB_PASSWORD, KEY):
        assert secret not in everything


def test_a_model_server_that_echoes_the_token_does_not_leak_it(settings, caplog):
    from .test_providers import FakeChatServer

    caplog.set_level(logging.DEBUG)
    fake = FakeChatServer()
    fake.replies = [{"status": 500, "body": {"error": f"invalid token {HF_TOKEN} for this model"}}]
    app = create_app(dataclasses.replace(settings, llm_provider="huggingface", llm_model="fake-model",
                                         llm_base_url=fake.url, huggingface_token=HF_TOKEN, llm_retries=0))
    try:
        r = app.test_client().post("/question", json={"question": "Who directed Alien?"})
    finally:
        fake.close()
    assert r.status_code == 503 and "HTTP 500" in r.get_json()["error"]
    assert fake.requests and fake.requests[0]["headers"]["authorization"] == f"Bearer {HF_TOKEN}"  # it was sent
    assert HF_TOKEN not in r.get_data(as_text=True) and HF_TOKEN not in caplog.text
