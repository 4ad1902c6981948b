"""The Grafana dashboard: its JSON, and every panel's SQL run on real PostgreSQL with the app's schema.

Each panel's rawSql gets Grafana's macros expanded the way Grafana's PostgreSQL datasource expands
them (pkg/tsdb/grafana-postgresql-datasource/macros.go and sqleng's $__interval substitution), for
the range [BASE, BASE + 1h] and a 10-minute $__interval, and runs on a database migrated and
filled through the real LogStore (tests/monitoring_data.py). The columns and values each panel gets
are checked, and so is their agreement with the built-in dashboard's query layer on the same rows.

Needs TEST_POSTGRES_URL (see conftest.py); skipped without it unless REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import yaml

from movies_assistant.config import ROOT
from movies_assistant.logstore import LogStore
from movies_assistant.logstore.connections import PostgresConnections
from movies_assistant.logstore.queries import TimeRange, dashboard_metrics
from tests.monitoring_data import ANSWERS, BASE, BUCKET, BUCKETS, EXPECTED, IN_RANGE, LAST_FIVE, QWEN, epoch, seed

DASHBOARD = ROOT / "grafana" / "dashboards" / "movies-assistant.json"
DATASOURCE = ROOT / "grafana" / "provisioning" / "datasources" / "postgres.yaml"
PROVIDER = ROOT / "grafana" / "provisioning" / "dashboards" / "dashboards.yaml"
FROM, TO = BASE, BASE + timedelta(hours=1)
INTERVAL = timedelta(seconds=BUCKET)


# --- Grafana's macro expansion ---------------------------------------------------------------------

def rfc3339nano(moment: datetime) -> str:
    """Go's time.RFC3339Nano of a UTC time: trailing zeros of the fraction dropped, 'Z' for UTC."""
    moment = moment.astimezone(timezone.utc)
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def format_interval(interval: timedelta) -> str:
    """gtime.FormatInterval for whole units."""
    ms = int(interval.total_seconds() * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def parse_interval(text: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)", text.strip().strip("'"))
    assert match, f"Grafana cannot parse the interval {text!r}"
    size = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}[match.group(2)]
    return float(match.group(1)) * size


def seconds(value: float) -> str:
    """Go's %v of a float64 number of seconds (600 -> 600, 0.5 -> 0.5)."""
    return str(int(value)) if float(value).is_integer() else repr(value)


def expand_macros(sql: str, frm: datetime, to: datetime, interval: timedelta) -> str:
    sql = sql.replace("$__interval_ms", str(int(interval.total_seconds() * 1000)))
    sql = sql.replace("$__interval", format_interval(interval))
    sql = sql.replace("$__unixEpochFrom()", str(int(frm.timestamp()))).replace("$__unixEpochTo()", str(int(to.timestamp())))

    def macro(match: re.Match) -> str:
        name, args = match.group(1), [a.strip() for a in match.group(2).split(",")]
        if name == "__timeGroup" and sql[match.end():match.end() + 1] == ",":
            name = "__timeGroupAlias"
        if name == "__time":
            return f'{args[0]} AS "time"'
        if name == "__timeEpoch":
            return f'extract(epoch from {args[0]}) as "time"'
        if name == "__timeFilter":
            return f"{args[0]} BETWEEN '{rfc3339nano(frm)}' AND '{rfc3339nano(to)}'"
        if name == "__timeFrom":
            return f"'{rfc3339nano(frm)}'"
        if name == "__timeTo":
            return f"'{rfc3339nano(to)}'"
        if name in ("__timeGroup", "__timeGroupAlias"):
            assert len(args) >= 2, f"{name} needs a column and an interval"
            step = seconds(parse_interval(args[1]))
            group = f"floor(extract(epoch from {args[0]})/{step})*{step}"
            return group + (' AS "time"' if name == "__timeGroupAlias" else "")
        if name == "__unixEpochFilter":
            return f"{args[0]} >= {int(frm.timestamp())} AND {args[0]} <= {int(to.timestamp())}"
        raise AssertionError(f"macro ${name} is not one Grafana's PostgreSQL datasource knows")

    expanded = re.sub(r"\$([_a-zA-Z0-9]+)\(([^\)]*)\)", macro, sql)
    assert "$" not in expanded, f"unexpanded variable left in: {expanded}"
    return expanded


def test_macro_expansion_matches_grafana():
    frm = datetime(2017, 7, 18, 11, 15, 52, tzinfo=timezone.utc)
    to = datetime(2017, 7, 18, 11, 25, 52, 500000, tzinfo=timezone.utc)
    sql = ("SELECT $__timeGroupAlias(t, $__interval), $__timeGroup(t, '5m') AS g, COUNT(*) * 1000.0 / $__interval_ms "
           "FROM x WHERE $__timeFilter(t) AND t > $__timeFrom() AND t <= $__timeTo()")
    assert expand_macros(sql, frm, to, timedelta(minutes=1)) == (
        'SELECT floor(extract(epoch from t)/60)*60 AS "time", floor(extract(epoch from t)/300)*300 AS g, '
        "COUNT(*) * 1000.0 / 60000 FROM x WHERE t BETWEEN '2017-07-18T11:15:52Z' AND '2017-07-18T11:25:52.5Z' "
        "AND t > '2017-07-18T11:15:52Z' AND t <= '2017-07-18T11:25:52.5Z'"
    )
    with pytest.raises(AssertionError):
        expand_macros("SELECT $__nope(t)", frm, to, timedelta(minutes=1))


# --- the dashboard JSON ------------------------------------------------------------------------------

def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def panels() -> list[dict]:
    return dashboard()["panels"]


def test_dashboard_json_is_consistent():
    board = dashboard()
    (datasource,) = yaml.safe_load(DATASOURCE.read_text())["datasources"]
    provider = yaml.safe_load(PROVIDER.read_text())["providers"][0]
    assert provider["type"] == "file" and board["uid"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), f"duplicate panel ids: {ids}"
    titles = [p["title"] for p in board["panels"]]
    assert len(titles) == len(set(titles)), f"duplicate titles: {titles}"
    cells = {}
    for panel in board["panels"]:
        assert panel["datasource"] == {"type": datasource["type"], "uid": datasource["uid"]}, panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"], panel["title"]
            assert target["rawQuery"] is True and target["format"] in ("table", "time_series"), panel["title"]
            assert "$__timeFilter(timestamp)" in target["rawSql"], f"{panel['title']} ignores the time range"
            if target["format"] == "time_series":
                assert panel["type"] == "timeseries", panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]
    assert set(PANELS) == set(titles), "every panel needs its expectation in PANELS (and every expectation a panel)"
    # the seed project's six panels are still there
    seed_six = {"Last 5 conversations": "table", "+1/-1 feedback": "piechart", "Relevance": "gauge",
                "Model used": "barchart", "Tokens": "timeseries", "Response time": "timeseries"}
    kinds = {p["title"]: p["type"] for p in board["panels"]}
    assert {t: kinds.get(t) for t in seed_six} == seed_six


# --- running the panels ------------------------------------------------------------------------------

def t(minute: float) -> int:
    return epoch(minute)


def last_five_rows():
    by_name = {a[0]: a for a in ANSWERS}
    return [(t(by_name[n][1]), by_name[n][4], f"Answer to: {by_name[n][4]}", by_name[n][13], by_name[n][5], by_name[n][6])
            for n in LAST_FIVE]


def response_time_rows():
    return sorted((t(a[1]), a[6]) for a in ANSWERS if a[0] in IN_RANGE)


# title -> (columns, rows) for the seeded data over [FROM, TO] with $__interval = 10m
PANELS = {
    "Last 5 conversations": (["time", "question", "answer", "relevance", "model_used", "response_time"], last_five_rows),
    "+1/-1 feedback": (["thumbs up", "thumbs down"], [(3, 2)]),
    "Relevance": (["RELEVANT", "PARTLY_RELEVANT", "NON_RELEVANT", "UNJUDGED"], [(2, 1, 1, 3)]),
    "Model used": (["model_used", "answers"], [(QWEN, 4), ("composer", 3)]),
    "Tokens": (["time", "prompt_tokens", "completion_tokens", "total_tokens"],
               [(t(0), 0, 0, 0), (t(10), 420, 230, 650), (t(30), 0, 0, 0), (t(50), 50, 50, 100)]),
    "Response time": (["time", "response_time"], response_time_rows),
    "Requests per minute": (["time", "requests per minute"], [(t(0), 0.2), (t(10), 0.3), (t(30), 0.1), (t(50), 0.1)]),
    "Latency p50 / p95: retrieval and generation": (
        ["time", "retrieval p50", "retrieval p95", "generation p50", "generation p95"],
        [(t(0), 0.035, 0.0485, 0.115, 0.1465), (t(10), 0.2, 0.29, 2.3, 2.66), (t(30), 0.1, 0.1, 0.2, 0.2),
         (t(50), 0.1, 0.1, 0.9, 0.9)]),
    "Time to first token": (["time", "ttft p50", "ttft p95"], [(t(10), 0.5, 0.59), (t(50), 0.2, 0.2)]),
    "Cost": (["time", "cost"], [(t(0), 0.0), (t(10), 0.009), (t(30), 0.0), (t(50), 0.001)]),
    "Answers with no sources": (["time", "no sources", "share of answers"],
                                [(t(0), 1, 0.5), (t(10), 0, 0.0), (t(30), 1, 1.0), (t(50), 0, 0.0)]),
    "Relevance by model": (["model_used", "RELEVANT", "PARTLY_RELEVANT", "NON_RELEVANT", "UNJUDGED"],
                           [("composer", 0, 0, 0, 3), (QWEN, 2, 1, 1, 0)]),
    "Feedback ratio": (["time", "share of +1"], [(t(0), 1.0), (t(10), 1 / 3), (t(50), 1.0)]),
}
# What each panel shows when the range holds nothing.
EMPTY = {"+1/-1 feedback": [(0, 0)], "Relevance": [(0, 0, 0, 0)]}


def normalise(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, date):
        raise AssertionError("a date column without time")
    return value


def assert_rows(actual: list[tuple], expected: list[tuple], title: str) -> None:
    assert len(actual) == len(expected), f"{title}: {actual} != {expected}"
    for got_row, want_row in zip(actual, expected):
        assert len(got_row) == len(want_row), f"{title}: {got_row} != {want_row}"
        for got, want in zip(got_row, want_row):
            if isinstance(want, (int, float)) and not isinstance(want, bool):
                assert isinstance(got, (int, float)) and got == pytest.approx(want, rel=1e-9, abs=1e-12), \
                    f"{title}: {got_row} != {want_row}"
            else:
                assert got == want, f"{title}: {got_row} != {want_row}"


@pytest.fixture
def grafana_db(postgres_url):
    """The app's schema on a fresh PostgreSQL database, filled with the known conversations."""
    log = LogStore(PostgresConnections(postgres_url))
    log.migrate()
    seed(log)
    yield log
    log.connections._pool.closeall()


def run_panel(log: LogStore, panel: dict, frm=FROM, to=TO, interval=INTERVAL) -> tuple[list[str], list[tuple]]:
    (target,) = panel["targets"]
    sql = expand_macros(target["rawSql"], frm, to, interval)
    with log.connections.connect() as conn:
        cur = conn.cursor()
        cur.execute(sql)
        columns = [d.name for d in cur.description]
        rows = [tuple(normalise(v) for v in row) for row in cur.fetchall()]
    return columns, rows


@pytest.mark.parametrize("title", list(PANELS))
def test_panel_query_on_seeded_postgres(grafana_db, title):
    (panel,) = [p for p in panels() if p["title"] == title]
    columns, rows = run_panel(grafana_db, panel)
    want_columns, want_rows = PANELS[title]
    assert columns == want_columns, title
    assert_rows(rows, want_rows() if callable(want_rows) else want_rows, title)
    if panel["targets"][0]["format"] == "time_series":
        times = [r[0] for r in rows]
        assert times == sorted(times), f"{title}: Grafana needs time series sorted by time"


def test_every_panel_respects_the_time_range(grafana_db):
    """A range with no answers in it gives every panel nothing (or zeros)."""
    frm = FROM - timedelta(days=30)
    for panel in panels():
        columns, rows = run_panel(grafana_db, panel, frm, frm + timedelta(hours=1))
        assert columns == PANELS[panel["title"]][0]
        assert rows == EMPTY.get(panel["title"], []), panel["title"]
    # and a narrower range keeps only its own answers
    (tokens,) = [p for p in panels() if p["title"] == "Tokens"]
    _, rows = run_panel(grafana_db, tokens, FROM + timedelta(minutes=10), FROM + timedelta(minutes=20))
    assert_rows(rows, [(t(10), 420, 230, 650)], "Tokens 10:10-10:20")


def test_panels_agree_with_the_builtin_dashboard(grafana_db):
    """The Grafana panels and /dashboard's query layer give the same numbers for the same rows."""
    data = dashboard_metrics(grafana_db, TimeRange(FROM, TO), BUCKET)
    series = data["series"]
    assert series["time"] == [t(m) for m in BUCKETS]
    index = {time: i for i, time in enumerate(series["time"])}
    columns_to_series = {
        "Tokens": {"prompt_tokens": "prompt_tokens", "completion_tokens": "completion_tokens", "total_tokens": "total_tokens"},
        "Requests per minute": {"requests per minute": "requests_per_minute"},
        "Latency p50 / p95: retrieval and generation": {
            "retrieval p50": "retrieval_p50", "retrieval p95": "retrieval_p95",
            "generation p50": "generation_p50", "generation p95": "generation_p95"},
        "Time to first token": {"ttft p50": "ttft_p50", "ttft p95": "ttft_p95"},
        "Cost": {"cost": "cost"},
        "Answers with no sources": {"no sources": "no_sources", "share of answers": "no_sources_rate"},
        "Feedback ratio": {"share of +1": "feedback_ratio"},
    }
    by_title = {p["title"]: p for p in panels()}
    for title, mapping in columns_to_series.items():
        columns, rows = run_panel(grafana_db, by_title[title])
        assert rows, title
        for row in rows:
            values = dict(zip(columns, row))
            i = index[int(values["time"])]
            for column, key in mapping.items():
                assert series[key][i] == pytest.approx(values[column], rel=1e-9, abs=1e-12), (title, column, row)
        seen = {int(r[0]) for r in rows}
        for key in mapping.values():  # buckets Grafana has no row for are empty in the layer too
            for time, value in zip(series["time"], series[key]):
                if time not in seen:
                    assert value in (None, 0), (title, key, time, value)

    _, [(up, down)] = run_panel(grafana_db, by_title["+1/-1 feedback"])
    assert data["feedback"] == {"up": up, "down": down}
    columns, [row] = run_panel(grafana_db, by_title["Relevance"])
    assert data["relevance"] == dict(zip(columns, row))
    _, rows = run_panel(grafana_db, by_title["Model used"])
    assert [(m["model"], m["answers"]) for m in data["models"]] == rows
    columns, rows = run_panel(grafana_db, by_title["Relevance by model"])
    assert data["relevance_by_model"] == [dict(zip(["model", *columns[1:]], r)) for r in rows]
    _, rows = run_panel(grafana_db, by_title["Last 5 conversations"])
    assert [a["question"] for a in data["last_answers"]] == [r[1] for r in rows]
    assert [datetime.fromisoformat(a["timestamp"]).timestamp() for a in data["last_answers"]] == [r[0] for r in rows]
    _, rows = run_panel(grafana_db, by_title["Response time"])
    assert data["summary"]["answers"] == len(rows) == EXPECTED["summary"]["answers"]
