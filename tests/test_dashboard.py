"""The built-in dashboard: its query layer on SQLite and PostgreSQL, `/dashboard/data`, and the page in
a real headless Chromium (Debian's `chromium`) against a real HTTP server, with a screenshot saved to
test-artifacts/.

The query-layer and browser tests run on both stores; the PostgreSQL runs need TEST_POSTGRES_URL (see
conftest.py). The browser tests need /usr/bin/chromium (or $CHROMIUM) and are skipped without it
unless REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from movies_assistant.app import create_app
from movies_assistant.config import Settings
from movies_assistant.logstore import AnswerRecord, LogStore
from movies_assistant.logstore.connections import PostgresConnections, SQLiteConnections
from movies_assistant.logstore.queries import TimeRange, dashboard_metrics, parse_time, percentile
from tests.accessibility import serious_violations
from tests.conftest import ARTIFACTS, serving
from tests.monitoring_data import ANSWERS, BASE, BUCKET, BUCKETS, EXPECTED, LAST_FIVE, epoch, seed

CHARTS = ["requests", "response_time", "latency", "ttft", "tokens", "cost", "no_sources", "feedback_ratio",
          "feedback", "relevance", "models", "relevance_by_model"]
QUESTIONS = {a[0]: a[4] for a in ANSWERS}


def close(log: LogStore) -> None:
    pool = getattr(log.connections, "_pool", None)
    if pool is not None and not pool.closed:
        pool.closeall()


@pytest.fixture(params=["sqlite", "postgresql"])
def log(request, tmp_path):
    """A migrated, empty log store on each database."""
    if request.param == "sqlite":
        store = LogStore(SQLiteConnections(tmp_path / "log.sqlite3"))
    else:
        store = LogStore(PostgresConnections(request.getfixturevalue("postgres_url")))
    store.migrate()
    yield store
    close(store)


def assert_close(actual, expected, what: str) -> None:
    if expected is None:
        assert actual is None, what
    else:
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-12), what


# --- the query layer -----------------------------------------------------------------------------------

def test_query_layer_gives_the_known_numbers(log):
    seed(log)
    data = dashboard_metrics(log, TimeRange(BASE, BASE + timedelta(hours=1)), BUCKET)
    assert data["store"] == log.connections.name
    assert data["truncated"] is False
    assert data["range"] == {"from": "2025-03-01T10:00:00.000000+00:00", "to": "2025-03-01T11:00:00.000000+00:00",
                             "bucket_seconds": BUCKET}
    for key, value in EXPECTED["summary"].items():
        assert_close(data["summary"][key], value, key)
    for key in ("feedback", "relevance", "models", "relevance_by_model"):
        assert data[key] == EXPECTED[key], key
    assert data["series"]["time"] == [epoch(m) for m in BUCKETS]
    for key, values in EXPECTED["series"].items():
        assert len(data["series"][key]) == len(values), key
        for i, (got, want) in enumerate(zip(data["series"][key], values)):
            assert_close(got, want, f"{key}[{i}]")
    assert [a["question"] for a in data["last_answers"]] == [QUESTIONS[n] for n in LAST_FIVE]
    first = data["last_answers"][0]
    assert first["timestamp"] == "2025-03-01T10:52:00.000000+00:00"
    assert (first["relevance"], first["model_used"], first["response_time"]) == ("RELEVANT", "qwen2.5-7b-instruct", 1.0)


def test_query_layer_range_is_inclusive_and_offsets_are_honoured(log):
    """The same instant written with another UTC offset selects the same rows on both databases."""
    seed(log)
    paris = timezone(timedelta(hours=1))
    rng = TimeRange(datetime(2025, 3, 1, 11, 12, tzinfo=paris), datetime(2025, 3, 1, 11, 18, tzinfo=paris))
    data = dashboard_metrics(log, rng)
    assert data["summary"]["answers"] == 3  # a3 at 10:12 and a5 at 10:18 UTC sit on the bounds
    assert data["range"]["from"] == "2025-03-01T10:12:00.000000+00:00"
    assert data["range"]["bucket_seconds"] == 60
    assert [a["question"] for a in data["last_answers"]] == [QUESTIONS[n] for n in ("a5", "a4", "a3")]
    just_after = TimeRange(datetime(2025, 3, 1, 10, 18, 0, 1, tzinfo=timezone.utc), BASE + timedelta(minutes=30))
    assert dashboard_metrics(log, just_after)["summary"]["answers"] == 0


def test_query_layer_on_an_empty_range(log):
    data = dashboard_metrics(log, TimeRange(BASE, BASE + timedelta(hours=6)))
    summary = data["summary"]
    assert summary["answers"] == 0 and summary["feedback_ratio"] is None and summary["response_time_p95"] is None
    assert data["range"]["bucket_seconds"] == 600 and len(data["series"]["time"]) == 37
    assert set(data["series"]["answers"]) == {0} and data["last_answers"] == [] and data["models"] == []


def test_query_layer_counts_all_answers_when_rows_are_capped(log):
    seed(log)
    data = dashboard_metrics(log, TimeRange(BASE, BASE + timedelta(hours=1)), BUCKET, max_rows=3)
    assert data["truncated"] is True
    assert data["summary"]["answers"] == 7  # counted in SQL
    assert sum(data["series"]["answers"]) == 3  # the three most recent rows
    assert data["series"]["answers"][-2] == 1 and data["series"]["answers"][3] == 1


def test_time_parsing():
    now = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_time("now", now) == now
    assert parse_time("now-15m", now) == now - timedelta(minutes=15)
    assert parse_time("now-7d", now) == now - timedelta(days=7)
    assert parse_time("1740830400000", now) == datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_time("2025-03-01T10:00:00Z", now) == BASE
    assert parse_time("2025-03-01T10:00", now) == BASE  # no offset: UTC
    assert parse_time("2025-03-01T11:00:00+01:00", now) == BASE
    for bad in ("yesterday", "now-5x", "2025-13-01", ""):
        with pytest.raises(ValueError):
            parse_time(bad, now)
    with pytest.raises(ValueError):
        TimeRange.parse("now", "now-1h", now)
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.95) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5


# --- /dashboard/data and /dashboard --------------------------------------------------------------------

def test_dashboard_data_endpoint(app, client):
    seed(app.extensions["movies_assistant"].log)
    response = client.get("/dashboard/data", query_string={"from": "2025-03-01T10:00:00Z", "to": "2025-03-01T11:00:00Z",
                                                            "bucket": "600"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["store"] == "sqlite" and body["store_description"].startswith("sqlite:")
    assert body["summary"]["answers"] == 7 and body["summary"]["feedback_up"] == 3
    assert body["series"]["total_tokens"] == EXPECTED["series"]["total_tokens"]
    assert client.get("/dashboard/data").get_json()["summary"]["answers"] == 0  # default: the last 24 hours


@pytest.mark.parametrize("query, message", [
    ({"from": "yesterday"}, "is not a time"),
    ({"from": "now", "to": "now-1h"}, "must start before it ends"),
    ({"from": "now-1000d"}, "longer than 400 days"),
    ({"from": "now-1h", "bucket": "7"}, "bucket must be one of"),
    ({"from": "now-30d", "bucket": "60"}, "too small"),
])
def test_dashboard_data_rejects_bad_ranges(client, query, message):
    response = client.get("/dashboard/data", query_string=query)
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_dashboard_page_loads_nothing_from_outside(client):
    page = client.get("/dashboard")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/dashboard/static/dashboard.js" in assets and "/dashboard/static/dashboard.css" in assets
    assert "/dashboard/static/favicon.svg" in assets
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served by the app"
        if asset.startswith("/dashboard/static/"):
            body = client.get(asset).get_data(as_text=True)
            assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", body), f"{asset} refers to another site"


# --- the page in Chromium ------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def live(request, sample_index, tmp_path):
    """The app on a real HTTP server, its log store (SQLite or PostgreSQL) holding the known answers an
    hour back from now: a1 54 minutes ago ... a7 3 minutes ago (a8, 85 minutes ago, and a9, in the
    future, fall outside the last hour)."""
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else ""
    app = create_app(Settings(instance_dir=tmp_path, index_dir=sample_index, database_url=database_url))
    log = app.extensions["movies_assistant"].log
    base = datetime.now(timezone.utc) - timedelta(minutes=55)
    seeded = seed(log, base)
    with serving(app) as url:
        yield {"url": url, "store": request.param, "log": log, "base": base, "seeded": seeded}
    close(log)


def stat(page, name: str) -> str:
    return page.locator(f'[data-stat="{name}"]').inner_text().strip()


def wait_ready(page, answers: str) -> None:
    page.wait_for_function(
        "n => document.querySelector('main').dataset.state === 'ready' && "
        "document.querySelector('[data-stat=answers]').textContent.trim() === n", arg=answers, timeout=15000)


def table_questions(page) -> list[str]:
    return [q.strip() for q in page.locator("#last-answers tbody tr td:nth-child(2)").all_inner_texts()]


def test_dashboard_renders_charts_with_data_in_chromium(browser, live):
    url = live["url"]
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, timezone_id="UTC")
    page = context.new_page()
    errors, foreign = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("request", lambda req: foreign.append(req.url) if not req.url.startswith(url) else None)

    page.goto(f"{url}/dashboard?from=now-1h")
    wait_ready(page, "7")
    assert page.locator("#range").input_value() == "now-1h"
    assert stat(page, "conversations") == "4 conversations"
    assert stat(page, "feedback") == "3 / 2"
    assert stat(page, "feedback_ratio") == "60.0% positive"
    assert stat(page, "no_sources") == "2"
    assert stat(page, "total_tokens") == "750"
    assert stat(page, "cost") == "$0.0100"
    assert stat(page, "response_time") == "1.00 s"
    assert stat(page, "response_time_sub") == "p95 2.85 s · avg 1.23 s"
    assert stat(page, "ttft") == "400 ms"
    assert stat(page, "ttft_sub") == "p95 585 ms · streamed answers"
    expected_store = "sqlite:" if live["store"] == "sqlite" else "postgresql://127.0.0.1"
    assert expected_store in page.locator("#store").inner_text()

    # every chart drew SVG marks for the data: exact counts where the buckets do not depend on the clock
    points = {}
    for name in CHARTS:
        chart = page.locator(f'[data-chart="{name}"]')
        assert chart.get_attribute("data-rendered") == "1", name
        points[name] = int(chart.get_attribute("data-points"))
        assert chart.locator("svg").count() == 1, name
        assert points[name] > 0, f"chart {name} drew nothing"
    assert points["feedback"] == 2 and points["relevance"] == 4
    assert points["models"] == 2 and points["relevance_by_model"] == 4
    assert page.locator('[data-chart="requests"] rect.bar').count() == points["requests"]
    assert page.locator('[data-chart="tokens"] rect.bar').count() == points["tokens"] >= 2
    assert page.locator('[data-chart="latency"] path.series').count() == 4
    heights = page.locator('[data-chart="requests"] rect.bar').evaluate_all(
        "rects => rects.map(r => r.getBBox().height)")
    assert heights and all(h >= 1 for h in heights)
    assert table_questions(page) == [QUESTIONS[n] for n in LAST_FIVE]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{live['store']}.png"), full_page=True)

    # the range selector: the last 15 minutes hold only a7 and its +1
    page.select_option("#range", "now-15m")
    wait_ready(page, "1")
    assert stat(page, "feedback") == "1 / 0"
    assert table_questions(page) == [QUESTIONS["a7"]]
    assert page.locator('[data-chart="relevance_by_model"]').get_attribute("data-points") == "1"
    assert "from=now-15m" in page.url

    # a custom range (from the page URL, as the selector writes it): a3, a4 and a5
    base = live["base"]
    frm = (base + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    to = (base + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    page.goto(f"{url}/dashboard?from={frm}&to={to}")
    wait_ready(page, "3")
    assert page.locator("#range").input_value() == "custom"
    assert page.locator("#custom").is_visible()
    assert table_questions(page) == [QUESTIONS[n] for n in ("a5", "a4", "a3")]
    assert stat(page, "feedback") == "1 / 2"

    # user text is shown as text, never run as HTML
    page.goto(f"{url}/dashboard?from=now-15m")
    wait_ready(page, "1")
    hostile = '<img src=x onerror="window.__pwned=1"><b>Alien</b>'
    live["log"].save_answer(AnswerRecord(id="xss", conversation_id="xss", turn=1, question=hostile,
                                         answer="<script>window.__pwned=2</script>", model_used="composer",
                                         response_time=0.1))
    page.click("#refresh")
    wait_ready(page, "2")
    assert table_questions(page)[0] == hostile
    assert page.locator("#last-answers img, #last-answers b, #last-answers script").count() == 0
    assert page.evaluate("window.__pwned") is None

    assert not errors, errors
    assert not foreign, f"the page loaded from elsewhere: {foreign}"
    context.close()


SECONDS_CHARTS = ["response_time", "latency", "ttft"]


def tick_units(page, name: str) -> set[str]:
    ticks = page.locator(f'[data-chart="{name}"] text.tick').all_text_contents()
    assert ticks, name
    return {t.split()[-1] for t in ticks}


@pytest.mark.parametrize("live", ["sqlite"], indirect=True)
def test_a_short_history_reads_as_joined_labelled_points_with_one_unit_per_axis(browser, live):
    """The seeded hour of answers shown over the last hour (10-minute buckets with gaps) and over the last
    24 hours, where it is a handful of points: lines join them, each point has its value, units agree."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, timezone_id="UTC")
    page = context.new_page()
    failures = []
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    for query, answers in (("from=now-1h", "7"), ("from=now-24h", "8")):  # a8, 85 minutes ago, joins the day
        page.goto(f"{live['url']}/dashboard?{query}")
        wait_ready(page, answers)
        for name in SECONDS_CHARTS:
            units = tick_units(page, name)
            assert len(units) == 1 and units <= {"ms", "s"}, (query, name, units)
        ttft_unit = "ms" if answers == "7" else "s"  # under 0.6 s in the hour; a8's 5 s joins the day
        assert tick_units(page, "ttft") == {ttft_unit}
        ttft = page.locator('[data-chart="ttft"]')
        points = int(ttft.get_attribute("data-points"))
        assert points >= 2, query
        # the points of each series are joined, across empty buckets too: no isolated dots
        joined = ttft.locator("path.series, path.series-gap").evaluate_all(
            "paths => paths.map(p => p.getAttribute('d')).join('')")
        assert joined.count("L") >= points - 2, (query, joined)
        labels = ttft.locator("text.value-label").all_text_contents()
        assert len(labels) > points // 2 and all(label.endswith(f" {ttft_unit}") for label in labels), labels
        assert ttft.locator("circle.point title").count() == points  # and every point its tooltip
        bars = page.locator('[data-chart="requests"] rect.bar').count()
        assert page.locator('[data-chart="requests"] text.value-label').count() == bars > 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-sparse.png"), full_page=True)
    assert not failures, failures
    context.close()


@pytest.mark.parametrize("live", ["sqlite"], indirect=True)
def test_dashboard_has_no_serious_accessibility_violations(browser, live):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{live['url']}/dashboard?from=now-1h")
    wait_ready(page, "7")
    assert serious_violations(page) == []
    context.close()
