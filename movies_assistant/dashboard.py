"""`GET /dashboard`: the built-in monitoring page, and `GET /dashboard/data`, the numbers it draws.

The page (templates/dashboard.html, static/dashboard.js, static/dashboard.css) has no build step and
loads nothing from outside the app: its charts are SVG drawn by dashboard.js. The numbers come from
`logstore.queries.dashboard_metrics`, the same code for SQLite and PostgreSQL.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from .app import BadRequest, services
from .logstore.queries import BUCKET_STEPS, TimeRange, dashboard_metrics

dashboard = Blueprint("dashboard", __name__, static_folder="static", static_url_path="/dashboard/static")

RANGES = [("now-15m", "Last 15 minutes"), ("now-1h", "Last hour"), ("now-6h", "Last 6 hours"),
          ("now-24h", "Last 24 hours"), ("now-7d", "Last 7 days"), ("now-30d", "Last 30 days")]
DEFAULT_RANGE = "now-24h"
MAX_RANGE_DAYS = 400


@dashboard.get("/dashboard")
def page():
    return render_template("dashboard.html", ranges=RANGES, default_range=DEFAULT_RANGE)


@dashboard.get("/dashboard/data")
def data():
    """JSON for `from`..`to` (now, now-15m, epoch ms or ISO 8601; default the last 24 hours)."""
    try:
        rng = TimeRange.parse(request.args.get("from"), request.args.get("to"), default_start=DEFAULT_RANGE)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    if rng.seconds > MAX_RANGE_DAYS * 86400:
        raise BadRequest(f"the range is longer than {MAX_RANGE_DAYS} days")
    bucket = request.args.get("bucket")
    if bucket is not None:
        if not bucket.isdigit() or int(bucket) not in BUCKET_STEPS:
            raise BadRequest(f"bucket must be one of {', '.join(map(str, BUCKET_STEPS))} (seconds)")
        if rng.seconds / int(bucket) > 2000:
            raise BadRequest("bucket is too small for this range (more than 2000 buckets)")
    log = services().log
    body = dashboard_metrics(log, rng, int(bucket) if bucket else None)
    body["store_description"] = log.describe()
    return jsonify(body)
