"""Who may call what: the optional API key on write and admin endpoints, and CORS (off by default).

With API_KEY set, the endpoints in PROTECTED_ENDPOINTS need `Authorization: Bearer <key>` or
`X-API-Key: <key>` (compared in constant time) and answer 401 JSON otherwise. The chat page shell
(GET /), the dashboard page shell, /health, /search and /openapi.json stay open. The key is never
logged or echoed.

CORS: no Access-Control-Allow-Origin header at all unless CORS_ORIGINS lists the origin (or `*`).
"""

from __future__ import annotations

import hmac

from flask import Flask, jsonify, request

# Writes to the log (questions, feedback) and the admin views (monitoring numbers, metrics).
PROTECTED_ENDPOINTS = frozenset({
    "questions.ask", "questions.ask_stream", "questions.feedback", "dashboard.data", "metrics.metrics_endpoint",
})
CORS_ALLOW_HEADERS = "Content-Type, Accept, Authorization, X-API-Key"


def presented_key() -> str:
    """The key the request carries (Bearer token first, then X-API-Key); '' when none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("X-API-Key", "").strip()


def protected_paths(app: Flask) -> set[str]:
    """URL rules that need the key now (none when API_KEY is empty)."""
    if not app.config["SETTINGS"].api_key:
        return set()
    return {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint in PROTECTED_ENDPOINTS}


def register(app: Flask) -> None:
    """Adds the API key check and the CORS headers to `app` (after its blueprints are registered)."""
    settings = app.config["SETTINGS"]
    unknown = PROTECTED_ENDPOINTS - set(app.view_functions)
    if unknown:  # a renamed route must not silently lose its protection
        raise RuntimeError(f"protected endpoints that do not exist: {', '.join(sorted(unknown))}")
    expected = settings.api_key.encode()

    @app.before_request
    def _require_key():
        if not expected or request.method == "OPTIONS" or request.endpoint not in PROTECTED_ENDPOINTS:
            return None
        if hmac.compare_digest(presented_key().encode(), expected):
            return None
        response = jsonify({"error": "this endpoint needs the API key: send Authorization: Bearer <key> "
                                     "or X-API-Key: <key>"})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="movies-assistant"'
        return response

    origins = settings.cors_origin_list
    if not origins:
        return

    @app.after_request
    def _allow_origin(response):
        origin = request.headers.get("Origin")
        if origin and ("*" in origins or origin in origins):
            response.headers["Access-Control-Allow-Origin"] = "*" if "*" in origins else origin
            response.vary.add("Origin")
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
                response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
                response.headers["Access-Control-Max-Age"] = "600"
        return response
