"""`GET /metrics`: Prometheus text format, request counters per route and status, latency histograms.

The exposition is parsed strictly here (comments, names, labels, values, histogram invariants), so a
malformed line fails the test rather than a scrape in production.
"""

from __future__ import annotations

import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from movies_assistant.metrics import BUCKETS, CONTENT_TYPE, Metrics
from .conftest import serving

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(\{{(?:{LABEL}(?:,{LABEL})*)?\}})? (\S+)$")
LABEL_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def parse(text: str) -> dict:
    """{metric family: {"type", "help", "samples": [(name, labels, value)]}}; asserts the format."""
    assert text.endswith("\n")
    families: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        assert line == line.strip() and line, f"blank or padded line {line!r}"
        if line.startswith("# HELP "):
            _, _, name, help_text = line.split(" ", 3)
            assert name not in families, f"{name} described twice"
            families[name] = {"help": help_text, "type": None, "samples": []}
            current = name
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name == current and families[name]["type"] is None, f"TYPE {name} must follow its HELP"
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped")
            families[name]["type"] = kind
        else:
            assert not line.startswith("#"), line
            match = SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name, labels, value = match.groups()
            family = families[current]
            suffixes = ("_bucket", "_sum", "_count") if family["type"] == "histogram" else ("",)
            assert any(name == current + s for s in suffixes), f"{name} under {current}"
            pairs = LABEL_PAIR.findall(labels or "")
            unescaped = {k: v.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\") for k, v in pairs}
            assert len(unescaped) == len(pairs), f"duplicate label in {line!r}"
            family["samples"].append((name, unescaped, float(value)))
    for name, family in families.items():
        assert family["type"], f"{name} has no TYPE"
    return families


def check_histogram(family: dict) -> dict:
    """Histogram invariants per label set; returns {(method, route): (buckets, sum, count)}."""
    series: dict = {}
    for name, labels, value in family["samples"]:
        key = (labels["method"], labels["route"])
        entry = series.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if name.endswith("_bucket"):
            entry["buckets"].append((labels["le"], value))
        elif name.endswith("_sum"):
            entry["sum"] = value
        else:
            entry["count"] = value
    result = {}
    for key, entry in series.items():
        bounds = [le for le, _ in entry["buckets"]]
        assert bounds[-1] == "+Inf" and [float(b) for b in bounds[:-1]] == list(BUCKETS), key
        counts = [v for _, v in entry["buckets"]]
        assert counts == sorted(counts), f"{key}: buckets must be cumulative"
        assert counts[-1] == entry["count"] and entry["sum"] >= 0, key
        result[key] = (dict(entry["buckets"]), entry["sum"], entry["count"])
    return result


def requests_total(families: dict) -> dict:
    return {(l["method"], l["route"], l["status"]): v
            for _, l, v in families["movies_assistant_http_requests_total"]["samples"]}


def test_metrics_count_requests_by_route_and_status(client):
    assert client.post("/question", json={"question": "Alien cast"}).status_code == 200
    answer = client.post("/question", json={"question": "Who directed Heat?"}).get_json()
    assert client.post("/question", json={"question": ""}).status_code == 400
    assert client.post("/feedback", json={"conversation_id": answer["conversation_id"], "feedback": 1}).status_code == 200
    assert client.post("/feedback", json={"conversation_id": "9b2f4c7e-0000-4000-8000-000000000000",
                                          "feedback": 1}).status_code == 404
    assert client.get("/health").status_code == 200
    for path in ("/nope", "/nope/2", "/<script>"):
        assert client.get(path).status_code == 404

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE
    families = parse(response.get_data(as_text=True))
    assert families["movies_assistant_http_requests_total"]["type"] == "counter"
    assert requests_total(families) == {
        ("POST", "/question", "200"): 2,
        ("POST", "/question", "400"): 1,
        ("POST", "/feedback", "200"): 1,
        ("POST", "/feedback", "404"): 1,
        ("GET", "/health", "200"): 1,
        ("GET", "unmatched", "404"): 3,  # unknown paths never become labels
    }
    histograms = check_histogram(families["movies_assistant_http_request_duration_seconds"])
    assert set(histograms) == {("POST", "/question"), ("POST", "/feedback"), ("GET", "/health"), ("GET", "unmatched")}
    assert histograms[("POST", "/question")][2] == 3
    assert histograms[("GET", "unmatched")][2] == 3
    assert families["movies_assistant_http_request_duration_seconds"]["type"] == "histogram"
    # the scrape itself is the one request in flight; the next scrape counts this one
    (in_flight,) = families["movies_assistant_http_requests_in_flight"]["samples"]
    assert in_flight[2] == 1
    again = parse(client.get("/metrics").get_data(as_text=True))
    assert requests_total(again)[("GET", "/metrics", "200")] == 1
    assert families["process_start_time_seconds"]["samples"][0][2] > 1.6e9


def test_histogram_buckets_and_label_escaping():
    metrics = Metrics()
    for seconds in (0.003, 0.3, 0.3, 100.0):
        metrics.observe("GET", 'odd "route"\\\n', 200, seconds)
    families = parse(metrics.render())
    (labels,) = {tuple(sorted(l.items())) for _, l, _ in families["movies_assistant_http_requests_total"]["samples"]}
    assert dict(labels)["route"] == 'odd "route"\\\n'
    ((buckets, total, count),) = check_histogram(families["movies_assistant_http_request_duration_seconds"]).values()
    assert count == 4 and total == pytest.approx(100.603)
    assert buckets["0.005"] == 1 and buckets["0.25"] == 1 and buckets["0.5"] == 3 and buckets["60.0"] == 3
    assert buckets["+Inf"] == 4


def test_metrics_are_exact_under_concurrent_requests(app):
    """A real threaded server: 40 requests from 8 threads are all counted, once each."""
    with serving(app) as url:
        def get(_):
            with urllib.request.urlopen(f"{url}/health", timeout=30) as r:
                return r.status

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(get, range(40))) == [200] * 40
        with urllib.request.urlopen(f"{url}/metrics", timeout=30) as r:
            families = parse(r.read().decode())
    assert requests_total(families)[("GET", "/health", "200")] == 40
    assert check_histogram(families["movies_assistant_http_request_duration_seconds"])[("GET", "/health")][2] == 40
