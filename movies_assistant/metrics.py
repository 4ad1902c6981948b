"""`GET /metrics`: Prometheus text format (0.0.4), written by hand.

Counts every HTTP request by method, route and status, and observes its duration in a histogram with
fixed buckets, per method and route (for a streamed response, the time until its body starts).
Routes are the URL rules (`/question`, `/dashboard/data`), never raw paths, so a client cannot grow
the label set; requests that match no route count as `unmatched`.

The numbers live in this process only: under gunicorn with several workers each worker counts its
own requests, and a scrape sees whichever worker answered it. Run one worker (with threads), or
scrape each worker, where exact totals matter. The log store (and /dashboard) keeps the durable
per-answer numbers.
"""

from __future__ import annotations

import threading
import time

from flask import Blueprint, Flask, Response, g, request

PREFIX = "movies_assistant"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs) -> str:
    return "{" + ",".join(f'{name}="{_escape(str(value))}"' for name, value in pairs) + "}" if pairs else ""


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if isinstance(value, float) else str(value)


class Metrics:
    """Request counters and a latency histogram, safe to update from many threads."""

    def __init__(self, buckets: tuple[float, ...] = BUCKETS):
        self.buckets = tuple(sorted(buckets))
        self.started = time.time()
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = {}
        self._histograms: dict[tuple[str, str], list] = {}  # (method, route) -> [bucket counts, sum, count]
        self._in_flight = 0

    def begin(self) -> None:
        with self._lock:
            self._in_flight += 1

    def end(self) -> None:
        with self._lock:
            self._in_flight = max(self._in_flight - 1, 0)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (method, route, str(status))
            self._requests[key] = self._requests.get(key, 0) + 1
            counts, total, n = self._histograms.get((method, route)) or ([0] * len(self.buckets), 0.0, 0)
            for i, bound in enumerate(self.buckets):
                if seconds <= bound:
                    counts[i] += 1
            self._histograms[(method, route)] = [counts, total + seconds, n + 1]

    def render(self) -> str:
        with self._lock:
            requests = sorted(self._requests.items())
            histograms = sorted((k, (list(v[0]), v[1], v[2])) for k, v in self._histograms.items())
            in_flight = self._in_flight
        lines = [
            f"# HELP {PREFIX}_http_requests_total HTTP requests handled, by method, route and status code.",
            f"# TYPE {PREFIX}_http_requests_total counter",
        ]
        for (method, route, status), n in requests:
            lines.append(f"{PREFIX}_http_requests_total"
                         f"{_labels([('method', method), ('route', route), ('status', status)])} {n}")
        name = f"{PREFIX}_http_request_duration_seconds"
        lines += [f"# HELP {name} Time to handle an HTTP request, by method and route.", f"# TYPE {name} histogram"]
        for (method, route), (counts, total, n) in histograms:
            base = [("method", method), ("route", route)]
            for bound, c in zip(self.buckets, counts):
                lines.append(f"{name}_bucket{_labels(base + [('le', _number(bound))])} {c}")
            lines.append(f"{name}_bucket{_labels(base + [('le', '+Inf')])} {n}")
            lines.append(f"{name}_sum{_labels(base)} {_number(total)}")
            lines.append(f"{name}_count{_labels(base)} {n}")
        lines += [
            f"# HELP {PREFIX}_http_requests_in_flight HTTP requests being handled now.",
            f"# TYPE {PREFIX}_http_requests_in_flight gauge",
            f"{PREFIX}_http_requests_in_flight {in_flight}",
            "# HELP process_start_time_seconds Start time of this process, seconds since the Unix epoch.",
            "# TYPE process_start_time_seconds gauge",
            f"process_start_time_seconds {_number(self.started)}",
        ]
        return "\n".join(lines) + "\n"


blueprint = Blueprint("metrics", __name__)


@blueprint.get("/metrics")
def metrics_endpoint():
    from flask import current_app

    return Response(current_app.extensions["movies_assistant_metrics"].render(), content_type=CONTENT_TYPE)


def register(app: Flask) -> Metrics:
    """Adds `GET /metrics` and the hooks that time every request of `app`."""
    metrics = Metrics()
    app.extensions["movies_assistant_metrics"] = metrics
    app.register_blueprint(blueprint)

    @app.before_request
    def _start_timer():
        g._metrics_started = time.perf_counter()
        g._metrics_in_flight = True
        metrics.begin()

    @app.after_request
    def _record(response):
        started = g.pop("_metrics_started", None)
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            metrics.observe(request.method, route, response.status_code, time.perf_counter() - started)
        return response

    @app.teardown_request
    def _finished(exc):
        if g.pop("_metrics_in_flight", False):
            metrics.end()

    return metrics
